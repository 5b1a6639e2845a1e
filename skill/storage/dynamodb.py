"""DynamoDB backend (boto3): one item per user id, attributes as a native map, TTL, conditional put.

Item layout (partition key ``user_id``)::

    user_id        S   the Alexa user id
    ver            N   optimistic-concurrency version (1, 2, ...)
    schema_version N   schema of ``attrs``
    attrs          M   UserRecord.to_attributes() (numbers come back as Decimal)
    updated_at     N   epoch seconds of the last write
    expires_at     N   epoch seconds; the table's TTL attribute

Reads are strongly consistent, writes are ``PutItem`` with a ``ConditionExpression`` on ``ver``.
The table is never created implicitly: :func:`create_table` is for tests and development.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from skill.errors import ConcurrentUpdateError, StorageUnavailableError
from skill.storage.base import DEFAULT_TTL_DAYS, UNKNOWN_VERSION, Clock, RawRow, Store, utc_now
from skill.storage.records import SCHEMA_VERSION, RecordError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

log = logging.getLogger("skill.storage")

KEY = "user_id"
TTL_ATTRIBUTE = "expires_at"

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


class DynamoDBStore(Store):
    """Store backed by one DynamoDB table (or a compatible local server such as dynalite).

    Credentials come from boto3's usual chain (role, environment, profile).

    :param table: table name.
    :param region: AWS region.
    :param endpoint: endpoint URL for a local server; empty for AWS itself.
    :param connect_timeout_s: socket connect timeout per attempt.
    :param read_timeout_s: socket read timeout per attempt.
    :param max_attempts: total attempts per call, first included (botocore "standard" retries).
    """

    backend = "dynamodb"

    def __init__(
        self,
        table: str,
        *,
        region: str,
        endpoint: str = "",
        connect_timeout_s: float = 1.0,
        read_timeout_s: float = 2.0,
        max_attempts: int = 2,
        ttl_days: int | None = DEFAULT_TTL_DAYS,
        clock: Clock = utc_now,
    ) -> None:
        super().__init__(ttl_days=ttl_days, clock=clock)
        self.table = table
        config = Config(
            connect_timeout=connect_timeout_s,
            read_timeout=read_timeout_s,
            retries={"max_attempts": max_attempts, "mode": "standard"},
        )
        try:
            self.client: DynamoDBClient = boto3.session.Session().client(
                "dynamodb", region_name=region, endpoint_url=endpoint or None, config=config
            )
        except (BotoCoreError, ValueError) as exc:
            raise StorageUnavailableError(f"dynamodb: cannot create client: {exc}") from exc

    @contextmanager
    def _guard(self, operation: str) -> Iterator[None]:
        """Map botocore failures to :class:`StorageUnavailableError` (never a raw boto error)."""
        try:
            yield
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "Unknown")
            if code == "ConditionalCheckFailedException":
                raise ConcurrentUpdateError("dynamodb: version is no longer current") from exc
            raise StorageUnavailableError(f"dynamodb {operation}: {code}") from exc
        except BotoCoreError as exc:
            raise StorageUnavailableError(
                f"dynamodb {operation}: {type(exc).__name__}: {exc}"
            ) from exc

    # ----------------------------------------------------------------- backend hooks

    def _load(self, user_id: str) -> RawRow | None:
        with self._guard("GetItem"):
            response = self.client.get_item(
                TableName=self.table, Key={KEY: {"S": user_id}}, ConsistentRead=True
            )
        item: Mapping[str, Any] | None = response.get("Item")
        if not item:
            return None
        return RawRow(
            payload=item.get("attrs"),
            version=_number(item.get("ver"), minimum=1) or UNKNOWN_VERSION,
            expires_at=_number(item.get(TTL_ATTRIBUTE), minimum=0),
        )

    def _decode(self, payload: Any) -> Mapping[str, Any]:
        if not isinstance(payload, Mapping):
            raise RecordError("attrs attribute is missing")
        try:
            value = _deserializer.deserialize(dict(payload))  # type: ignore[arg-type]
        except (TypeError, ValueError, KeyError, ArithmeticError) as exc:
            raise RecordError(f"attrs cannot be deserialised: {type(exc).__name__}") from None
        if not isinstance(value, dict):
            raise RecordError(f"attrs is a {type(value).__name__}, not a map")
        return value

    def _write(
        self,
        user_id: str,
        attributes: dict[str, Any],
        expected_version: int,
        new_version: int,
        expires_at: int | None,
    ) -> None:
        item: dict[str, Any] = {
            KEY: {"S": user_id},
            "ver": {"N": str(new_version)},
            "schema_version": {"N": str(SCHEMA_VERSION)},
            "attrs": _serializer.serialize(_to_dynamo(attributes)),
            "updated_at": {"N": str(int(self._clock().timestamp()))},
        }
        if expires_at is not None:
            item[TTL_ATTRIBUTE] = {"N": str(expires_at)}
        values: dict[str, Any] = {}
        if expected_version == 0:
            condition = f"attribute_not_exists({KEY})"
        elif expected_version == UNKNOWN_VERSION:
            condition = (
                f"attribute_exists({KEY}) AND "
                "(attribute_not_exists(ver) OR NOT attribute_type(ver, :n))"
            )
            values = {":n": {"S": "N"}}
        else:
            condition = "ver = :v"
            values = {":v": {"N": str(expected_version)}}
        with self._guard("PutItem"):
            if values:
                self.client.put_item(
                    TableName=self.table,
                    Item=item,
                    ConditionExpression=condition,
                    ExpressionAttributeValues=values,
                )
            else:
                self.client.put_item(TableName=self.table, Item=item, ConditionExpression=condition)

    def _remove(self, user_id: str) -> bool:
        with self._guard("DeleteItem"):
            response = self.client.delete_item(
                TableName=self.table, Key={KEY: {"S": user_id}}, ReturnValues="ALL_OLD"
            )
        return bool(response.get("Attributes"))

    # ----------------------------------------------------------------- maintenance

    def ping(self) -> None:
        """Check the table exists and is usable.

        :raises StorageUnavailableError: the endpoint, credentials or table are not usable.
        """
        with self._guard("DescribeTable"):
            status = self.client.describe_table(TableName=self.table)["Table"].get("TableStatus")
        if status not in {"ACTIVE", "UPDATING"}:
            raise StorageUnavailableError(f"dynamodb: table {self.table} is {status}")

    def keys(self) -> list[str]:
        """Every stored user id, sorted (a full scan: tests and maintenance only)."""
        found: list[str] = []
        with self._guard("Scan"):
            for page in self.client.get_paginator("scan").paginate(
                TableName=self.table, ProjectionExpression=KEY, ConsistentRead=True
            ):
                found.extend(item[KEY]["S"] for item in page.get("Items", []))
        return sorted(found)

    def scan_raw(self) -> list[dict[str, Any]]:
        """Every stored item in DynamoDB's wire format (tests: privacy and TTL checks)."""
        items: list[dict[str, Any]] = []
        with self._guard("Scan"):
            for page in self.client.get_paginator("scan").paginate(
                TableName=self.table, ConsistentRead=True
            ):
                items.extend(dict(item) for item in page.get("Items", []))
        return items


def create_table(store: DynamoDBStore, *, timeout_s: float = 30.0) -> None:
    """Create the store's table (on-demand billing) and enable TTL; for tests and development.

    Production tables are provisioned by deployment, never by the running skill. An existing table
    is left as it is. A server without the TTL API (dynalite) is tolerated with a log line.

    :raises StorageUnavailableError: the table could not be created or did not become active.
    """
    client = store.client
    with store._guard("CreateTable"):
        try:
            client.create_table(
                TableName=store.table,
                AttributeDefinitions=[{"AttributeName": KEY, "AttributeType": "S"}],
                KeySchema=[{"AttributeName": KEY, "KeyType": "HASH"}],
                BillingMode="PAY_PER_REQUEST",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceInUseException":
                raise
    deadline = time.monotonic() + timeout_s
    while True:
        with store._guard("DescribeTable"):
            status = client.describe_table(TableName=store.table)["Table"].get("TableStatus")
        if status == "ACTIVE":
            break
        if time.monotonic() > deadline:
            raise StorageUnavailableError(f"dynamodb: table {store.table} stayed {status}")
        time.sleep(0.05)
    try:
        client.update_time_to_live(
            TableName=store.table,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
        )
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code not in {"UnknownOperationException", "ValidationException"}:
            raise StorageUnavailableError(f"dynamodb UpdateTimeToLive: {code}") from exc
        log.info("storage: TTL not enabled on %s (%s)", store.table, code)
    except BotoCoreError as exc:
        raise StorageUnavailableError(f"dynamodb UpdateTimeToLive: {exc}") from exc


def drop_table(store: DynamoDBStore) -> None:
    """Delete the store's table and everything in it (tests and development only)."""
    with store._guard("DeleteTable"):
        try:
            store.client.delete_table(TableName=store.table)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise


def _number(value: Any, *, minimum: int) -> int | None:
    """An int from a wire-format ``{"N": ...}`` attribute, or ``None`` if absent or odd."""
    if not isinstance(value, Mapping) or not isinstance(value.get("N"), str):
        return None
    try:
        number = Decimal(value["N"])
    except ArithmeticError:
        return None
    if not number.is_finite() or number != number.to_integral_value() or number < minimum:
        return None
    return int(number)


def _to_dynamo(value: Any) -> Any:
    """Make JSON-shaped data acceptable to :class:`TypeSerializer` (floats become Decimal)."""
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, Mapping):
        return {str(k): _to_dynamo(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_dynamo(v) for v in value]
    return value
