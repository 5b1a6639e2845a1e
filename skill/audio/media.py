"""ffmpeg and ffprobe: decoding engine output, loudness normalisation, MP3 encoding, probing."""

from __future__ import annotations

import array
import json
import math
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from skill.audio.errors import MediaError

#: Working sample rate of the PCM the pipeline assembles (mono, signed 16-bit).
PCM_RATE = 24000
#: The one loudness target for every clip: integrated loudness, true peak, loudness range.
LOUDNESS_I = -16.0
LOUDNESS_TP = -1.5
LOUDNESS_LRA = 11.0
#: Before loudnorm, peaks are set to −1 dBFS and a limiter holds them 6 dB lower, so the linear
#: loudnorm gain can reach the target without breaking the true-peak ceiling.
PEAK_DBFS = -1.0
LIMIT_DB = 6.0
#: Names the processing chain; a manifest entry made by another chain is rebuilt.
PROCESS = f"peak{PEAK_DBFS:g}-lim{LIMIT_DB:g}-loudnorm2pass-I{LOUDNESS_I:g}-TP{LOUDNESS_TP:g}"


@dataclass(frozen=True)
class Format:
    """An MP3 output format: constant bitrate (bit/s), sample rate (Hz), channels."""

    bitrate: int
    sample_rate: int
    channels: int = 1


#: Output format per clip kind. SSML ``<audio>`` needs MP3 48 kbps at 16/22.05/24 kHz. Lessons
#: use the same format so a device without AudioPlayer can play them in ``<audio>`` too; the
#: synthesized sources are 22.05–24 kHz speech, so a higher rate would only add bytes.
FORMATS: dict[str, Format] = {
    "intro": Format(bitrate=48000, sample_rate=24000),
    "lesson": Format(bitrate=48000, sample_rate=24000),
}


@dataclass(frozen=True)
class Probe:
    """What ffprobe reports about an audio file."""

    codec: str
    sample_rate: int
    channels: int
    bitrate: int
    #: Duration the file declares (its header), as players see it.
    duration_ms: int
    #: Duration of the MP3 frames actually present (counted packets × samples per frame).
    content_ms: int


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise MediaError(f"{name} is not installed (apt-get install -y ffmpeg)")
    return path


def _run(
    args: list[str], what: str, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    try:
        proc = subprocess.run(args, input=stdin, capture_output=True, check=False, timeout=600)
    except subprocess.TimeoutExpired:
        raise MediaError(f"{what}: {Path(args[0]).name} timed out") from None
    if proc.returncode != 0:
        tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
        raise MediaError(f"{what}: {Path(args[0]).name} failed: {' | '.join(tail)}")
    return proc


def decode_pcm(path: Path, what: str) -> bytes:
    """Decode any audio file ffmpeg reads into mono s16le PCM at :data:`PCM_RATE`.

    :raises MediaError: if ffmpeg cannot read it.
    """
    args = [_tool("ffmpeg"), "-v", "error", "-nostdin", "-i", str(path), "-vn",
            "-ac", "1", "-ar", str(PCM_RATE), "-f", "s16le", "-"]
    return _run(args, what).stdout


def silence(seconds: float) -> bytes:
    """Mono s16le silence of the given length."""
    return b"\x00\x00" * int(round(seconds * PCM_RATE))


def _pcm_input(pcm_path: Path) -> list[str]:
    return ["-f", "s16le", "-ar", str(PCM_RATE), "-ac", "1", "-i", str(pcm_path)]


def _peak_gain_db(pcm_path: Path) -> float:
    """Gain that brings the PCM's highest sample to :data:`PEAK_DBFS`."""
    samples = array.array("h")
    samples.frombytes(pcm_path.read_bytes())
    if sys.byteorder == "big":
        samples.byteswap()
    peak = max((max(samples), -min(samples)), default=0) if samples else 0
    if peak == 0:
        return 0.0
    return PEAK_DBFS - 20 * math.log10(peak / 32768)


def _loudnorm(pcm_path: Path, extra: str = "") -> str:
    limit = 10 ** ((PEAK_DBFS - LIMIT_DB) / 20)
    return (f"volume={_peak_gain_db(pcm_path):.2f}dB,"
            f"alimiter=limit={limit:.4f}:attack=3:release=60:level=false,"
            f"loudnorm=I={LOUDNESS_I:g}:TP={LOUDNESS_TP:g}:LRA={LOUDNESS_LRA:g}{extra}")


def measure_loudness(pcm_path: Path, what: str) -> dict[str, str]:
    """First loudnorm pass: measure integrated loudness, true peak, range and threshold.

    :raises MediaError: if ffmpeg fails or prints no measurement.
    """
    args = [_tool("ffmpeg"), "-hide_banner", "-nostdin", *_pcm_input(pcm_path),
            "-af", _loudnorm(pcm_path, ":print_format=json"), "-f", "null", "-"]
    err = _run(args, what).stderr.decode("utf-8", "replace")
    match = re.search(r"\{[^{}]*\"input_i\"[^{}]*\}", err)
    if match is None:
        raise MediaError(f"{what}: loudnorm printed no measurement")
    data: dict[str, str] = json.loads(match.group(0))
    return data


def encode_mp3(pcm_path: Path, out_path: Path, fmt: Format, what: str) -> None:
    """Second loudnorm pass (linear, from the measurement) and a bit-exact CBR MP3 encode.

    :raises MediaError: if ffmpeg fails.
    """
    m = measure_loudness(pcm_path, what)
    if m.get("input_i") in {"-inf", "inf"}:
        raise MediaError(f"{what}: the synthesized audio is silent")
    norm = _loudnorm(
        pcm_path,
        f":measured_I={m['input_i']}:measured_TP={m['input_tp']}:measured_LRA={m['input_lra']}"
        f":measured_thresh={m['input_thresh']}:offset={m['target_offset']}:linear=true"
    )
    args = [_tool("ffmpeg"), "-v", "error", "-nostdin", "-y", *_pcm_input(pcm_path),
            "-af", f"{norm},aresample={fmt.sample_rate}", "-ar", str(fmt.sample_rate),
            "-ac", str(fmt.channels), "-c:a", "libmp3lame", "-b:a", str(fmt.bitrate),
            "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:a", "+bitexact",
            "-id3v2_version", "0", "-f", "mp3", str(out_path)]
    _run(args, what)


def probe(path: Path) -> Probe:
    """Ask ffprobe for the codec, sample rate, channels, bitrate and duration of a file.

    :raises MediaError: if ffprobe cannot read it or finds no audio stream.
    """
    args = [_tool("ffprobe"), "-v", "error", "-count_packets", "-select_streams", "a:0",
            "-show_entries",
            "stream=codec_name,sample_rate,channels,bit_rate,nb_read_packets:format=duration",
            "-of", "json", str(path)]
    data = json.loads(_run(args, f"probe {path.name}").stdout or b"{}")
    streams = data.get("streams") or []
    if not streams:
        raise MediaError(f"probe {path.name}: no audio stream")
    stream = streams[0]
    try:
        rate = int(stream.get("sample_rate", 0))
        # An MP3 frame holds 1152 samples (MPEG-1, >= 32 kHz) or 576 (MPEG-2/2.5, lower rates).
        frame = 1152 if rate >= 32000 else 576
        packets = int(stream.get("nb_read_packets", 0))
        return Probe(
            codec=str(stream.get("codec_name", "")),
            sample_rate=rate,
            channels=int(stream.get("channels", 0)),
            bitrate=int(stream.get("bit_rate", 0)),
            duration_ms=round(float(data["format"]["duration"]) * 1000),
            content_ms=round(packets * frame * 1000 / rate) if rate else 0,
        )
    except (KeyError, ValueError) as exc:
        raise MediaError(f"probe {path.name}: unreadable ffprobe output ({exc})") from None
