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
#   INSTANCES=3 bench/flash.sh                     # three servers behind haproxy (deploy/haproxy.cfg)
#   CRASH_AT=6 bench/flash.sh                      # the crash run: kill -9 the server 6 s into the
#                                                  # rush, start it again, let wrk finish
#   STATEMENTS=1 bench/flash.sh                   # and what PostgreSQL spent its time on (the top
#                                                  # statements of pg_stat_statements)
#   SERVER_LOG=warn,nightmarket::services::vouchers=debug EXPLAIN_MS=15 bench/flash.sh
#                                                  # keep the server's log (each claim batch: size,
#                                                  # time) and PostgreSQL's, with the plans of
#                                                  # statements slower than 15 ms, in $TMPDIR
set -euo pipefail
cd "$(dirname "$0")/.."
# (Its statements_* helpers; this script keeps its own directory, servers and cleanup.)
. bench/lib.sh

VOUCHERS=${VOUCHERS:-100000}
SHOPPERS=${SHOPPERS:-300000}
CONNECTIONS=${CONNECTIONS:-256}
DURATION=${DURATION:-40s}
THREADS=${THREADS:-2}
OPENS_IN=${OPENS_IN:-30}
PAGE_DURATION=${PAGE_DURATION:-10s}
# The yardstick: the plain-SQL claim under pgbench, on the same PostgreSQL in the same run.
REF_CLIENTS=${REF_CLIENTS:-64}
CRASH_AT=${CRASH_AT:-}
INSTANCES=${INSTANCES:-1}

command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 2; }
# NO_BUILD=1 measures the binary already in target/release (as bench/scan.sh does).
[ -n "${NO_BUILD:-}" ] || cargo build --release --quiet
BIN=target/release/nightmarket
DIR=$(mktemp -d "${TMPDIR:-/tmp}/nm-flash-bench.XXXXXX")
chmod 711 "$DIR"
SERVER=
PROXY=
EXTRA_PIDS=()
cleanup() {
  [ -z "$PROXY" ] || kill "$PROXY" 2>/dev/null || true
  for pid in "${EXTRA_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
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
# What the database spent its time on during the rush (printed after it): pg_stat_statements.
statements_preload
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
# With INSTANCES=1 the server answers on $PORT; with more, haproxy does (deploy/haproxy.cfg, round
# robin) in front of the first server (which runs the data directory's PostgreSQL) and the others
# (started like a deployment's replicas: the same database and master key, a directory each).
SERVER_PORT=$PORT
[ "$INSTANCES" = 1 ] || SERVER_PORT=$(free_port)
wait_up() {
  for _ in $(seq 1 300); do curl -fs "$1/healthz" >/dev/null 2>&1 && return 0; sleep 0.2; done
  echo "a server did not come up at $1" >&2
  cat "$DIR"/server*.log >&2
  exit 1
}
start_server() {
  env -u DATABASE_URL RUST_LOG="${SERVER_LOG:-warn}" "$BIN" serve --data-dir "$DIR/data" --no-demo \
    --addr "127.0.0.1:$SERVER_PORT" --sweep-secs 0 --trust-proxy >>"$DIR/server.log" 2>&1 &
  SERVER=$!
  wait_up "http://127.0.0.1:$SERVER_PORT"
}
EXTRA_PIDS=()
EXTRA_PORTS=()
# start_extra N: the Nth other instance (1-based).
start_extra() {
  local i=$1
  mkdir -p "$DIR/extra-$i"
  env DATABASE_URL="postgres://postgres:$PGPASSWORD@localhost/nightmarket?host=$DIR/data/pg/run" \
    NIGHTMARKET_MASTER_KEY="$MASTER_KEY" RUST_LOG="${SERVER_LOG:-warn}" "$BIN" serve --data-dir "$DIR/extra-$i" \
    --no-demo --addr "127.0.0.1:${EXTRA_PORTS[$i]}" --sweep-secs 0 --trust-proxy >>"$DIR/server-$i.log" 2>&1 &
  EXTRA_PIDS[$i]=$!
  wait_up "http://127.0.0.1:${EXTRA_PORTS[$i]}"
}
start_instances() {
  start_server
  PGPASSWORD=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["pg_superuser_password"])' "$DIR/data/secrets.json")
  MASTER_KEY=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["master_key"])' "$DIR/data/secrets.json")
  export PGPASSWORD
  [ "$INSTANCES" = 1 ] && return 0
  command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || { echo "INSTANCES needs haproxy (apt-get install haproxy)" >&2; exit 2; }
  local servers="    server app0 127.0.0.1:$SERVER_PORT check"
  for i in $(seq 1 $((INSTANCES - 1))); do
    EXTRA_PORTS[$i]=$(free_port)
    start_extra "$i"
    servers="$servers"$'\n'"    server app$i 127.0.0.1:${EXTRA_PORTS[$i]} check"
  done
  SERVERS="$servers" python3 -c '
import os, sys
out = []
for line in open("deploy/haproxy.cfg"):
    if line.lstrip().startswith("resolvers "): break
    out.append(os.environ["SERVERS"] + "\n" if line.lstrip().startswith("server-template ") else line)
sys.stdout.write("".join(out))' >"$DIR/haproxy.cfg"
  NIGHTMARKET_PROXY_BIND="127.0.0.1:$PORT" "$(command -v haproxy || echo /usr/sbin/haproxy)" -q -f "$DIR/haproxy.cfg" \
    >"$DIR/haproxy.log" 2>&1 &
  PROXY=$!
  wait_up "$BASE"
}
start_instances
PSQL=(psql -X -q -t -A -h "$DIR/data/pg/run" -U postgres nightmarket)
# Open the window OPENS_IN seconds from now; wrk starts a little before.
"${PSQL[@]}" -c "update campaigns set claim_start = now() + interval '$OPENS_IN seconds',
                   claim_end = now() + interval '$OPENS_IN seconds' + interval '2 hours' where id = '$CAMPAIGN'"
export TOKENS="$DIR/tokens.txt" OUT="$DIR"
# The waiting page, while the shoppers wait: the campaign's page, signed in, before the opening.
echo "== the waiting page: $CONNECTIONS connections, $PAGE_DURATION"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$PAGE_DURATION" --latency -s bench/campaign-page.lua "$BASE" | tee "$DIR/waiting.txt" \
  | grep -E 'Requests/sec|^ +(50|99)%|Non-2xx|Socket errors' || true
OPENING=$("${PSQL[@]}" -c "select extract(epoch from claim_start - now()) from campaigns where id = '$CAMPAIGN'")
awk -v s="$OPENING" 'BEGIN { exit !(s > 2) }' || { echo "the waiting page ran past the opening: raise OPENS_IN" >&2; exit 1; }
statements_reset
sleep "$(awk -v s="$OPENING" 'BEGIN { printf "%.1f", s - 2 }')"

echo "== the rush: $CONNECTIONS connections, $DURATION"
if [ -z "$CRASH_AT" ]; then
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout 10s --latency -s bench/flash.lua "$BASE" | tee "$DIR/wrk.txt"
else
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout 10s --latency -s bench/flash.lua "$BASE" >"$DIR/wrk.txt" &
  WRK=$!
  sleep $((2 + CRASH_AT))
  BEFORE=$("${PSQL[@]}" -c "select count(*) from vouchers where campaign_id = '$CAMPAIGN' and shopper_id is not null")
  if [ "$INSTANCES" = 1 ]; then
    kill -9 "$SERVER"
    wait "$SERVER" 2>/dev/null || true
    echo "== kill -9 the server ${CRASH_AT} s into the rush ($BEFORE claimed by then); starting it again"
  else
    # The first server runs PostgreSQL (it stops with it): one of the others is killed.
    kill -9 "${EXTRA_PIDS[1]}"
    wait "${EXTRA_PIDS[1]}" 2>/dev/null || true
    echo "== kill -9 instance 2 of $INSTANCES ${CRASH_AT} s into the rush ($BEFORE claimed by then); starting it again"
  fi
  CRASHED=$(date +%s.%N)
  if [ "$INSTANCES" = 1 ]; then start_server; else start_extra 1; fi
  awk -v a="$CRASHED" -v b="$(date +%s.%N)" 'BEGIN { printf "== serving again after %.1f s\n", b - a }'
  wait "$WRK"
  cat "$DIR/wrk.txt"
fi

statements_top
# The claim page, as shoppers reload it after the sell-out.
echo "== the campaign's page after the rush: $CONNECTIONS connections, $PAGE_DURATION"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$PAGE_DURATION" --latency -s bench/campaign-page.lua "$BASE" | tee "$DIR/page.txt" \
  | grep -E 'Requests/sec|^ +(50|99)%|Non-2xx|Socket errors' || true


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
for page in waiting page; do
  awk -v n="$page" '/^Requests\/sec/ {r = $2} $1 == "50%" {a = $2} $1 == "99%" {b = $2} /Non-2xx/ {e = $NF}
    END { printf "campaign page (%s): %s req/s, p50 %s, p99 %s%s\n", n == "page" ? "after the sell-out" : "waiting", r, a, b,
          e ? ", NON-2XX " e : "" }' "$DIR/$page.txt"
done

# The yardstick, on the same PostgreSQL: the plain-SQL claim, one transaction each, under pgbench.
echo
echo "== the yardstick: pgbench, $REF_CLIENTS clients, the plain-SQL claim (bench/flash-reference.sql)"
"${PSQL[@]}" -c "drop schema if exists flash_reference cascade" -c "create schema flash_reference" \
  -c "create table flash_reference.vouchers (seq integer primary key, holder bigint, claimed_at timestamptz)" \
  -c "create index vouchers_free on flash_reference.vouchers (seq) where holder is null" \
  -c "create table flash_reference.holders (person bigint primary key)" \
  -c "insert into flash_reference.vouchers (seq) select g from generate_series(1, $VOUCHERS) g" \
  -c "vacuum analyze flash_reference.vouchers" -c "checkpoint"
REF_SECONDS=${DURATION%s}
pgbench -n -h "$DIR/data/pg/run" -U postgres -c "$REF_CLIENTS" -j "$THREADS" -T "$REF_SECONDS" -D shoppers="$SHOPPERS" -D vouchers="$VOUCHERS" \
  -f bench/flash-reference.sql nightmarket >"$DIR/pgbench.txt" 2>&1 || { cat "$DIR/pgbench.txt"; exit 1; }
grep -E '^(number of transactions actually processed|latency average|tps)' "$DIR/pgbench.txt" || true
read -r REF_CLAIMED REF_SPAN < <("${PSQL[@]}" -F ' ' -c "select count(*), extract(epoch from max(claimed_at) - min(claimed_at))
                                                     from flash_reference.vouchers where holder is not null")
REF_DOUBLED=$("${PSQL[@]}" -c "select count(*) from (select holder from flash_reference.vouchers where holder is not null
                                group by holder having count(*) > 1) x")
echo "pgbench: claimed $REF_CLAIMED of $VOUCHERS in $REF_SPAN s; persons holding more than one: $REF_DOUBLED"
awk -v c="$REF_CLAIMED" -v s="$REF_SPAN" 'BEGIN { if (s > 0) printf "pgbench successful claims/s: %.0f\n", c / s }'
awk -v a="$CLAIMED" -v sa="$SPAN" -v b="$REF_CLAIMED" -v sb="$REF_SPAN" \
  'BEGIN { if (sa > 0 && sb > 0) printf "server / pgbench: %.2f (target >= 2)\n", (a / sa) / (b / sb) }'

