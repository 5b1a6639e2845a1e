"""DynamoDB-specific behaviour against a real dynalite server: layout, TTL, errors, unreachable."""

from __future__ import annotations

import datetime as dt
import socket
from contextlib import closing
from decimal import Decimal

import pytest

from skill.config import load_settings
from skill.errors import StorageUnavailableError
from skill.storage import DEFAULT_TTL_DAYS, SCHEMA_VERSION, UserRecord, open_store
from skill.storage.dynamodb import DynamoDBStore, create_table, drop_table
from tests.storage.conftest import USER, FixedClock

NOW = dt.datetime(2025, 6, 1, 12, tzinfo=dt.UTC)


@pytest.fixture
def store(dynalite_endpoint: str) -> DynamoDBStore:
    """A fresh table on the session's dynalite server."""
    made = DynamoDBStore(
        "dyn-specific", region="us-east-1", endpoint=dynalite_endpoint, clock=FixedClock(NOW)
    )
    drop_table(made)
    create_table(made)
    return made


def _closed_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # closed again: nothing listens there


def test_item_layout_and_ttl(store: DynamoDBStore) -> None:
    """If a record is written, then the item has ver, schema, a native map and the TTL attribute."""
    store.put(USER, UserRecord().with_crisis(), expected_version=0)
    item = store.scan_raw()[0]
    assert item["user_id"] == {"S": USER}
    assert item["ver"] == {"N": "1"}
    assert item["schema_version"] == {"N": str(SCHEMA_VERSION)}
    assert item["attrs"]["M"]["crisis_count"] == {"N": "1"}
    assert item["expires_at"] == {"N": str(int(NOW.timestamp()) + DEFAULT_TTL_DAYS * 86_400)}


def test_numbers_come_back_as_decimal(store: DynamoDBStore) -> None:
    """If attributes are read back, then DynamoDB numbers (Decimal) become ints in the record."""
    store.put(USER, UserRecord().with_crisis().with_crisis(), expected_version=0)
    raw = store._decode(store._load(USER).payload)  # type: ignore[union-attr]
    assert raw["crisis_count"] == Decimal(2)
    assert store.get(USER).record.crisis_count == 2


def test_no_ttl_when_disabled(dynalite_endpoint: str) -> None:
    """If ttl_days is None, then items carry no expiry attribute."""
    store = DynamoDBStore("dyn-nottl", region="us-east-1", endpoint=dynalite_endpoint, ttl_days=None)
    create_table(store)
    store.put(USER, UserRecord().with_crisis(), expected_version=0)
    assert "expires_at" not in store.scan_raw()[0]
    drop_table(store)


def test_create_table_is_idempotent(store: DynamoDBStore) -> None:
    """If the table already exists, then create_table leaves it and its items alone."""
    store.put(USER, UserRecord().with_crisis(), expected_version=0)
    create_table(store)
    assert store.keys() == [USER]


def test_missing_table_is_unavailable(dynalite_endpoint: str) -> None:
    """If the table does not exist, then calls raise StorageUnavailableError (no auto-create)."""
    store = DynamoDBStore("no-such-table", region="us-east-1", endpoint=dynalite_endpoint)
    with pytest.raises(StorageUnavailableError, match="ResourceNotFoundException"):
        store.get(USER)
    with pytest.raises(StorageUnavailableError, match="ResourceNotFoundException"):
        store.ping()


def test_unreachable_endpoint_is_unavailable(dynalite_endpoint: str) -> None:
    """If nothing listens at the endpoint, then every call raises StorageUnavailableError."""
    store = DynamoDBStore(
        "t",
        region="us-east-1",
        endpoint=f"http://127.0.0.1:{_closed_port()}",
        connect_timeout_s=0.2,
        read_timeout_s=0.2,
        max_attempts=1,
    )
    with pytest.raises(StorageUnavailableError, match="GetItem: EndpointConnectionError"):
        store.get(USER)
    with pytest.raises(StorageUnavailableError, match="PutItem"):
        store.put(USER, UserRecord(), expected_version=0)
    with pytest.raises(StorageUnavailableError, match="DeleteItem"):
        store.delete(USER)
    with pytest.raises(StorageUnavailableError, match="DescribeTable"):
        store.ping()
    with pytest.raises(StorageUnavailableError, match="GetItem"):
        store.update(USER, lambda r: r.with_crisis())


def test_open_store_builds_dynamodb(dynalite_endpoint: str) -> None:
    """If settings say dynamodb, then open_store returns a DynamoDBStore on that endpoint."""
    settings = load_settings(
        {
            "storage": "dynamodb",
            "dynamodb_table": "dyn-open",
            "dynamodb_endpoint": dynalite_endpoint,
        },
        {},
    )
    store = open_store(settings)
    assert isinstance(store, DynamoDBStore)
    assert store.table == "dyn-open"
    with pytest.raises(StorageUnavailableError, match="ResourceNotFoundException"):
        store.ping()
