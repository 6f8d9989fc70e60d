#!/usr/bin/env bash
# The night's writes at their peak: check-ins, ratings, complaints, voucher claims and
# redemptions, and scans, all at once (benches/night_load.rs, open loop, on the second processor;
# the server and its PostgreSQL on the first), against one tenant with a market of 10,000 stalls.
#
# Factor 1 is one district's busiest market (a 10,000-stall night market, or a district's
# markets together), at the evening's peak:
#   check-ins     17/s  10,000 stalls within ten minutes of the opening
#   scans        200/s  ~200,000 visitors, three scans each, the peak hour at five times the mean
#   ratings       10/s  one scan in twenty rated
#   complaints     1/s
#   claims        50/s  (a voucher round open through the evening; they give the payers vouchers)
#   redemptions   33/s  1,000 stalls taking vouchers, one payment every 30 s at each
# STEPS multiplies every rate in turn (default 1 2 4 8 16, STEP_SECS=20 each), so that the run
# finds where the platform gives way. It prints, per step and kind, answers/s, p50 and p99 (over
# every answer, counted from when the request was due), the first step at which a write's p99
# passed 100 ms, and, from the database afterwards, what was acknowledged and is missing (must be
# 0), nobody holding two vouchers, no stall checked in twice a night, and the audit chain.
#
#   bench/night.sh
#   STEPS="1" STEP_SECS=60 bench/night.sh     # the busiest market's peak for a minute
#   KEEP=1 bench/night.sh                     # keep the data directory and the answers' files
#   STATEMENTS=1 bench/night.sh               # and the statements PostgreSQL spent its time on
#
# Figures go in BENCHMARKS.md ("The night's writes at their peak").
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

STALLS=${STALLS:-10000}
SHOPPERS=${SHOPPERS:-40000}
VOUCHERS=${VOUCHERS:-$SHOPPERS}
export STEPS=${STEPS:-1 2 4 8 16} STEP_SECS=${STEP_SECS:-20} WARMUP_SECS=${WARMUP_SECS:-10}
export RATE_CHECKINS=${RATE_CHECKINS:-17} RATE_SCANS=${RATE_SCANS:-200} RATE_RATINGS=${RATE_RATINGS:-10} \
  RATE_COMPLAINTS=${RATE_COMPLAINTS:-1} RATE_CLAIMS=${RATE_CLAIMS:-50} RATE_REDEMPTIONS=${RATE_REDEMPTIONS:-33} \
  REDEEM_STALLS=${REDEEM_STALLS:-1000}

night_setup night
statements_preload
start_server
use_psql
statements_reset
CAMPAIGN=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["campaign"])' "$DIR/seed.json")
sleep 3 # the campaign opens

echo "== load: steps × $STEPS, $STEP_SECS s each; at × 1: $RATE_CHECKINS check-ins/s, $RATE_SCANS scans/s," \
  "$RATE_RATINGS ratings/s, $RATE_COMPLAINTS complaints/s, $RATE_CLAIMS claims/s, $RATE_REDEMPTIONS redemptions/s"
# What PostgreSQL's busy connections wait on, sampled every 0.2 s: where the time goes when it
# gives way (a lock everyone queues for shows as Lock waits, with the statement waiting and the
# statement of the transaction it waits for).
(
  T0=$(date +%s.%N)
  while sleep 0.2; do
    "${PSQL[@]}" -F ' ' -c "select extract(epoch from now()) - $T0,
        coalesce(a.wait_event_type || ':' || a.wait_event, 'running')
          || case when a.wait_event_type = 'Lock' then
               ' | ' || left(regexp_replace(a.query, '\s+', ' ', 'g'), 60) || ' <- blocked by: '
                 || coalesce((select left(regexp_replace(b.query, '\s+', ' ', 'g'), 60) from pg_stat_activity b
                              where b.pid = (pg_blocking_pids(a.pid))[1]), '?')
             else '' end
        from pg_stat_activity a
        where a.state = 'active' and a.backend_type = 'client backend' and a.pid <> pg_backend_pid()" 2>/dev/null || true
  done
) >"$DIR/waits.txt" &
SAMPLER=$!
SEED=$DIR/seed.json BASE=$BASE OUT=$DIR on_load_cpu "$LOAD" >"$DIR/load.txt" 2>&1 || { cat "$DIR/load.txt"; exit 1; }
kill "$SAMPLER" 2>/dev/null || true
grep -v '^FIGURES' "$DIR/load.txt"
statements_top
echo "what PostgreSQL's busy connections waited on, per step (share of samples × connections):"
awk -v w="$WARMUP_SECS" -v len="$STEP_SECS" '
  { s = int(($1 - w) / len) + 1; if (s < 1) next; $1 = ""; sub(/^ /, ""); c[s "\t" $0]++ }
  END { for (k in c) print k "\t" c[k] }' "$DIR/waits.txt" | sort -t$'\t' -k1,1n -k3,3nr |
  awk -F'\t' -v steps="$STEPS" 'BEGIN { split(steps, f, " ") }
    $1 != last { last = $1; shown = 0; if (f[$1] != "") printf "  × %s\n", f[$1] }
    f[$1] != "" && shown++ < 4 { printf "      %5d  %s\n", $3, $2 }'

echo "== checking the database"
declare -A MISSING
for kind in claims checkins ratings complaints redemptions; do MISSING[$kind]=$(missing "$kind"); done
q() { "${PSQL[@]}" "$@" | tail -1; }
DOUBLED=$(q -c "select count(*) from (select shopper_id from vouchers where campaign_id = '$CAMPAIGN'
                 and shopper_id is not null group by shopper_id having count(*) > 1) x")
TWICE_CHECKED_IN=$(q -c "select count(*) from (select code_id from check_ins group by code_id, business_date having count(*) > 1) x")
TWICE_REDEEMED=$(q -c "select count(*) from (select campaign_id, seq from redemptions where reversed_at is null
                        group by campaign_id, seq having count(*) > 1) x")
AUDIT=ok
env -u DATABASE_URL RUST_LOG=warn "$BIN" audit verify --data-dir "$DIR/data" --tenant chaos >"$DIR/audit.txt" 2>&1 || AUDIT=broken
stop_server TERM

echo
echo "== summary"
for kind in claims checkins ratings complaints redemptions; do
  printf '%-12s acknowledged %6s  missing from the database %s\n' "$kind" "$(wc -l <"$DIR/$kind.txt")" "${MISSING[$kind]}"
done
echo "scans answered: $(figure scans_acked "$DIR/load.txt")"
echo "persons holding two vouchers: $DOUBLED; vouchers used twice: $TWICE_REDEEMED; stalls checked in twice a night: $TWICE_CHECKED_IN"
echo "audit chain: $AUDIT; 5xx: $(figure unavailable "$DIR/load.txt"), of which without Retry-After: $(figure unavailable_no_retry_after "$DIR/load.txt"); no answer: $(figure no_answer "$DIR/load.txt")"
echo "at × 1 the slowest write's p99: $(figure s1_write_p99 "$DIR/load.txt") ms ($(figure s1_slowest_write "$DIR/load.txt")); first passed 100 ms at (factor:kind) $(figure gave_way "$DIR/load.txt")"
FAILED=0
for check in "${MISSING[@]}" "$DOUBLED" "$TWICE_CHECKED_IN" "$TWICE_REDEEMED" "$(figure unavailable_no_retry_after "$DIR/load.txt")"; do
  [ "$check" = 0 ] || FAILED=1
done
[ "$AUDIT" = ok ] || { cat "$DIR/audit.txt"; FAILED=1; }
[ "$FAILED" = 0 ] && echo "ALL CHECKS PASSED" || echo "SOME CHECKS FAILED"
exit $FAILED
