"""Per-user persistence: a typed record, SQLite and DynamoDB stores, and the ask-sdk adapter.

``open_store(settings)`` picks the backend; :class:`~skill.storage.records.UserRecord` is the only
shape ever stored. The ask-sdk adapter lives in :mod:`skill.storage.adapter` (the only module here
that imports ask_sdk_core) and the DynamoDB backend in :mod:`skill.storage.dynamodb` (imported on
demand, so SQLite users never load boto3).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from skill.storage.base import DEFAULT_TTL_DAYS, UNKNOWN_VERSION, Store, Stored, user_hash
from skill.storage.records import (
    MAX_CHECKIN_TAGS,
    POLARITIES,
    RECENT_PROMPTS_MAX,
    SCHEMA_VERSION,
    TAG_RETENTION_DAYS,
    CheckinTag,
    FutureSchemaError,
    LessonProgress,
    Preferences,
    RecordAttributes,
    RecordError,
    Streak,
    UserRecord,
)
from skill.storage.sqlite import SqliteStore

if TYPE_CHECKING:
    from skill.config import Settings

__all__ = [
    "DEFAULT_TTL_DAYS",
    "MAX_CHECKIN_TAGS",
    "POLARITIES",
    "RECENT_PROMPTS_MAX",
    "SCHEMA_VERSION",
    "TAG_RETENTION_DAYS",
    "UNKNOWN_VERSION",
    "CheckinTag",
    "FutureSchemaError",
    "LessonProgress",
    "Preferences",
    "RecordAttributes",
    "RecordError",
    "SqliteStore",
    "Store",
    "Stored",
    "Streak",
    "UserRecord",
    "open_store",
    "user_hash",
]


def open_store(settings: Settings) -> Store:
    """The store ``settings.storage`` names: ``sqlite`` (``db_path``) or ``dynamodb``.

    Nothing is created in DynamoDB; the SQLite file is created on first use.

    :raises ConfigError: ``settings.storage`` names no backend.
    :raises StorageUnavailableError: the DynamoDB client cannot be built.
    """
    from skill.errors import ConfigError

    if settings.storage == "sqlite":
        return SqliteStore(settings.db_path)
    if settings.storage == "dynamodb":
        from skill.storage.dynamodb import DynamoDBStore

        return DynamoDBStore(
            settings.dynamodb_table,
            region=settings.dynamodb_region,
            endpoint=settings.dynamodb_endpoint,
        )
    raise ConfigError(f"unknown storage backend {settings.storage!r}")
