"""Assembly: ``build_skill(settings, persistence)`` registers the handlers in an explicit order.

Order matters (the first handler whose ``can_handle`` is true wins): capability guards and
playback events first, then handlers gated on session state, then plain intents, then the
built-ins, and the catch-alls last.
"""

from __future__ import annotations

from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter
from ask_sdk_core.dispatch_components import AbstractRequestInterceptor, AbstractResponseInterceptor
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.skill import CustomSkill
from ask_sdk_core.skill_builder import CustomSkillBuilder
from ask_sdk_model import Response

from skill.config import Settings
from skill.errors import StorageUnavailableError
from skill.handlers import errors, registry
from skill.handlers.base import BEST_EFFORT_KEY, SETTINGS_KEY
from skill.logs import get_logger
from skill.storage import open_store
from skill.storage.adapter import StorePersistenceAdapter

log = get_logger("assembly")


def open_persistence(settings: Settings) -> StorePersistenceAdapter:
    """The persistence adapter over the store chosen by ``settings.storage``."""
    return StorePersistenceAdapter(open_store(settings), budget_s=settings.storage_budget_s)


class SettingsInterceptor(AbstractRequestInterceptor):
    """Hands the skill's settings to every handler (``Turn.settings``), instead of each one
    reading the environment: settings passed to ``create_app(config)`` reach the handlers."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def process(self, handler_input: HandlerInput) -> None:
        handler_input.attributes_manager.request_attributes[SETTINGS_KEY] = self.settings


class SaveUserInterceptor(AbstractResponseInterceptor):
    """One save per request, after the handler: only if the handler read or changed the user.

    Skipped when a handler raised (the SDK skips response interceptors then), so a failed
    request never half-writes. A failed save raises, and the exception handler answers with the
    storage apology, unless the handler marked its answer as more important than the save
    (:func:`skill.handlers.base.save_best_effort`: the crisis reply is never replaced).
    """

    def process(self, handler_input: HandlerInput, response: Response) -> None:
        try:
            handler_input.attributes_manager.save_persistent_attributes()
        except StorageUnavailableError:
            if not handler_input.attributes_manager.request_attributes.get(BEST_EFFORT_KEY):
                raise
            log.warning("best-effort save failed; the answer stands",
                        extra={"fields": {"error": "StorageUnavailableError"}})


def build_skill(settings: Settings, persistence: AbstractPersistenceAdapter | None) -> CustomSkill:
    """Register every handler, interceptor and exception handler, in order."""
    builder = CustomSkillBuilder(persistence_adapter=persistence)
    for handler in registry.request_handlers():
        builder.add_request_handler(handler)
    builder.add_global_request_interceptor(SettingsInterceptor(settings))
    builder.add_global_response_interceptor(SaveUserInterceptor())
    for exception_handler in errors.HANDLERS:
        builder.add_exception_handler(exception_handler)
    skill: CustomSkill = builder.create()
    return skill
