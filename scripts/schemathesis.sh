#!/usr/bin/env bash
# Schemathesis against a live node: every operation of its OpenAPI document, with generated and
# schema-violating requests, on a dev node holding a few deposits. Fails on any 5xx, a status,
# content type, header or body the document does not allow, or a request the document forbids
# that the node accepts. Deterministic and bounded (50 examples an operation; the run is cut
# after 300 s). Usage: scripts/schemathesis.sh [path to cairn]  (default: target/debug/cairn)
set -euo pipefail
cd "$(dirname "$0")/.."
CAIRN="${1:-$PWD/target/debug/cairn}"
SCHEMATHESIS_VERSION=4.32.5
VENV="$PWD/target/schemathesis-venv"

if [ ! -x "$VENV/bin/schemathesis" ] || ! "$VENV/bin/schemathesis" --version | grep -q "$SCHEMATHESIS_VERSION"; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

dir=$(mktemp -d)
node_pid=
cleanup() { [ -n "$node_pid" ] && kill "$node_pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT

# A free port, retried if another program takes it before the node binds it.
for attempt in 1 2 3 4 5; do
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  RUST_LOG=warn "$CAIRN" dev --data-dir "$dir/data" --listen "127.0.0.1:$port" >/dev/null 2>"$dir/node.log" &
  node_pid=$!
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break 2
    kill -0 "$node_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill "$node_pid" 2>/dev/null || true
  node_pid=
done
[ -n "$node_pid" ] || { cat "$dir/node.log"; echo "schemathesis: the node did not start"; exit 1; }

# Something to find: deposits with references, so lookups, receipts and proofs reach real data.
for i in 1 2 3; do
  echo "document $i" > "$dir/doc-$i.txt"
  "$CAIRN" evidence submit --node "http://127.0.0.1:$port" --key "$dir/data/keys/submitter.key" --reference "case-$i" --wait "$dir/doc-$i.txt" >/dev/null
done

# From the temporary folder: schemathesis keeps its cache (.schemathesis/) in the working folder.
(cd "$dir" && timeout 300 "$VENV/bin/schemathesis" run "http://127.0.0.1:$port/v1/openapi.json" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,negative_data_rejection \
  --max-examples 50 --generation-deterministic --request-timeout 20 --no-color)
kill -0 "$node_pid" || { cat "$dir/node.log"; echo "schemathesis: the node died during the run"; exit 1; }
