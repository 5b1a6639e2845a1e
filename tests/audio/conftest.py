"""Fixtures for the audio build: tiny scripts in tmp dirs and network-free engines."""

from __future__ import annotations

import math
import socket
import struct
import wave
from collections.abc import Callable
from pathlib import Path

import pytest

from skill.audio.engines import Engine, GTTSEngine
from skill.audio.errors import EngineUnavailableError, SynthesisError
from skill.audio.pipeline import Builder, BuildOptions


class ToneEngine:
    """A stand-in speech engine: a quiet tone whose length follows the text (0.04 s a char)."""

    suffix = ".wav"

    def __init__(self, name: str = "tone:a", hz: float = 440.0) -> None:
        self.name = name
        self.hz = hz
        self.calls: list[str] = []

    def check(self) -> None:
        """Always runs."""

    def synthesize(self, text: str, out_path: Path) -> None:
        """Write 16 kHz mono WAV."""
        self.calls.append(text)
        rate = 16000
        frames = int(max(0.3, 0.04 * len(text)) * rate)
        data = b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * self.hz * i / rate)))
                        for i in range(frames))
        with wave.open(str(out_path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(rate)
            out.writeframes(data)


class CrashingEngine(ToneEngine):
    """An engine that always crashes."""

    def synthesize(self, text: str, out_path: Path) -> None:
        """Raise like a crashed engine."""
        raise SynthesisError("tone:crash segfaulted")


class MissingEngine(ToneEngine):
    """An engine that is not installed."""

    def check(self) -> None:
        """Never runs."""
        raise EngineUnavailableError("missing-engine is not installed")


class ReachableGTTS(GTTSEngine):
    """gTTS as if its service answered: validates like gTTS, speaks a tone."""

    suffix = ".wav"

    def check(self) -> None:
        """The service is 'reachable'."""

    def synthesize(self, text: str, out_path: Path) -> None:
        """Speak a tone instead of calling the service."""
        ToneEngine().synthesize(text, out_path)


def closed_port() -> int:
    """A loopback port nothing listens on (connections are refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def unreachable_gtts(locale: str) -> GTTSEngine:
    """The real gTTS engine, probing a refused loopback port instead of the service."""
    return GTTSEngine(locale, timeout_s=0.5, probe_host="127.0.0.1", probe_port=closed_port())


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A tmp folder with ``scripts/`` holding one en-US intro and one ja-JP lesson."""
    write_script(tmp_path, "en-US", "intro-calm", "Breathe in.\n[pause 1]\nAnd out.\n")
    write_script(tmp_path, "ja-JP", "lesson-small", "小さなお願いから。\n\n始めてみましょう。\n")
    return tmp_path


def write_script(root: Path, locale: str, clip_id: str, text: str) -> Path:
    """Write ``root/scripts/<locale>/<clip_id>.txt``."""
    path = root / "scripts" / locale / f"{clip_id}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


MakeBuilder = Callable[..., Builder]


@pytest.fixture
def make_builder(workspace: Path) -> MakeBuilder:
    """Build a :class:`Builder` over ``workspace`` with injectable engines; logs collected."""

    def make(engines: tuple[Engine, ...] | None = None, gtts: Callable[[str], GTTSEngine]
             = unreachable_gtts, log: list[str] | None = None, **options: object) -> Builder:
        chain = engines if engines is not None else (ToneEngine(),)
        opts = BuildOptions(scripts_dir=workspace / "scripts", audio_dir=workspace / "audio",
                            progress=False, **options)  # type: ignore[arg-type]
        sink = log if log is not None else []
        return Builder(opts, offline=lambda _locale: chain, gtts=gtts, log=sink.append)

    return make
