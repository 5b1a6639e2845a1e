"""A simulated Alexa device: builds request envelopes and carries session and player state."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from skill.simulator.nlu import Resolution, SlotValue, load_model, resolver_for

#: Posts one request envelope and returns ``(HTTP status, response payload)``.
Transport = Callable[[dict[str, Any]], tuple[int, dict[str, Any]]]
DEFAULT_SKILL_ID = "amzn1.ask.skill.reflection-guide-local"


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _coerce(value: str) -> Any:
    return int(value) if value.lstrip("-").isdigit() else value


class Conversation:
    """One simulated user on one device, talking to the skill through ``transport``."""

    def __init__(
        self,
        transport: Transport,
        locale: str = "en-US",
        user_id: str = "amzn1.ask.account.local-user",
        skill_id: str = DEFAULT_SKILL_ID,
        audio_player: bool = True,
    ) -> None:
        self.transport = transport
        self.locale = locale
        self.user_id = user_id
        self.skill_id = skill_id
        self.audio_player = audio_player
        self.session: dict[str, Any] | None = None
        self.player: dict[str, Any] = {"playerActivity": "IDLE"}
        self.elicit: tuple[str, str] | None = None
        self.resolver = resolver_for(locale)
        self._slots_of = {
            i["name"]: [s["name"] for s in i.get("slots", [])]
            for i in load_model(locale)["interactionModel"]["languageModel"]["intents"]
        }

    # -- envelopes -----------------------------------------------------------------------------
    def envelope(self, request: dict[str, Any], with_session: bool = True) -> dict[str, Any]:
        """A full request envelope around ``request`` (opening a session when needed)."""
        application = {"applicationId": self.skill_id}
        user = {"userId": self.user_id}
        interfaces: dict[str, Any] = {"AudioPlayer": {}} if self.audio_player else {}
        body: dict[str, Any] = {
            "version": "1.0",
            "context": {
                "System": {
                    "application": application,
                    "user": user,
                    "device": {"deviceId": "amzn1.ask.device.simulator",
                               "supportedInterfaces": interfaces},
                    "apiEndpoint": "https://api.amazonalexa.com",
                },
            },
            "request": {
                "requestId": f"amzn1.echo-api.request.{uuid.uuid4()}",
                "timestamp": _now(),
                "locale": self.locale,
                **request,
            },
        }
        if self.audio_player:
            body["context"]["AudioPlayer"] = dict(self.player)
        if with_session:
            if self.session is None:
                self.session = {"sessionId": f"amzn1.echo-api.session.{uuid.uuid4()}",
                                "attributes": {}, "new": True}
            body["session"] = {
                "new": self.session["new"],
                "sessionId": self.session["sessionId"],
                "application": application,
                "user": user,
                "attributes": self.session["attributes"],
            }
            self.session["new"] = False
        return body

    def intent_request(self, name: str, slots: Mapping[str, SlotValue]) -> dict[str, Any]:
        slot_json: dict[str, Any] = {}
        for slot_name in self._slots_of.get(name, []):
            entry: dict[str, Any] = {"name": slot_name, "confirmationStatus": "NONE"}
            value = slots.get(slot_name)
            if value is not None:
                entry["value"] = value.value
                if value.resolved_id is not None:
                    entry["resolutions"] = {"resolutionsPerAuthority": [{
                        "authority": f"amzn1.er-authority.echo-sdk.{self.skill_id}.slot",
                        "status": {"code": "ER_SUCCESS_MATCH"},
                        "values": [{"value": {"name": value.resolved_name, "id": value.resolved_id}}],
                    }]}
            slot_json[slot_name] = entry
        request: dict[str, Any] = {
            "type": "IntentRequest",
            "intent": {"name": name, "confirmationStatus": "NONE", "slots": slot_json},
        }
        if self.elicit and self.elicit[0] == name:
            request["dialogState"] = "IN_PROGRESS"
        return request

    # -- what a person does ----------------------------------------------------------------------
    def launch(self) -> tuple[int, dict[str, Any]]:
        self.session = None
        return self.send({"type": "LaunchRequest"})

    def say(self, line: str) -> tuple[int, dict[str, Any]]:
        """Speak ``line``: resolve it as Alexa would (honouring an open slot elicitation)."""
        resolution = self.resolver.resolve(line)
        if self.elicit is not None:
            intent, slot = self.elicit
            # Alexa lets the person switch to another intent mid-elicitation; anything else
            # (including unmatched speech) fills the elicited slot with the whole utterance.
            if resolution.intent in ("AMAZON.FallbackIntent", intent):
                resolution = Resolution(intent, {slot: SlotValue(line.strip())})
        return self.intent(resolution.intent, resolution.slots)

    def intent(self, name: str, slots: Mapping[str, SlotValue] | None = None) -> tuple[int, dict[str, Any]]:
        return self.send(self.intent_request(name, slots or {}))

    def intent_from_text(self, name: str, raw_slots: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        """``/intent NAME slot=value``: slot values resolved by their type, like spoken ones."""
        types = {
            s["name"]: s["type"]
            for i in load_model(self.locale)["interactionModel"]["languageModel"]["intents"]
            if i["name"] == name
            for s in i.get("slots", [])
        }
        slots: dict[str, SlotValue] = {}
        for key, value in raw_slots.items():
            resolved = self.resolver._slot(types.get(key, ""), value)  # noqa: SLF001
            slots[key] = resolved or SlotValue(value)
        return self.intent(name, slots)

    def event(self, event_type: str, fields: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        """``/event TYPE key=value``: an AudioPlayer, PlaybackController or system event."""
        request: dict[str, Any] = {"type": event_type}
        values = {k: _coerce(v) for k, v in fields.items()}
        if event_type.startswith("AlexaSkillEvent."):
            request["body"] = values
            request["eventCreationTime"] = request["eventPublishingTime"] = _now()
        else:
            if event_type.startswith("AudioPlayer."):
                request["token"] = self.player.get("token", "")
                request["offsetInMilliseconds"] = self.player.get("offsetInMilliseconds", 0)
            request.update(values)
            if event_type.startswith("AudioPlayer.Playback"):
                activity = {"PlaybackStarted": "PLAYING", "PlaybackStopped": "STOPPED",
                            "PlaybackFinished": "FINISHED", "PlaybackFailed": "STOPPED"}
                state = activity.get(event_type.split(".", 1)[1])
                if state:
                    self.player.update(playerActivity=state, token=request["token"],
                                       offsetInMilliseconds=request["offsetInMilliseconds"])
        return self._post(self.envelope(request, with_session=False))

    def end(self, reason: str = "USER_INITIATED") -> tuple[int, dict[str, Any]]:
        result = self.send({"type": "SessionEndedRequest", "reason": reason})
        self.session = None
        self.elicit = None
        return result

    # -- transport -------------------------------------------------------------------------------
    def send(self, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return self._post(self.envelope(request))

    def _post(self, envelope: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        had_session = "session" in envelope
        status, payload = self.transport(envelope)
        if status != 200:
            return status, payload
        response = payload.get("response") or {}
        self.elicit = None
        for directive in response.get("directives") or []:
            kind = directive.get("type")
            if kind == "Dialog.ElicitSlot":
                self.elicit = (directive["updatedIntent"]["name"], directive["slotToElicit"])
            elif kind == "AudioPlayer.Play":
                stream = directive["audioItem"]["stream"]
                self.player = {"playerActivity": "PLAYING", "token": stream["token"],
                               "offsetInMilliseconds": stream.get("offsetInMilliseconds", 0)}
            elif kind in ("AudioPlayer.Stop", "AudioPlayer.ClearQueue"):
                self.player["playerActivity"] = "STOPPED"
        if had_session and self.session is not None:
            if response.get("shouldEndSession") is False:
                self.session["attributes"] = payload.get("sessionAttributes") or {}
            else:
                self.session = None
                self.elicit = None
        return status, payload
