"""Tests for skill.audio.engines: the gTTS probe and offline validation, without network."""

from __future__ import annotations

import threading

import pytest

from skill.audio import engines
from skill.audio.engines import GTTSEngine, offline_chain
from skill.audio.errors import EngineUnavailableError
from tests.audio.conftest import closed_port, unreachable_gtts


def test_refused_probe_is_unavailable() -> None:
    """If the gTTS host refuses the connection, then check() raises naming host and port."""
    engine = unreachable_gtts("en-US")
    with pytest.raises(EngineUnavailableError, match=r"gTTS service 127\.0\.0\.1:\d+ unreachable"):
        engine.check()


def test_hanging_lookup_times_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """If name lookup hangs (no answer at all), then check() still gives up on its timeout."""
    release = threading.Event()

    def hang(*_args: object, **_kwargs: object) -> None:
        release.wait(5)

    monkeypatch.setattr(engines.socket, "create_connection", hang)
    engine = GTTSEngine("ja-JP", timeout_s=0.1, probe_host="localhost", probe_port=closed_port())
    try:
        with pytest.raises(EngineUnavailableError, match=r"no answer within 0\.1 s"):
            engine.check()
    finally:
        release.set()


@pytest.mark.parametrize(("text", "why"), [("...!!", "nothing to speak"), ("", "No text to speak")])
def test_gtts_rejections_are_found_offline(text: str, why: str) -> None:
    """If a sentence is one gTTS refuses, then rejected() says why without any network."""
    reason = unreachable_gtts("en-US").rejected(text)
    assert reason is not None and why in reason


def test_plain_sentences_are_accepted() -> None:
    """If a sentence is ordinary Japanese, then rejected() returns None."""
    assert unreachable_gtts("ja-JP").rejected("ゆっくり息を吐いてみましょう。") is None


def test_chains_never_offer_espeak_for_japanese() -> None:
    """If the ja-JP chain is listed, then eSpeak (which cannot read kanji) is not in it."""
    assert not any(e.name.startswith("espeak") for e in offline_chain("ja-JP"))
    assert offline_chain("en-US")[-1].name.startswith("espeak-ng")
