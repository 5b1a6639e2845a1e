"""Logs are structured JSON with request ids, and never carry what the person said."""

from __future__ import annotations

import json
from collections.abc import Callable

from skill.simulator.conversation import Conversation

SECRET_EN = "my sister zanzibar quietly borrowed the teapot"
SECRET_JA = "ザンジバルの妹がこっそりティーポットを借りた"


def test_request_log_fields(converse: Callable[..., Conversation],
                            log_lines: Callable[[], list[str]]) -> None:
    """If a request is handled, then one JSON line names its id, type, intent, locale, latency."""
    converse("en-US").launch()
    records = [json.loads(line) for line in log_lines()]
    request_logs = [r for r in records if r["event"] == "alexa.request"]
    assert request_logs
    record = request_logs[-1]
    assert record["request_id"].startswith("amzn1.echo-api.request.")
    assert record["request_type"] == "LaunchRequest"
    assert record["locale"] == "en-US"
    assert isinstance(record["latency_ms"], float)


def test_user_words_never_logged(converse: Callable[..., Conversation],
                                 log_lines: Callable[[], list[str]]) -> None:
    """If a person says something (even as a slot value), then no log line contains it."""
    for locale, secret in (("en-US", SECRET_EN), ("ja-JP", SECRET_JA)):
        conversation = converse(locale)
        conversation.launch()
        conversation.say(secret)
        conversation.intent_from_text("CheckInIntent", {"answer": secret})
        conversation.intent_from_text("PlayLessonIntent", {"topic": secret})
    logged = "\n".join(log_lines())
    assert "alexa.request" in logged
    for word in ("zanzibar", "teapot", "ザンジバル", "ティーポット"):
        assert word not in logged
