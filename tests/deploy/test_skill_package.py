"""The ASK skill package: manifest structure, example phrases, generated models, rendering."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from skill.deploy import skill_package
from skill.deploy.__main__ import main as deploy_main
from skill.errors import ConfigError
from skill.simulator.nlu import load_model, resolver_for

LOCALES = ["en-US", "ja-JP"]
REPO = Path(__file__).resolve().parents[2]
SETTINGS = {
    "ENDPOINT_URL": "https://abc123def4.execute-api.us-east-1.amazonaws.com/",
    "PRIVACY_POLICY_URL_EN_US": "https://example.com/en/privacy",
    "TERMS_OF_USE_URL_EN_US": "https://example.com/en/terms",
    "PRIVACY_POLICY_URL_JA_JP": "https://example.com/ja/privacy",
    "TERMS_OF_USE_URL_JA_JP": "https://example.com/ja/terms",
}


def _manifest() -> dict[str, Any]:
    manifest: dict[str, Any] = skill_package.load_manifest()["manifest"]
    return manifest


def _invocation(locale: str) -> str:
    name: str = load_model(locale)["interactionModel"]["languageModel"]["invocationName"]
    return name


def _utterance(locale: str, phrase: str) -> str | None:
    """The part after the wake word and invocation name; ``None`` for a plain launch phrase.

    :raises AssertionError: if the phrase does not start with the wake word and invocation name.
    """
    name = re.escape(_invocation(locale))
    if locale == "en-US":
        launch = re.fullmatch(rf"alexa, (?:open|launch|start) {name}", phrase.lower())
        ask = re.fullmatch(rf"alexa, (?:ask|tell) {name} (?:(?:to|for|about) )?(.+)", phrase.lower())
    else:
        launch = re.fullmatch(rf"アレクサ、{name}を(?:開いて|起動して)", phrase)
        ask = re.fullmatch(rf"アレクサ、{name}で(.+)", phrase)
    if launch:
        return None
    assert ask, f"{locale}: {phrase!r} does not start with the wake word and {_invocation(locale)!r}"
    return ask.group(1)


def test_manifest_has_both_locales_publishing_information() -> None:
    """If the manifest is read, then both locales have a name, summary, description, phrases, keywords."""
    info = _manifest()["publishingInformation"]
    assert sorted(info["locales"]) == LOCALES
    for locale in LOCALES:
        entry = info["locales"][locale]
        for key in ("name", "summary", "description"):
            assert isinstance(entry[key], str) and entry[key].strip(), (locale, key)
        assert len(entry["summary"]) <= 160
        assert len(entry["description"]) <= 4000
        assert 1 <= len(entry["examplePhrases"]) <= 3
        assert 1 <= len(entry["keywords"]) <= 30
    assert info["category"] == "HEALTH_AND_FITNESS"
    assert sorted(info["distributionCountries"]) == ["JP", "US"]
    assert info["isAvailableWorldwide"] is False


def test_descriptions_carry_the_health_disclaimer() -> None:
    """If a listener reads either description, then it says the skill is no substitute for medical advice."""
    locales = _manifest()["publishingInformation"]["locales"]
    assert "not a substitute for professional medical advice" in locales["en-US"]["description"]
    assert "医療上の助言" in locales["ja-JP"]["description"]
    assert "代わるものではありません" in locales["ja-JP"]["description"]


def test_manifest_declares_audio_player_endpoint_and_skill_disabled() -> None:
    """If the manifest is read, then it has AudioPlayer, an HTTPS endpoint setting and SKILL_DISABLED."""
    manifest = _manifest()
    custom = manifest["apis"]["custom"]
    assert {"type": "AUDIO_PLAYER"} in custom["interfaces"]
    assert custom["endpoint"] == {"uri": "{{ENDPOINT_URL}}",
                                  "sslCertificateType": "{{SSL_CERTIFICATE_TYPE}}"}
    assert manifest["events"]["endpoint"] == custom["endpoint"]
    assert {"eventName": "SKILL_DISABLED"} in manifest["events"]["subscriptions"]
    assert manifest["manifestVersion"] == "1.0"


def test_privacy_and_terms_urls_are_per_locale_settings() -> None:
    """If the manifest is read, then each locale's privacy and terms URLs are placeholders to fill."""
    privacy = _manifest()["privacyAndCompliance"]
    for locale in LOCALES:
        suffix = locale.replace("-", "_").upper()
        assert privacy["locales"][locale] == {
            "privacyPolicyUrl": f"{{{{PRIVACY_POLICY_URL_{suffix}}}}}",
            "termsOfUseUrl": f"{{{{TERMS_OF_USE_URL_{suffix}}}}}",
        }
    for key in ("allowsPurchases", "usesPersonalInfo", "isChildDirected", "containsAds"):
        assert privacy[key] is False
    assert privacy["isExportCompliant"] is True


def test_placeholders_are_exactly_the_known_settings() -> None:
    """If the manifest is scanned, then it uses every known placeholder and no other."""
    assert skill_package.placeholders_in(skill_package.load_manifest()) == set(
        skill_package.PLACEHOLDERS)


@pytest.mark.parametrize("locale", LOCALES)
def test_example_phrases_resolve_in_the_interaction_model(locale: str) -> None:
    """If an example phrase is spoken, then it launches the skill or resolves to a custom intent."""
    phrases = _manifest()["publishingInformation"]["locales"][locale]["examplePhrases"]
    assert _utterance(locale, phrases[0]) is None, "the first example phrase must open the skill"
    resolver = resolver_for(locale)
    custom = {i["name"] for i in load_model(locale)["interactionModel"]["languageModel"]["intents"]
              if not i["name"].startswith("AMAZON.")}
    for phrase in phrases[1:]:
        utterance = _utterance(locale, phrase)
        assert utterance, f"{phrase!r} must carry a request after the invocation name"
        resolution = resolver.resolve(utterance)
        assert resolution.intent in custom, f"{phrase!r} -> {resolution.intent}"


@pytest.mark.parametrize("locale", LOCALES)
def test_duration_example_fills_the_duration_slot(locale: str) -> None:
    """If the two-minute example is spoken, then StartReflectionIntent gets PT2M."""
    phrase = _manifest()["publishingInformation"]["locales"][locale]["examplePhrases"][1]
    resolution = resolver_for(locale).resolve(_utterance(locale, phrase) or "")
    assert resolution.intent == "StartReflectionIntent"
    assert resolution.slots["duration"].value == "PT2M"


@pytest.mark.parametrize("locale", LOCALES)
def test_names_match_the_invocation_names(locale: str) -> None:
    """If the listing name is compared with the invocation name, then they are the same words."""
    name = _manifest()["publishingInformation"]["locales"][locale]["name"]
    assert name.lower() == _invocation(locale)


@pytest.mark.parametrize("locale", LOCALES)
def test_committed_models_are_identical_to_the_source(locale: str) -> None:
    """If skill-package/ is compared with interaction_models/, then every model is byte-identical."""
    source = REPO / "interaction_models" / f"{locale}.json"
    copy = REPO / "skill-package" / "interactionModels" / "custom" / f"{locale}.json"
    assert copy.read_bytes() == source.read_bytes(), "run: python -m skill.deploy sync"


def test_no_generated_model_is_stale() -> None:
    """If the committed package is checked, then no generated model is stale or orphaned."""
    assert skill_package.stale_models() == []


def _fake_sources(tmp_path: Path) -> tuple[Path, Path]:
    source = tmp_path / "interaction_models"
    shutil.copytree(REPO / "interaction_models", source)
    return source, tmp_path / "skill-package" / "interactionModels" / "custom"


def test_stale_models_reports_missing_changed_and_orphan_copies(tmp_path: Path) -> None:
    """If a copy is missing, edited or has no source, then stale_models names each one."""
    source, target = _fake_sources(tmp_path)
    assert {p.path.name for p in skill_package.stale_models(source, target)} == {
        "en-US.json", "ja-JP.json"}
    skill_package.sync_models(source, target)
    assert skill_package.stale_models(source, target) == []
    model = json.loads((source / "en-US.json").read_text(encoding="utf-8"))
    model["interactionModel"]["languageModel"]["intents"][0]["samples"].append("reflect now please")
    (source / "en-US.json").write_text(json.dumps(model), encoding="utf-8")
    (target / "fr-FR.json").write_text("{}", encoding="utf-8")
    reasons = {p.path.name: p.reason for p in skill_package.stale_models(source, target)}
    assert reasons == {"en-US.json": "differs from interaction_models/en-US.json",
                       "fr-FR.json": "has no source in interaction_models/"}
    changed = skill_package.sync_models(source, target)
    assert {p.name for p in changed} == {"en-US.json", "fr-FR.json"}
    assert not (target / "fr-FR.json").exists()
    assert skill_package.stale_models(source, target) == []


def test_sync_refuses_a_model_without_an_invocation_name(tmp_path: Path) -> None:
    """If a source model has no invocation name, then sync raises ConfigError."""
    source, target = _fake_sources(tmp_path)
    (source / "en-US.json").write_text('{"interactionModel": {"languageModel": {}}}', encoding="utf-8")
    with pytest.raises(ConfigError, match="not a usable model"):
        skill_package.sync_models(source, target)


def test_sync_check_cli_passes_on_the_committed_repo(capsys: pytest.CaptureFixture[str]) -> None:
    """If `python -m skill.deploy sync --check` runs on the repo, then it exits 0."""
    assert deploy_main(["sync", "--check"]) == 0
    assert "up to date" in capsys.readouterr().out


@pytest.mark.parametrize(("url", "expected"), [
    ("https://abc123def4.execute-api.us-east-1.amazonaws.com/", "Wildcard"),
    ("https://abc123def4.execute-api.ap-northeast-1.amazonaws.com", "Wildcard"),
    ("https://skill.example.com/", "Trusted"),
    ("https://execute-api.us-east-1.amazonaws.com.evil.example/", "Trusted"),
])
def test_certificate_type_follows_the_endpoint_host(url: str, expected: str) -> None:
    """If the endpoint is API Gateway's own domain, then Wildcard; a custom domain is Trusted."""
    assert skill_package.certificate_type_for(url) == expected


def test_render_fills_every_placeholder_and_copies_models(tmp_path: Path) -> None:
    """If the package is rendered with every setting, then no placeholder is left and models match."""
    settings = skill_package.resolve_settings(SETTINGS, {})
    rendered = skill_package.render_package(settings, out=tmp_path / "out")
    text = rendered.read_text(encoding="utf-8")
    assert "{{" not in text
    manifest = json.loads(text)["manifest"]
    assert manifest["apis"]["custom"]["endpoint"] == {"uri": SETTINGS["ENDPOINT_URL"],
                                                      "sslCertificateType": "Wildcard"}
    assert manifest["privacyAndCompliance"]["locales"]["ja-JP"]["termsOfUseUrl"] == (
        SETTINGS["TERMS_OF_USE_URL_JA_JP"])
    assert manifest["publishingInformation"]["locales"]["ja-JP"]["name"] == "ふりかえりガイド"
    for locale in LOCALES:
        copy = tmp_path / "out" / "interactionModels" / "custom" / f"{locale}.json"
        assert copy.read_bytes() == (REPO / "interaction_models" / f"{locale}.json").read_bytes()


def test_settings_come_from_the_environment(tmp_path: Path) -> None:
    """If only SKILL_* variables are set, then they fill the settings; explicit values win."""
    environ = {f"SKILL_{k}": v for k, v in SETTINGS.items()}
    environ["SKILL_SSL_CERTIFICATE_TYPE"] = "Trusted"
    settings = skill_package.resolve_settings(
        {"PRIVACY_POLICY_URL_EN_US": "https://example.org/p"}, environ)
    assert settings["SSL_CERTIFICATE_TYPE"] == "Trusted"
    assert settings["PRIVACY_POLICY_URL_EN_US"] == "https://example.org/p"
    assert settings["TERMS_OF_USE_URL_EN_US"] == SETTINGS["TERMS_OF_USE_URL_EN_US"]


def test_missing_settings_are_named() -> None:
    """If a URL setting is missing, then resolve_settings names it and its variable."""
    partial = {k: v for k, v in SETTINGS.items() if k != "TERMS_OF_USE_URL_JA_JP"}
    with pytest.raises(ConfigError, match="TERMS_OF_USE_URL_JA_JP.*SKILL_TERMS_OF_USE_URL_JA_JP"):
        skill_package.resolve_settings(partial, {})


@pytest.mark.parametrize(("name", "value", "message"), [
    ("ENDPOINT_URL", "http://abc.execute-api.us-east-1.amazonaws.com/", "must be an https://"),
    ("PRIVACY_POLICY_URL_EN_US", "example.com/privacy", "must be an https://"),
    ("SSL_CERTIFICATE_TYPE", "Whatever", "must be one of"),
    ("SKILL_ID", "amzn1.ask.skill.x", "unknown skill package setting"),
])
def test_bad_settings_are_refused(name: str, value: str, message: str) -> None:
    """If a setting is not https, not a known certificate type or unknown, then ConfigError."""
    with pytest.raises(ConfigError, match=message):
        skill_package.resolve_settings({**SETTINGS, name: value}, {})


def test_render_cli_writes_the_package(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """If the skill-package command gets every setting, then it writes skill.json and exits 0."""
    for key, value in SETTINGS.items():
        if key != "ENDPOINT_URL":
            monkeypatch.setenv(f"SKILL_{key}", value)
    synced: list[bool] = []
    monkeypatch.setattr(skill_package, "sync_models", lambda: synced.append(True) or [])
    code = deploy_main(["skill-package", "--endpoint", "https://skill.example.com/",
                        "--out", str(tmp_path / "out")])
    assert code == 0
    assert "sslCertificateType Trusted" in capsys.readouterr().out
    assert (tmp_path / "out" / "skill.json").exists()
    assert synced == [True], "the committed models are refreshed before rendering"


def test_render_cli_reports_missing_settings(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """If settings are missing, then the skill-package command exits 2 with the names."""
    for key in SETTINGS:
        monkeypatch.delenv(f"SKILL_{key}", raising=False)
    monkeypatch.setattr(skill_package, "sync_models", lambda: [])
    code = deploy_main(["skill-package", "--set", f"ENDPOINT_URL={SETTINGS['ENDPOINT_URL']}",
                        "--out", str(tmp_path / "out")])
    assert code == 2
    assert "PRIVACY_POLICY_URL_EN_US" in capsys.readouterr().err


def test_ask_resources_points_at_the_rendered_package() -> None:
    """If ask-resources.json is read, then the ASK CLI deploys the rendered build directory."""
    resources = json.loads((REPO / "ask-resources.json").read_text(encoding="utf-8"))
    src = resources["profiles"]["default"]["skillMetadata"]["src"]
    assert (REPO / src).resolve() == skill_package.BUILD_DIR
