"""Development helpers: ``python -m skill.storage {ping,create-table,count}``.

Uses the same ``REFLECT_*`` settings as the skill. ``create-table`` is for local servers and test
accounts only; production tables are provisioned by deployment.
"""

from __future__ import annotations

import argparse
import sys

from skill.config import load_settings
from skill.errors import ReflectionError
from skill.storage import open_store


def main(argv: list[str] | None = None) -> int:
    """Run one maintenance command; the exit status is 0 on success, 1 on a storage error."""
    parser = argparse.ArgumentParser(prog="python -m skill.storage")
    parser.add_argument("command", choices=["ping", "create-table", "count"])
    args = parser.parse_args(argv)
    try:
        store = open_store(load_settings())
        if args.command == "create-table":
            if store.backend != "dynamodb":
                print("create-table applies to REFLECT_STORAGE=dynamodb only", file=sys.stderr)
                return 1
            from skill.storage.dynamodb import DynamoDBStore, create_table

            assert isinstance(store, DynamoDBStore)
            create_table(store)
            print(f"table {store.table} ready")
        elif args.command == "ping":
            store.ping()
            print(f"{store.backend}: ok")
        else:
            print(store.count())
    except ReflectionError as exc:
        print(f"storage error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
