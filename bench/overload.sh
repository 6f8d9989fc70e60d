#!/usr/bin/env bash
# Load shedding: what the server does with five times the load it can serve.
#
# On a fresh private database (2,000 approved stalls in 2 tenants), the release server with its
# default admission settings (http::admission), and the load generator (benches/overload.rs) on
# the other processor, sending a night's mix of reads: the API's market lists, a market's public
# figures (a heavy query), and stalls' scan pages.
#   1. capacity: closed loop, 64 connections — what the server serves per second (X);
#   2. normal: open loop at X requests/s — latency of the load the server can serve;
#   3. overload: open loop at 5·X — the admitted requests' latency, the excess answered 503
#      `overloaded` with Retry-After, the server's peak memory;
#   4. the same overload against the server with admission control turned off, for comparison.
# Prints a summary: the ratio of the admitted p99 at 5·X to the p99 at X must be at most 2, no
# shed answer without Retry-After, no transport error, memory bounded. Figures go in BENCHMARKS.md.
#
#   bench/overload.sh
#   DURATION=10 FACTOR=5 bench/overload.sh
#   COMPARE=0 bench/overload.sh          # skip the run without admission control
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

STALLS=${STALLS:-2000}
TENANTS=${TENANTS:-2}
DURATION=${DURATION:-20}
FACTOR=${FACTOR:-5}
COMPARE=${COMPARE:-1}

build_release
make_dir overload
echo "== seeding $STALLS stalls in $TENANTS tenants"
env -u DATABASE_URL RUST_LOG=warn "$BIN" bench-seed --data-dir "$DIR/data" --stalls "$STALLS" --tenants "$TENANTS" \
  --out "$DIR/codes.txt" >/dev/null
start_server
echo "== server on $( [ "$PIN" = 1 ] && echo "processor 0, load generator on processor 1" || echo "any processor")"

# The mix: per tenant eight market lists, and one market's public figures; eight random stalls'
# scan pages per tenant (cached after the first read, as on a busy night).
: >"$DIR/paths.txt"
for t in $(seq 1 "$TENANTS"); do
  market=$(curl -fs "$BASE/api/v1/t/load-$t/markets" | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["id"])')
  for _ in $(seq 1 8); do echo "/api/v1/t/load-$t/markets" >>"$DIR/paths.txt"; done
  echo "/api/v1/t/load-$t/markets/$market/stats" >>"$DIR/paths.txt"
  grep "k=load-$t-" "$DIR/codes.txt" | shuf -n 8 >>"$DIR/paths.txt"
done
echo "   $(wc -l <"$DIR/paths.txt") paths: $(grep -c '/markets$' "$DIR/paths.txt") market lists, $(grep -c '/stats$' "$DIR/paths.txt") market figures, $(grep -c '^/c/' "$DIR/paths.txt") scan pages"

run() { # run NAME MODE [RATE|CONNECTIONS]
  local name=$1 mode=$2 n=$3
  if [ "$mode" = open ]; then
    BASE=$BASE PATHS=$DIR/paths.txt MODE=open RATE=$n DURATION=$DURATION on_load_cpu "$GENERATOR" | tee "$DIR/$name.txt"
  else
    BASE=$BASE PATHS=$DIR/paths.txt MODE=closed CONNECTIONS=$n DURATION=$DURATION on_load_cpu "$GENERATOR" | tee "$DIR/$name.txt"
  fi
}

echo "== warming up (5 s, not measured)"
BASE=$BASE PATHS=$DIR/paths.txt MODE=closed CONNECTIONS=32 DURATION=5 on_load_cpu "$GENERATOR" >/dev/null
echo "== 1. capacity"
run capacity closed 64
X=$(figure admitted_per_s "$DIR/capacity.txt")
echo "== 2. normal: X = $X requests/s offered"
watch_memory
run normal open "$X"
NORMAL_MB=$(peak_memory)
echo "== 3. overload: $FACTOR·X = $((X * FACTOR)) requests/s offered"
watch_memory
run overload open $((X * FACTOR))
OVERLOAD_MB=$(peak_memory)

if [ "$COMPARE" = 1 ]; then
  echo "== 4. the same overload without admission control"
  stop_server TERM
  start_server --max-in-flight 1000000 --max-queue 0
  BASE=$BASE PATHS=$DIR/paths.txt MODE=closed CONNECTIONS=32 DURATION=5 on_load_cpu "$GENERATOR" >/dev/null
  watch_memory
  run unguarded open $((X * FACTOR))
  UNGUARDED_MB=$(peak_memory)
fi

P99_N=$(figure p99_ms "$DIR/normal.txt")
P99_O=$(figure p99_ms "$DIR/overload.txt")
echo
echo "== summary"
echo "capacity (closed loop, 64 connections): $X requests/s, p99 $(figure p99_ms "$DIR/capacity.txt") ms"
echo "at X:        admitted $(figure admitted_per_s "$DIR/normal.txt")/s, p50 $(figure p50_ms "$DIR/normal.txt") ms, p99 $P99_N ms, shed share $(figure shed_share "$DIR/normal.txt"), peak RSS $NORMAL_MB MB"
echo "at $FACTOR·X:      admitted $(figure admitted_per_s "$DIR/overload.txt")/s, p50 $(figure p50_ms "$DIR/overload.txt") ms, p99 $P99_O ms, shed share $(figure shed_share "$DIR/overload.txt") (shed p99 $(figure shed_p99_ms "$DIR/overload.txt") ms), peak RSS $OVERLOAD_MB MB"
if [ "$COMPARE" = 1 ]; then
  echo "unguarded:   admitted $(figure admitted_per_s "$DIR/unguarded.txt")/s, p50 $(figure p50_ms "$DIR/unguarded.txt") ms, p99 $(figure p99_ms "$DIR/unguarded.txt") ms, other answers (5xx) $(figure other "$DIR/unguarded.txt"), timeouts/errors $(figure errors "$DIR/unguarded.txt"), peak RSS $UNGUARDED_MB MB"
fi
RATIO=$(awk -v o="$P99_O" -v n="$P99_N" 'BEGIN { printf "%.2f", (n > 0 ? o / n : 0) }')
echo "admitted p99 at $FACTOR·X / p99 at X: $RATIO (must be ≤ 2)"
FAILED=0
awk -v r="$RATIO" 'BEGIN { exit !(r > 2) }' && { echo "FAIL: the admitted p99 grew more than twofold"; FAILED=1; }
[ "$(figure shed_no_retry_after "$DIR/overload.txt")" = 0 ] || { echo "FAIL: shed answers without Retry-After"; FAILED=1; }
[ "$(figure errors "$DIR/overload.txt")" = 0 ] || { echo "FAIL: transport errors under overload"; FAILED=1; }
[ "$(figure other "$DIR/overload.txt")" = 0 ] || { echo "FAIL: answers other than 2xx and 503 overloaded"; FAILED=1; }
exit $FAILED
