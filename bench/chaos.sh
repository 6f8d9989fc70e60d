#!/usr/bin/env bash
# Chaos under load: while a steady load of voucher claims, check-ins and ratings runs
# (benches/night_load.rs, open loop, failed claims and check-ins retried with the same key):
#   1. at 15 s, kill -9 the server, and start it again;
#   2. at 40 s, kill -9 PostgreSQL's postmaster, and let the server bring it back by itself;
#   3. at 65 s, freeze PostgreSQL (SIGSTOP, every process: it neither answers nor refuses, as
#      behind a network partition) for 10 s, probing the server meanwhile, then let it go on.
# Afterwards, from the database: every acknowledged claim, check-in and rating present; no voucher
# claimed twice or beyond the campaign's total, nobody holding two; each tenant's audit chain
# verifies; and from the load: no answer slower than 5 s, every 5xx with Retry-After. The server
# must be serving again after each event without a hand on it (only event 1 restarts it, as a
# supervisor would). Prints a summary and exits 1 if any check fails. Figures go in BENCHMARKS.md.
#
#   bench/chaos.sh
#   DURATION=100 RATE_CLAIMS=100 RATE_CHECKINS=10 RATE_RATINGS=30 bench/chaos.sh
#   KEEP=1 bench/chaos.sh      # keep the data directory, logs and acknowledgements
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

STALLS=${STALLS:-1200}
VOUCHERS=${VOUCHERS:-20000}
SHOPPERS=${SHOPPERS:-30000}
DURATION=${DURATION:-100}
export RATE_CLAIMS=${RATE_CLAIMS:-100} RATE_CHECKINS=${RATE_CHECKINS:-10} RATE_RATINGS=${RATE_RATINGS:-30}

night_setup chaos
start_server
use_psql
CAMPAIGN=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["campaign"])' "$DIR/seed.json")
sleep 3 # the campaign opens

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
# Polls /healthz every 0.1 s until it answers 200; prints the seconds it took.
until_healthy() {
  local from=$1
  for _ in $(seq 1 1200); do
    [ "$(curl -s -o /dev/null -m 5 -w '%{http_code}' "$BASE/healthz")" = 200 ] && { since "$from"; return; }
    sleep 0.1
  done
  echo "never"
}
postmaster() { head -1 "$DIR/data/pg/data/postmaster.pid"; }

echo "== load for $DURATION s: $RATE_CLAIMS claims/s, $RATE_CHECKINS check-ins/s, $RATE_RATINGS ratings/s"
SEED=$DIR/seed.json BASE=$BASE OUT=$DIR DURATION=$DURATION on_load_cpu "$LOAD" >"$DIR/load.txt" 2>&1 &
LOADER=$!
START=$(now)
at() { local wait; wait=$(awk -v s="$START" -v t="$1" -v n="$(now)" 'BEGIN { w = s + t - n; print (w > 0 ? w : 0) }'); sleep "$wait"; }

at 15
echo "== 1. kill -9 the server"
stop_server KILL
T=$(now)
start_server
SERVER_BACK=$(since "$T")
echo "   serving again after $SERVER_BACK s"

at 40
echo "== 2. kill -9 PostgreSQL (postmaster $(postmaster))"
T=$(now)
kill -9 "$(postmaster)"
sleep 0.2
PG_BACK=$(until_healthy "$T")
echo "   healthy again after $PG_BACK s (postmaster $(postmaster)), restarted by the server"

at 65
echo "== 3. PostgreSQL frozen for 10 s"
PM=$(postmaster)
PIDS="$PM $(ps -o pid= --ppid "$PM" | tr '\n' ' ')"
# shellcheck disable=SC2086
kill -STOP $PIDS
T=$(now)
: >"$DIR/probes.txt"
while awk -v a="$T" -v b="$(now)" 'BEGIN { exit !(b - a < 10) }'; do
  curl -s -o /dev/null -m 30 -w '%{http_code} %{time_total}\n' "$BASE/api/v1/t/chaos/markets" >>"$DIR/probes.txt" || echo "000 30" >>"$DIR/probes.txt"
  sleep 0.2
done
# shellcheck disable=SC2086
kill -CONT $PIDS
FROZEN_BACK=$(until_healthy "$(now)")
PROBES=$(wc -l <"$DIR/probes.txt")
PROBES_503=$(awk '$1 == 503' "$DIR/probes.txt" | wc -l)
PROBE_MAX=$(sort -k2 -n "$DIR/probes.txt" | tail -1 | awk '{print $2}')
PROBE_LATE=$(awk 'NR > 1 && prev == 503 && $2 > 1 {n++} {prev = $1} END {print n + 0}' "$DIR/probes.txt")
echo "   probes while frozen: $PROBES, of which 503: $PROBES_503, slowest ${PROBE_MAX} s; healthy again $FROZEN_BACK s after"

wait "$LOADER" || true
cat "$DIR/load.txt"
echo "== checking the database"
MISSING_CLAIMS=$(missing claims)
MISSING_CHECKINS=$(missing checkins)
MISSING_RATINGS=$(missing ratings)
q() { "${PSQL[@]}" "$@" | tail -1; }
read -r CLAIMED TOTAL < <("${PSQL[@]}" -F ' ' -c "select count(*) filter (where shopper_id is not null), count(*)
                                                    from vouchers where campaign_id = '$CAMPAIGN'")
DOUBLED=$(q -c "select count(*) from (select shopper_id from vouchers where campaign_id = '$CAMPAIGN'
                 and shopper_id is not null group by shopper_id having count(*) > 1) x")
TWICE_CHECKED_IN=$(q -c "select count(*) from (select code_id from check_ins group by code_id, business_date having count(*) > 1) x")
AUDIT=ok
env -u DATABASE_URL RUST_LOG=warn "$BIN" audit verify --data-dir "$DIR/data" --tenant chaos >"$DIR/audit.txt" 2>&1 || AUDIT=broken
stop_server TERM

HANGING=$(figure hanging "$DIR/load.txt")
NO_RA=$(figure unavailable_no_retry_after "$DIR/load.txt")
echo
echo "== summary"
echo "server killed: serving again after $SERVER_BACK s (restarted by the script)"
echo "PostgreSQL killed: healthy again after $PG_BACK s (restarted by the server)"
echo "PostgreSQL frozen 10 s: $PROBES_503 of $PROBES probes 503, slowest probe $PROBE_MAX s, $PROBE_LATE slower than 1 s once found down; healthy $FROZEN_BACK s after it went on"
echo "acknowledged: claims $(wc -l <"$DIR/claims.txt"), check-ins $(wc -l <"$DIR/checkins.txt"), ratings $(wc -l <"$DIR/ratings.txt")"
echo "missing from the database: claims $MISSING_CLAIMS, check-ins $MISSING_CHECKINS, ratings $MISSING_RATINGS"
echo "vouchers claimed $CLAIMED of $TOTAL; persons holding two: $DOUBLED; stalls checked in twice a night: $TWICE_CHECKED_IN"
echo "audit chain: $AUDIT"
echo "answers slower than 5 s: $HANGING; 5xx without Retry-After: $NO_RA; slowest answer $(figure slowest_ms "$DIR/load.txt") ms"
FAILED=0
for check in "$MISSING_CLAIMS" "$MISSING_CHECKINS" "$MISSING_RATINGS" "$DOUBLED" "$TWICE_CHECKED_IN" "$HANGING" "$NO_RA" "$PROBE_LATE"; do
  [ "$check" = 0 ] || FAILED=1
done
[ "$CLAIMED" -le "$TOTAL" ] || FAILED=1
[ "$AUDIT" = ok ] || { cat "$DIR/audit.txt"; FAILED=1; }
for back in "$SERVER_BACK" "$PG_BACK" "$FROZEN_BACK"; do [ "$back" != never ] || FAILED=1; done
[ "$FAILED" = 0 ] && echo "ALL CHECKS PASSED" || echo "SOME CHECKS FAILED"
exit $FAILED
