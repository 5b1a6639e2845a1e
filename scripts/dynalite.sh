#!/usr/bin/env bash
# Start dynalite (a DynamoDB-compatible server, in memory) on loopback for local development,
# create the skill's table, and print the settings to point the skill at it. Ctrl-C stops it.
#
#   bash scripts/dynalite.sh            # port 4567
#   PORT=8000 bash scripts/dynalite.sh
#
# The tests do not need this script: tests/storage/conftest.py starts its own server on a free port.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${PORT:-4567}"
CLI=node_modules/dynalite/cli.js
if [ ! -f "$CLI" ]; then
  echo "dynalite is not installed: run \`npm ci\` in $(pwd) (needs Node.js >= 20)" >&2
  exit 1
fi

export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-dummy-local-key}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-dummy-local-secret}"
export AWS_EC2_METADATA_DISABLED=true
export REFLECT_STORAGE=dynamodb
export REFLECT_DYNAMODB_ENDPOINT="http://127.0.0.1:${PORT}"
export REFLECT_DYNAMODB_REGION="${REFLECT_DYNAMODB_REGION:-us-east-1}"

node "$CLI" --host 127.0.0.1 --port "$PORT" --createTableMs 0 --deleteTableMs 0 --updateTableMs 0 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT INT TERM

for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/${PORT}") 2>/dev/null && break
  sleep 0.1
done
PY=.venv/bin/python
[ -x "$PY" ] || PY=python3
"$PY" -m skill.storage create-table

cat <<MSG
dynalite is listening on http://127.0.0.1:${PORT} (in memory: data is gone when it stops).
In another shell:
  export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY}
  export REFLECT_STORAGE=dynamodb REFLECT_DYNAMODB_ENDPOINT=${REFLECT_DYNAMODB_ENDPOINT}
MSG
wait "$server"
