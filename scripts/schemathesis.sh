#!/usr/bin/env bash
# API conformance: schemathesis (PyPI) against a running demo server's /api/openapi.json, once
# per principal — a camera key and a session of each staff role — for every operation:
# no 5xx, and every response's body and content type match the document.
#
#   scripts/schemathesis.sh            # 10 examples per operation and principal (CI)
#   scripts/schemathesis.sh 200        # a longer run
#
# Not exercised here: GET /api/v1/alerts/stream (an SSE stream that never ends; tests/
# realtime.rs covers it) and POST /api/v1/auth/logout (it would end the session under test;
# tests/abuse.rs covers it).
set -euo pipefail
cd "$(dirname "$0")/.."
examples="${1:-10}"

if ! command -v schemathesis >/dev/null 2>&1; then
  echo "installing schemathesis from PyPI"
  python3 -m pip install --quiet schemathesis
fi
cargo build -q -p anpr
bin="${CARGO_TARGET_DIR:-target}/debug/anpr"
work=$(mktemp -d /tmp/anpr-schemathesis.XXXXXX)
server=
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  if [ "${status:-1}" != 0 ]; then cp "$work"/*.log "${SCHEMATHESIS_LOGS:-/tmp}/" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

cat > "$work/policy.json" <<'JSON'
{"rate_limits": {"per_user": {"max": 4000000000, "window_minutes": 1},
                 "per_purpose_default": {"max": 4000000000, "window_minutes": 1},
                 "per_purpose": {}}}
JSON
"$bin" --data "$work/d" demo --no-serve --reads 300 --days 1 > /dev/null
key=$(sed -n 's/.*API key: \([^ ]*\).*/\1/p' "$work/d/DEMO-CREDENTIALS.txt" | head -1)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
RUST_LOG=warn "$bin" --data "$work/d" serve --listen "127.0.0.1:$port" --policy "$work/policy.json" \
  > "$work/server.log" 2>&1 &
server=$!
for _ in $(seq 200); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
  sleep 0.1
done

token() {
  curl -sf "$base/api/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"staff_id\": \"$1\", \"password\": \"demo-password-2026\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}

status=0
total=0
# Each principal on the operations its role may use (tags of the document), so that cases reach
# the handlers instead of stopping at 403; together they cover every tag. (The matrix of who
# may call what is tests/authz_matrix.rs.)
run() {
  local who="$1" credential="$2"; shift 2
  echo "== schemathesis as $who: $*"
  local log="$work/$who.log"
  local tags=()
  for t in "$@"; do tags+=(--include-tag "$t"); done
  schemathesis run "$base/api/openapi.json" "${tags[@]}" \
      --header "Authorization: Bearer $credential" \
      --checks not_a_server_error,response_schema_conformance,content_type_conformance \
      --phases examples,coverage,fuzzing --max-examples "$examples" --seed 2026 \
      --exclude-path /api/v1/alerts/stream --exclude-path /api/v1/auth/logout \
      --request-timeout 20 --workers 2 --no-color > "$log" 2>&1 || true
  # A failed check fails the run; an internal error of schemathesis itself (a crash while
  # generating, as Python 3.11's "AST constructor recursion depth mismatch") is reported.
  if grep -q "= FAILURES =" "$log"; then
    status=1
    sed -n '/= FAILURES =/,$p' "$log"
  elif grep -q "= ERRORS =" "$log"; then
    echo "schemathesis reported internal errors (not API failures):"
    grep -A3 "^___" "$log" | grep -v Traceback | head -20
  fi
  grep -E "generated|passed|failed" "$log" | tail -2
  local n
  n=$(grep -oE '[0-9]+ generated' "$log" | grep -oE '^[0-9]+' | tail -1 || true)
  total=$((total + ${n:-0}))
}

run camera "$key" ingest
run S1001 "$(token S1001)" search tracking auth
run S1002 "$(token S1002)" tracking
run S1003 "$(token S1003)" tracking retention
run S1005 "$(token S1005)" ledger ops admin
run S1006 "$(token S1006)" admin retention ops auth
if ! kill -0 "$server" 2>/dev/null; then
  echo "the server died during the run:"; tail -50 "$work/server.log"; status=1
fi
if grep -q "panicked" "$work/server.log"; then
  echo "the server panicked:"; grep -A5 panicked "$work/server.log"; status=1
fi
echo "bench: schemathesis_cases $total cases"
exit $status
