#!/usr/bin/env bash
# Load and soak: a demo deployment served by `anpr serve`, driven by `anpr-loadgen` on loopback
# with camera ingest at a target of 20,000 reads/s, 100 searching users and 200 alert streams
# (plus one sighting a second of a watched plate, timed to every stream).
#
#   scripts/soak.sh --short            # 60 s, debug build (what CI runs)
#   scripts/soak.sh --long --release   # 10 minutes, release build (the figures in docs/reliability.md)
#   scripts/soak.sh --duration 120 --release -- --ingest-rate 5000   # anything else
#   scripts/soak.sh --synthetic-watches 1000000 ...   # the server matches every read against
#                                                     # a million made-up watches besides
#
# Prints `bench:` lines; fails on any error or if the server's memory grew by more than
# --max-rss-growth-mib (default 256). Client and server share the machine's cores.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=60
profile=debug
build=()
serve_extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --short) duration=60 ;;
    --long) duration=600 ;;
    --duration) duration="$2"; shift ;;
    --release) profile=release; build=(--release) ;;
    --synthetic-watches) serve_extra+=(--synthetic-watches "$2"); shift ;;
    --) shift; break ;;
    *) break ;;
  esac
  shift
done

cargo build -q "${build[@]}" -p anpr -p anpr-loadgen
bin="${CARGO_TARGET_DIR:-target}/$profile"
data=$(mktemp -d /tmp/anpr-soak.XXXXXX)
server=
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$data"
}
trap cleanup EXIT

# The policy's per-user rate limits would refuse a load test's searches: lifted here.
cat > "$data/policy.json" <<'JSON'
{"rate_limits": {"per_user": {"max": 4000000000, "window_minutes": 1},
                 "per_purpose_default": {"max": 4000000000, "window_minutes": 1},
                 "per_purpose": {}}}
JSON
"$bin/anpr" --data "$data/d" demo --no-serve --reads 2000 --days 1 > /dev/null
creds="$data/d/DEMO-CREDENTIALS.txt"
key=$(sed -n 's/.*API key: \([^ ]*\).*/\1/p' "$creds" | head -1)
watched=$(sed -n 's/.*S1002 may track \([A-Z0-9]*\) at once.*/\1/p' "$creds")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
RUST_LOG=warn "$bin/anpr" --data "$data/d" serve --listen "127.0.0.1:$port" \
  --policy "$data/policy.json" "${serve_extra[@]}" > /dev/null &
server=$!
for _ in $(seq 200); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
  sleep 0.1
done
echo "soak: $profile build, ${duration}s, server pid $server on port $port"
"$bin/anpr-loadgen" --base "http://127.0.0.1:$port" --camera-key "$key" \
  --duration-secs "$duration" --watch-plate "$watched" --server-pid "$server" \
  --wal "$data/d/anpr.sqlite-wal" --wal "$data/d/anpr-uses.sqlite-wal" "$@"
