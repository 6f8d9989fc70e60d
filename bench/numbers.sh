#!/usr/bin/env bash
# The tenant dashboard over 90 nights, on a private database holding a tenant with 10,000 stalls
# and 90 nights of history: ~1,000,000 scans, 100,000 ratings, 10,000 complaints, 100,000
# voucher uses, ~540,000 check-ins, ~18,000 inspections. Builds the release binary, seeds a fresh
# data directory (its own PostgreSQL), starts the server, signs in as the tenant's admin, then
# measures with wrk (--latency): the page /official/numbers?range=90 and its JSON twin
# /api/v1/t/numbers/numbers?range=90, one official at a time (1 connection) and four at once.
# Figures go in BENCHMARKS.md.
#
#   bench/numbers.sh                      # the sizes above, 20 s per measurement
#   STALLS=2000 DURATION=5s bench/numbers.sh
#
# Needs wrk (apt-get install wrk) and the PostgreSQL server programs the server uses anyway.
set -euo pipefail
cd "$(dirname "$0")/.."

STALLS=${STALLS:-10000}
NIGHTS=${NIGHTS:-90}
SCANS=${SCANS:-1000000}
RATINGS=${RATINGS:-100000}
COMPLAINTS=${COMPLAINTS:-10000}
REDEMPTIONS=${REDEMPTIONS:-100000}
DURATION=${DURATION:-20s}

command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 2; }
cargo build --release --quiet
BIN=target/release/nightmarket
DIR=$(mktemp -d "${TMPDIR:-/tmp}/nm-numbers-bench.XXXXXX")
chmod 711 "$DIR"
SERVER=
cleanup() {
  if [ -n "$SERVER" ]; then kill -TERM "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
  rm -rf "$DIR"
}
trap cleanup EXIT

echo "== seeding tenant 'numbers': $STALLS stalls, $NIGHTS nights into $DIR"
env -u DATABASE_URL RUST_LOG=warn "$BIN" bench-numbers-seed --data-dir "$DIR/data" --stalls "$STALLS" \
  --nights "$NIGHTS" --scans "$SCANS" --ratings "$RATINGS" --complaints "$COMPLAINTS" \
  --redemptions "$REDEMPTIONS" --out "$DIR/password.txt"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
env -u DATABASE_URL RUST_LOG=warn "$BIN" serve --data-dir "$DIR/data" --no-demo \
  --addr "127.0.0.1:$PORT" --sweep-secs 0 >"$DIR/server.log" 2>&1 &
SERVER=$!
BASE="http://127.0.0.1:$PORT"
for _ in $(seq 1 300); do
  curl -fs "$BASE/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fs "$BASE/healthz" >/dev/null || { cat "$DIR/server.log"; exit 1; }

PASSWORD=$(head -1 "$DIR/password.txt")
TOKEN=$(curl -fs "$BASE/api/v1/auth/login" -H 'Content-Type: application/json' \
  -d "{\"tenant\":\"numbers\",\"login\":\"admin\",\"password\":\"$PASSWORD\"}" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
curl -fs -o /dev/null -c "$DIR/cookies" -X POST "$BASE/login" -H "Origin: $BASE" \
  --data-urlencode tenant=numbers --data-urlencode login=admin --data-urlencode "password=$PASSWORD" --data-urlencode next=
COOKIE=$(sed 's/^#HttpOnly_//' "$DIR/cookies" | awk '!/^#/ && NF >= 7 {printf "%s=%s; ", $6, $7}')

PAGE="$BASE/official/numbers?range=90"
API="$BASE/api/v1/t/numbers/numbers?range=90"
curl -fs -H "Authorization: Bearer $TOKEN" "$API" | python3 -c '
import json, sys
d = json.load(sys.stdin)
t = d["totals"]
print("   90 nights %s..%s: scans %d, visitors %d, ratings %d (avg %s), complaints %d (on time %s%%), check-ins %d of %d, inspections %d, uses %d, leverage %s" % (
    d["range"]["from"], d["range"]["to"], t["scans"], t["visitors"], t["ratings"], d["rating_average"],
    d["complaints"]["total"], d["complaints"]["on_time_share"], t["opened"], t["expected"], t["inspections"],
    d["vouchers"]["used"], d["vouchers"]["leverage"]))'
SIZE=$(curl -fs -H "Cookie: $COOKIE" "$PAGE" | wc -c)
[ "$SIZE" -gt 10000 ] || { echo "the dashboard page did not render for the signed-in admin"; exit 1; }
echo "   page: $SIZE bytes of HTML"

echo "== warming up (5 s, not measured)"
wrk -t1 -c1 -d5s -H "Cookie: $COOKIE" "$PAGE" >/dev/null

for C in 1 4; do
  echo "== page $PAGE: $C connection(s), $DURATION"
  wrk -t1 -c"$C" -d"$DURATION" --latency -H "Cookie: $COOKIE" "$PAGE" | tee "$DIR/page-$C.txt"
  echo "== JSON $API: $C connection(s), $DURATION"
  wrk -t1 -c"$C" -d"$DURATION" --latency -H "Authorization: Bearer $TOKEN" "$API" | tee "$DIR/api-$C.txt"
done

pct() { awk -v p="$2" '$1 == p {print $2}' "$1"; }
rps() { awk '/^Requests\/sec/ {print $2}' "$1"; }
errors() { awk '/Non-2xx|Socket errors/ {print}' "$1"; }
echo
echo "== summary (90-night tenant dashboard)"
printf '%-6s %-5s %10s %10s %10s\n' what conns p50 p99 'req/s'
for C in 1 4; do
  for W in page api; do
    F="$DIR/$W-$C.txt"
    printf '%-6s %-5s %10s %10s %10s\n' "$W" "$C" "$(pct "$F" 50%)" "$(pct "$F" 99%)" "$(rps "$F")"
  done
done
E="$(for f in "$DIR"/page-*.txt "$DIR"/api-*.txt; do errors "$f"; done)"
[ -z "$E" ] || { echo "errors during the run:"; echo "$E"; exit 1; }
