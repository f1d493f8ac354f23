#!/usr/bin/env bash
# The load of issue 25's table, on a release build: 4 connections posting 1,000-read batches
# back to back while 2 officers search (an exact plate, a valid purpose, 50 ms between searches)
# and a third searches OCR-fuzzy, with 2 alert streams and one sighting a second of a watched
# plate, the server matching every read against 1,000,000 watches (made up, besides the real
# one). Prints `bench:` lines: ingest reads/s, exact and fuzzy search p50/p90/p99/max, alert
# latency from the camera's send, the server's
# RSS (start, peak, end, growth after the first minute), the SQLite WAL's peak size, and the
# server's own timing of each step of a use (policy facts, decision record, store search,
# disclosures, ledger append, ingest commit, matching): the profile of where the time went.
#
#   scripts/load.sh            # 6 minutes
#   scripts/load.sh 1800       # 30 minutes (the memory bound's run)
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-360}"
exec scripts/soak.sh --duration "$duration" --release \
  --synthetic-watches "${LOAD_WATCHES:-1000000}" -- \
  --ingest-concurrency 4 --batch 1000 --ingest-rate ${LOAD_INGEST_RATE:-1000000} \
  --searchers 2 --fuzzy-searchers 1 --think-ms 50 --search-users S1001,S1002 \
  --sse-clients 2 --max-rss-growth-mib 100000 --metrics-user S1005
