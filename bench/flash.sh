#!/usr/bin/env bash
# The voucher rush: a campaign of 100,000 vouchers (one per person) and 300,000 verified shoppers on
# a fresh private database; the release server; wrk firing claims over loopback from many
# connections (random shoppers, three in ten repeating an earlier request id) from just before the
# opening until well after the sell-out. Prints successful claims/s from opening to sold-out (from
# the database's claim times), p50/p99, the answers by status (5xx must be 0), and from the
# database: vouchers claimed (must be exactly the number issued), persons holding more than one
# (must be 0), and acknowledged claims missing from the database (must be 0).
#
#   bench/flash.sh                                 # 100,000 vouchers, 300,000 shoppers, 256 connections
#   VOUCHERS=20000 SHOPPERS=60000 bench/flash.sh
#   CRASH_AT=6 bench/flash.sh                      # the crash run: kill -9 the server 6 s into the
#                                                  # rush, start it again, let wrk finish
#   SERVER_LOG=warn,nightmarket::services::vouchers=debug EXPLAIN_MS=15 bench/flash.sh
#                                                  # keep the server's log (each claim batch: size,
#                                                  # time) and PostgreSQL's, with the plans of
#                                                  # statements slower than 15 ms, in $TMPDIR
set -euo pipefail
cd "$(dirname "$0")/.."

VOUCHERS=${VOUCHERS:-100000}
SHOPPERS=${SHOPPERS:-300000}
CONNECTIONS=${CONNECTIONS:-256}
DURATION=${DURATION:-40s}
THREADS=${THREADS:-2}
OPENS_IN=${OPENS_IN:-20}
CRASH_AT=${CRASH_AT:-}

command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 2; }
# NO_BUILD=1 measures the binary already in target/release (as bench/scan.sh does).
[ -n "${NO_BUILD:-}" ] || cargo build --release --quiet
BIN=target/release/nightmarket
DIR=$(mktemp -d "${TMPDIR:-/tmp}/nm-flash-bench.XXXXXX")
chmod 711 "$DIR"
SERVER=
cleanup() {
  if [ -n "$SERVER" ]; then kill -TERM "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
  # SERVER_LOG=debug (a RUST_LOG filter) keeps the server's log for a look afterwards.
  if [ -n "${SERVER_LOG:-}" ]; then
    cp "$DIR/server.log" "${TMPDIR:-/tmp}/flash-server.log" 2>/dev/null || true
    cp "$DIR/data/pg/postgres.log" "${TMPDIR:-/tmp}/flash-postgres.log" 2>/dev/null || true
  fi
  rm -rf "$DIR"
}
trap cleanup EXIT

echo "== seeding $VOUCHERS vouchers and $SHOPPERS shoppers"
# The opening is counted from the end of the seed: seeding takes a while.
env -u DATABASE_URL RUST_LOG=warn "$BIN" bench-flash-seed --data-dir "$DIR/data" --vouchers "$VOUCHERS" \
  --shoppers "$SHOPPERS" --opens-in 3600 --out "$DIR/tokens.txt"
CAMPAIGN=$(head -1 "$DIR/tokens.txt")
if [ -n "${EXPLAIN_MS:-}" ]; then
  # Plans of statements slower than EXPLAIN_MS go to PostgreSQL's log (kept with SERVER_LOG).
  printf "session_preload_libraries = 'auto_explain'\nauto_explain.log_min_duration = '%sms'\n" "$EXPLAIN_MS" \
    >>"$DIR/data/pg/data/postgresql.auto.conf"
fi
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
start_server() {
  env -u DATABASE_URL RUST_LOG="${SERVER_LOG:-warn}" "$BIN" serve --data-dir "$DIR/data" --no-demo \
    --addr "127.0.0.1:$PORT" --sweep-secs 0 >>"$DIR/server.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 300); do curl -fs "$BASE/healthz" >/dev/null 2>&1 && return 0; sleep 0.2; done
  echo "the server did not come up" >&2
  cat "$DIR/server.log" >&2
  exit 1
}
start_server
PGPASSWORD=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["pg_superuser_password"])' "$DIR/data/secrets.json")
export PGPASSWORD
PSQL=(psql -X -q -t -A -h "$DIR/data/pg/run" -U postgres nightmarket)
# Open the window OPENS_IN seconds from now; wrk starts a little before.
"${PSQL[@]}" -c "update campaigns set claim_start = now() + interval '$OPENS_IN seconds',
                   claim_end = now() + interval '$OPENS_IN seconds' + interval '2 hours' where id = '$CAMPAIGN'"
sleep $((OPENS_IN - 2))

export TOKENS="$DIR/tokens.txt" OUT="$DIR"
echo "== the rush: $CONNECTIONS connections, $DURATION"
if [ -z "$CRASH_AT" ]; then
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout 10s --latency -s bench/flash.lua "$BASE" | tee "$DIR/wrk.txt"
else
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout 10s --latency -s bench/flash.lua "$BASE" >"$DIR/wrk.txt" &
  WRK=$!
  sleep $((2 + CRASH_AT))
  BEFORE=$("${PSQL[@]}" -c "select count(*) from vouchers where campaign_id = '$CAMPAIGN' and shopper_id is not null")
  kill -9 "$SERVER"
  wait "$SERVER" 2>/dev/null || true
  echo "== kill -9 the server ${CRASH_AT} s into the rush ($BEFORE claimed by then); starting it again"
  CRASHED=$(date +%s.%N)
  start_server
  awk -v a="$CRASHED" -v b="$(date +%s.%N)" 'BEGIN { printf "== serving again after %.1f s\n", b - a }'
  wait "$WRK"
  cat "$DIR/wrk.txt"
fi

cat "$DIR"/acked-*.txt | awk 'NF == 2' | sort -u >"$DIR/acked.txt"
chmod 644 "$DIR/acked.txt"
read -r CLAIMED SPAN < <("${PSQL[@]}" -F ' ' -c "select count(*), extract(epoch from max(claimed_at) - min(claimed_at))
                                                     from vouchers where campaign_id = '$CAMPAIGN' and shopper_id is not null")
DOUBLED=$("${PSQL[@]}" -c "select count(*) from (select shopper_id from vouchers where campaign_id = '$CAMPAIGN'
                            and shopper_id is not null group by shopper_id having count(*) > 1) x")
MISSING=$("${PSQL[@]}" -c "create temp table acked (request_id text, seq int)" \
  -c "\\copy acked from '$DIR/acked.txt' with (format text, delimiter ' ')" \
  -c "select count(*) from acked a where not exists (select 1 from vouchers v
        where v.campaign_id = '$CAMPAIGN' and v.seq = a.seq and v.request_key like '%:' || a.request_id)" | tail -1)
ACKED=$(wc -l <"$DIR/acked.txt")
echo
echo "== summary"
echo "claimed: $CLAIMED of $VOUCHERS in ${SPAN} s from the first to the last claim"
awk -v c="$CLAIMED" -v s="$SPAN" 'BEGIN { if (s > 0) printf "successful claims/s: %.0f\n", c / s }'
awk '$1 == "50%" || $1 == "99%" {print "latency " $1 ": " $2}' "$DIR/wrk.txt"
grep '^STATUS' "$DIR/wrk.txt" || true
echo "persons holding more than one: $DOUBLED"
echo "acknowledged (distinct request ids): $ACKED; acknowledged but missing in the database: $MISSING"
echo "server peak RSS: $(awk '/VmHWM/ {printf "%.1f MB", $2/1024}' "/proc/$SERVER/status")"
