"""Fixtures for the storage tests: a real dynalite server on loopback and one helper per backend.

dynalite (npm, a DynamoDB-compatible server on LevelDB/in-memory) is started once per session from
the repo's ``node_modules`` (``npm ci`` installs it from package-lock.json). The DynamoDB client is
a real boto3 client speaking HTTP to it: nothing is mocked.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import socket
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from skill.storage import Store
from skill.storage.base import Clock, utc_now
from skill.storage.dynamodb import DynamoDBStore, create_table, drop_table
from skill.storage.sqlite import TABLE, SqliteStore
from tests.conftest import raw_bytes

REPO_ROOT = Path(__file__).resolve().parents[2]
DYNALITE_CLI = REPO_ROOT / "node_modules" / "dynalite" / "cli.js"
USER = "amzn1.ask.account.AGF7EXAMPLE" + "Q" * 180  # Alexa ids are long opaque strings


def _free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_until_listening(port: int, proc: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(
                f"dynalite exited with {proc.returncode}: {log_path.read_text(errors='replace')}",
                pytrace=False,
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"dynalite did not listen on 127.0.0.1:{port} within 30 s", pytrace=False)


@pytest.fixture(scope="session")
def dynalite_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A dynalite server on a free loopback port, with dummy AWS credentials in the environment."""
    if not DYNALITE_CLI.is_file():
        pytest.fail(
            f"dynalite is not installed ({DYNALITE_CLI} missing): run `npm ci` in {REPO_ROOT} "
            "(needs Node.js >= 20 and npm)",
            pytrace=False,
        )
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH: install Node.js >= 20, then run `npm ci`", pytrace=False)
    port = _free_port()
    workdir = tmp_path_factory.mktemp("dynalite")
    log_path = workdir / "dynalite.log"
    command = [node, str(DYNALITE_CLI), "--host", "127.0.0.1", "--port", str(port)]
    command += ["--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0"]
    with log_path.open("wb") as log_file:
        proc = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, cwd=REPO_ROOT)
    try:
        _wait_until_listening(port, proc, log_path)
        with pytest.MonkeyPatch.context() as mp:
            for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
                mp.delenv(name, raising=False)
            mp.setenv("AWS_ACCESS_KEY_ID", "dummy-test-key")
            mp.setenv("AWS_SECRET_ACCESS_KEY", "dummy-test-secret")
            mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
            mp.setenv("AWS_EC2_METADATA_DISABLED", "true")
            mp.setenv("AWS_CONFIG_FILE", str(workdir / "no-aws-config"))
            mp.setenv("AWS_SHARED_CREDENTIALS_FILE", str(workdir / "no-aws-credentials"))
            yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class FixedClock:
    """A settable clock for TTL and pruning tests."""

    now: dt.datetime = field(default_factory=utc_now)

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class Backend:
    """One backend under test, with raw access for planting and inspecting rows."""

    name: str
    make: Callable[..., Store]
    store: Store

    def write_raw(self, user_id: str, attributes: Any, version: int | None = 1) -> None:
        """Store ``attributes`` exactly as given (bypassing the record), e.g. an old schema."""
        if isinstance(self.store, SqliteStore):
            self.store.ping()
            body = attributes if isinstance(attributes, str) else json.dumps(attributes)
            with closing(sqlite3.connect(self.store.path, isolation_level=None)) as conn:
                conn.execute(
                    f"INSERT OR REPLACE INTO {TABLE} (user_id, version, schema_version,"
                    " attributes, updated_at, expires_at) VALUES (?, ?, 1, ?, 0, NULL)",
                    (user_id, version if version is not None else "garbage", body),
                )
            return
        assert isinstance(self.store, DynamoDBStore)
        from boto3.dynamodb.types import TypeSerializer

        item: dict[str, Any] = {
            "user_id": {"S": user_id},
            "attrs": {"S": attributes}
            if isinstance(attributes, str)
            else TypeSerializer().serialize(attributes),
        }
        if version is not None:
            item["ver"] = {"N": str(version)}
        self.store.client.put_item(TableName=self.store.table, Item=item)

    def dump(self) -> str:
        """Everything the backend holds, as text (SQLite: the file and its WAL, byte for byte)."""
        if isinstance(self.store, SqliteStore):
            parts = [self.store.path, Path(f"{self.store.path}-wal")]
            return raw_bytes(parts).decode("utf-8", errors="replace")
        assert isinstance(self.store, DynamoDBStore)
        return json.dumps(self.store.scan_raw(), ensure_ascii=False)

    def raw_row(self, user_id: str) -> dict[str, Any]:
        """The stored row/item of one user, undecoded."""
        if isinstance(self.store, SqliteStore):
            with closing(sqlite3.connect(self.store.path)) as conn:
                conn.row_factory = sqlite3.Row
                row = conn.execute(
                    f"SELECT * FROM {TABLE} WHERE user_id = ?", (user_id,)
                ).fetchone()
            return dict(row)
        assert isinstance(self.store, DynamoDBStore)
        item = self.store.client.get_item(
            TableName=self.store.table, Key={"user_id": {"S": user_id}}, ConsistentRead=True
        )["Item"]
        return dict(item)


@pytest.fixture(params=["sqlite", "dynamodb"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Each contract test once per backend; every store is empty and private to the test."""
    made: list[Store] = []
    table: DynamoDBStore | None = None
    if request.param == "sqlite":
        db_path = tmp_path / "state" / "skill.sqlite3"

        def make(clock: Clock = utc_now, **kwargs: Any) -> Store:
            store = SqliteStore(db_path, clock=clock, **kwargs)
            made.append(store)
            return store

    else:
        endpoint = request.getfixturevalue("dynalite_endpoint")
        name = f"test-{uuid.uuid4().hex[:12]}"

        def make(clock: Clock = utc_now, **kwargs: Any) -> Store:
            store = DynamoDBStore(name, region="us-east-1", endpoint=endpoint, clock=clock, **kwargs)
            made.append(store)
            return store

        table = DynamoDBStore(name, region="us-east-1", endpoint=endpoint)
        create_table(table)
    yield Backend(request.param, make, make())
    if table is not None:
        drop_table(table)
    for store in made:
        store.close()
