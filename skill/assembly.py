"""Assembly: ``build_skill(settings, persistence)`` registers the handlers in an explicit order.

Order matters (the first handler whose ``can_handle`` is true wins): capability guards and
playback events first, then handlers gated on session state, then plain intents, then the
built-ins, and the catch-alls last.
"""

from __future__ import annotations

from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter
from ask_sdk_core.skill import CustomSkill
from ask_sdk_core.skill_builder import CustomSkillBuilder

from skill.config import Settings
from skill.handlers import errors, registry


def open_persistence(settings: Settings) -> AbstractPersistenceAdapter | None:
    """The persistence adapter chosen by ``settings.storage``."""
    try:
        from skill.storage import open_adapter  # type: ignore[attr-defined]
    except ImportError:
        return None
    adapter: AbstractPersistenceAdapter = open_adapter(settings)
    return adapter


def build_skill(settings: Settings, persistence: AbstractPersistenceAdapter | None) -> CustomSkill:
    """Register every handler, interceptor and exception handler, in order."""
    builder = CustomSkillBuilder(persistence_adapter=persistence)
    for handler in registry.request_handlers():
        builder.add_request_handler(handler)
    for exception_handler in errors.HANDLERS:
        builder.add_exception_handler(exception_handler)
    skill: CustomSkill = builder.create()
    return skill
