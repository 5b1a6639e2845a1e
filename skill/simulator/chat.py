"""``python -m skill chat``: talk to the skill as text, one line per utterance.

Each response is printed as its speech in plain text, or with ``--json`` as exactly one JSON line
holding the full response envelope. Lines starting with ``/`` are commands:
``/launch``, ``/intent NAME slot=value ...``, ``/event TYPE key=value ...``, ``/end``.
"""

from __future__ import annotations

import json
import re
import shlex
import sys
from typing import Any, TextIO

from skill.simulator.conversation import DEFAULT_SKILL_ID, Conversation

_TAG = re.compile(r"<[^>]+>")


def plain_text(payload: dict[str, Any]) -> str:
    """A readable rendering of a response: speech, audio and end-of-session markers."""
    response = payload.get("response") or {}
    parts: list[str] = []
    speech = (response.get("outputSpeech") or {}).get("ssml", "")
    breaks = sum(int(ms) for ms in re.findall(r'<break time="(\d+)ms"/>', speech))
    for src in re.findall(r'<audio src="([^"]+)"/>', speech):
        parts.append(f"[audio {src.rsplit('/', 1)[-1]}]")
    text = " ".join(_TAG.sub(" ", speech).split())
    if text:
        parts.append(text)
    if breaks:
        parts.append(f"[silence {breaks / 1000:.0f}s]")
    for directive in response.get("directives") or []:
        if directive.get("type") == "AudioPlayer.Play":
            parts.append(f"[playing {directive['audioItem']['stream']['token']}]")
        elif directive.get("type", "").startswith("AudioPlayer."):
            parts.append(f"[{directive['type']}]")
    if response.get("shouldEndSession") is True:
        parts.append("[session ended]")
    return " ".join(parts) or "[no speech]"


def _pairs(tokens: list[str]) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for token in tokens:
        key, sep, value = token.partition("=")
        if not sep:
            raise ValueError(f"expected key=value, got {token!r}")
        pairs[key] = value
    return pairs


def run_line(conversation: Conversation, line: str) -> tuple[int, dict[str, Any]] | None:
    """Send one line (utterance or command); ``None`` for blank lines."""
    line = line.strip()
    if not line:
        return None
    if not line.startswith("/"):
        return conversation.say(line)
    command, *rest = shlex.split(line)
    if command == "/launch":
        return conversation.launch()
    if command == "/end":
        return conversation.end()
    if command == "/intent" and rest:
        return conversation.intent_from_text(rest[0], _pairs(rest[1:]))
    if command == "/event" and rest:
        return conversation.event(rest[0], _pairs(rest[1:]))
    raise ValueError(f"unknown command {line!r}: use /launch, /intent, /event or /end")


def chat(
    conversation: Conversation, lines: TextIO, out: TextIO, as_json: bool, interactive: bool
) -> int:
    """Read lines until EOF, printing one result per response. Returns an exit code."""
    while True:
        if interactive:
            out.write("> ")
            out.flush()
        line = lines.readline()
        if not line:
            return 0
        try:
            result = run_line(conversation, line)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            continue
        if result is None:
            continue
        status, payload = result
        if as_json:
            out.write(json.dumps(payload, ensure_ascii=False) + "\n")
        elif status != 200:
            out.write(f"[HTTP {status}] {payload}\n")
        else:
            out.write(plain_text(payload) + "\n")
        out.flush()


def make_transport(app: Any) -> Any:
    """POST envelopes to ``app``'s ``/`` endpoint, the same path a device uses."""
    client = app.test_client()

    def transport(envelope: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        response = client.post("/", data=json.dumps(envelope), content_type="application/json")
        return response.status_code, response.get_json() or {}

    return transport


__all__ = ["DEFAULT_SKILL_ID", "Conversation", "chat", "make_transport", "plain_text", "run_line"]
