#!/usr/bin/env bash
# The scan page's speed against /healthz, on a private database with 10,000 approved stalls in
# 3 tenants. Builds the release binary, seeds a fresh data directory (its own PostgreSQL), starts
# the server, warms both endpoints, then measures each with wrk (64 connections, 20 s): requests/s,
# p50, p99, the ratio scan/healthz, and the server's peak memory (VmHWM of the nightmarket
# process; PostgreSQL is separate). Figures go in BENCHMARKS.md.
#
# Then what a flood of cookie-less scans (every request a new device, as wrk sends them) does to
# everything else: /healthz and a signed-in page (load-1's admin on /official) are probed at a light
# load (PROBE_CONNECTIONS each) before the flood, during the measured scan run, and for 15 s after
# it (the counts are flushed every 5 s). Every probe answer must be 2xx; the script fails otherwise.
#
#   bench/scan.sh                       # 10,000 stalls, 64 connections, 20 s each
#   STALLS=2000 DURATION=10s bench/scan.sh
#
# Needs wrk (apt-get install wrk) and the PostgreSQL server programs the server uses anyway.
set -euo pipefail
cd "$(dirname "$0")/.."

STALLS=${STALLS:-10000}
TENANTS=${TENANTS:-3}
CONNECTIONS=${CONNECTIONS:-64}
DURATION=${DURATION:-20s}
THREADS=${THREADS:-2}
PROBE_CONNECTIONS=${PROBE_CONNECTIONS:-2}

command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 2; }
# NO_BUILD=1 measures the binary already in target/release.
[ -n "${NO_BUILD:-}" ] || cargo build --release --quiet
BIN=target/release/nightmarket
DIR=$(mktemp -d "${TMPDIR:-/tmp}/nm-scan-bench.XXXXXX")
chmod 711 "$DIR"
SERVER=
cleanup() {
  if [ -n "$SERVER" ]; then kill -TERM "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
  rm -rf "$DIR"
}
trap cleanup EXIT

echo "== seeding $STALLS stalls in $TENANTS tenants into $DIR"
env -u DATABASE_URL RUST_LOG=warn "$BIN" bench-seed --data-dir "$DIR/data" \
  --stalls "$STALLS" --tenants "$TENANTS" --out "$DIR/codes.txt"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# The sweeper is off so that a sweep of every stall does not run inside the measurement.
env -u DATABASE_URL RUST_LOG=warn "$BIN" serve --data-dir "$DIR/data" --no-demo \
  --addr "127.0.0.1:$PORT" --sweep-secs 0 >"$DIR/server.log" 2>&1 &
SERVER=$!
BASE="http://127.0.0.1:$PORT"
for _ in $(seq 1 300); do
  curl -fs "$BASE/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fs "$BASE/healthz" >/dev/null || { cat "$DIR/server.log"; exit 1; }
SAMPLE=$(head -1 "$DIR/codes.txt")
curl -fs -o /dev/null "$BASE$SAMPLE" || { echo "a seeded code does not open"; exit 1; }

export CODES="$DIR/codes.txt" THREADS
echo "== warming up: /healthz for 5 s, then every code once (not measured)"
wrk -t"$THREADS" -c"$CONNECTIONS" -d5s -H 'Accept-Encoding: gzip' "$BASE/healthz" >/dev/null
wrk -t"$THREADS" -c"$CONNECTIONS" -d30s -s bench/warm.lua "$BASE" | awk '/requests in/ {print "   " $0}'

echo "== /healthz: $CONNECTIONS connections, $DURATION"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H 'Accept-Encoding: gzip' "$BASE/healthz" | tee "$DIR/healthz.txt"

# A signed-in page for the probes: load-1's admin, signed in through the form as a browser is.
PASSWORD=$(head -1 "$DIR/codes.admin")
curl -fs -o /dev/null -c "$DIR/cookies" -X POST "$BASE/login" -H "Origin: $BASE" \
  --data-urlencode tenant=load-1 --data-urlencode login=admin --data-urlencode "password=$PASSWORD" --data-urlencode next=
COOKIE=$(sed 's/^#HttpOnly_//' "$DIR/cookies" | awk '!/^#/ && NF >= 7 {printf "%s=%s; ", $6, $7}')
PAGE=/official
curl -fs -o /dev/null -H "Cookie: $COOKIE" "$BASE$PAGE" || { echo "the signed-in page did not open"; exit 1; }
# probe NAME SECONDS: /healthz and the signed-in page at a light load, in the background;
# probed waits for both (a plain `wait` would wait for the server too).
PROBES=()
probe() {
  wrk -t1 -c"$PROBE_CONNECTIONS" -d"$2" --latency "$BASE/healthz" >"$DIR/probe-$1-healthz.txt" &
  PROBES=($!)
  wrk -t1 -c"$PROBE_CONNECTIONS" -d"$2" --latency -H "Cookie: $COOKIE" "$BASE$PAGE" >"$DIR/probe-$1-page.txt" &
  PROBES+=($!)
}
probed() { wait "${PROBES[@]}"; }
echo "== probes before the flood: /healthz and $PAGE, $PROBE_CONNECTIONS connections each, 10 s"
probe before 10s
probed

echo "== /c/{code} over $(wc -l <"$CODES") random codes (cookie-less: a new device each): $CONNECTIONS connections, $DURATION, probes beside it"
probe during "$DURATION"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s bench/scan.lua "$BASE" | tee "$DIR/scan.txt"
probed
echo "== probes for 15 s after the flood (its counts being written)"
probe after 15s
probed

rps() { awk '/^Requests\/sec/ {print $2}' "$1"; }
pct() { awk -v p="$2" '$1 == p {print $2}' "$1"; }
errors() { awk '/Non-2xx|Socket errors/ {print}' "$1"; }
H=$(rps "$DIR/healthz.txt"); S=$(rps "$DIR/scan.txt")
RSS=$(awk '/VmHWM/ {printf "%.1f MB", $2/1024}' "/proc/$SERVER/status")
echo
echo "== summary"
printf '%-10s %12s %10s %10s\n' endpoint 'req/s' p50 p99
printf '%-10s %12s %10s %10s\n' /healthz "$H" "$(pct "$DIR/healthz.txt" 50%)" "$(pct "$DIR/healthz.txt" 99%)"
printf '%-10s %12s %10s %10s\n' '/c/{code}' "$S" "$(pct "$DIR/scan.txt" 50%)" "$(pct "$DIR/scan.txt" 99%)"
echo "ratio scan/healthz: $(awk -v s="$S" -v h="$H" 'BEGIN {printf "%.2f", s/h}')"
echo "server peak RSS: $RSS"
E="$(errors "$DIR/healthz.txt")$(errors "$DIR/scan.txt")"
[ -z "$E" ] || { echo "errors during the run:"; echo "$E"; }

echo
echo "== beside the flood (probes at $PROBE_CONNECTIONS connections each)"
printf '%-8s %-10s %10s %10s %10s %8s\n' phase probe 'req/s' p50 p99 non-2xx
failed=0
for phase in before during after; do
  for what in healthz page; do
    f="$DIR/probe-$phase-$what.txt"
    bad=$(awk '/Non-2xx or 3xx responses/ {print $NF} /Socket errors/ {s=0; for (i=4; i<=NF; i+=2) {v=$i; gsub(",", "", v); s+=v}; print s}' "$f" | awk '{n+=$1} END {print n+0}')
    printf '%-8s %-10s %10s %10s %10s %8s\n' "$phase" "$what" "$(rps "$f")" "$(pct "$f" 50%)" "$(pct "$f" 99%)" "$bad"
    [ "$bad" -eq 0 ] || failed=1
  done
done
[ "$failed" -eq 0 ] || { echo "a probe got an answer other than 2xx beside the flood" >&2; exit 1; }
