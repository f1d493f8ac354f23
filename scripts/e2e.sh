#!/usr/bin/env bash
# End-to-end tests of the web UI in a real browser: builds `anpr`, seeds a small demo data
# directory, serves it on a random loopback port and runs e2e/run.mjs in Debian's chromium
# (driven by playwright-core). Installs what it needs: chromium (apt-get) and the npm packages
# (npm ci). Screenshots of every screen go to docs/screenshots/ (or $SCREENSHOTS).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"

if ! command -v chromium >/dev/null; then
  echo "installing chromium"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
fi
(cd e2e && npm ci --no-audit --no-fund --silent)

# The browser's Merkle proof checks against RFC 6962 trees computed independently, and a
# plain-language message for every error code the API returns.
node --test e2e/merkle.test.mjs e2e/messages.test.mjs

cargo build -q -p anpr
anpr="$CARGO_TARGET_DIR/debug/anpr"

data="$(mktemp -d /tmp/anpr-e2e.XXXXXX)"
log="$data/serve.log"
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$data"
}
trap cleanup EXIT

"$anpr" --data "$data/demo" demo --reads 4000 --days 2 --no-serve >/dev/null
"$anpr" --data "$data/demo" serve --listen 127.0.0.1:0 >"$log" 2>&1 &
server=$!
url=""
for _ in $(seq 1 100); do
  url="$(sed -n 's/^anpr listening on \(http:\/\/[0-9.:]*\)\/.*/\1/p' "$log")"
  [ -n "$url" ] && break
  kill -0 "$server" 2>/dev/null || { cat "$log"; echo "the server did not start"; exit 1; }
  sleep 0.2
done
[ -n "$url" ] || { cat "$log"; echo "the server did not report its address"; exit 1; }
echo "server at $url"

ANPR_URL="$url" ANPR_DATA="$data/demo" SCREENSHOTS="${SCREENSHOTS:-$root/docs/screenshots}" \
  node e2e/run.mjs
