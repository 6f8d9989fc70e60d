#!/usr/bin/env bash
# The scan page at the framework's own speed: nightmarket against a bare axum server
# (benches/scan_reference.rs) on the same private PostgreSQL, in one run, with the same wrk
# settings (64 connections, 2 threads, 20 s) for every target:
#
#   /fixed            the reference: a scan page as served (its bytes), gzipped once at start
#   /one-query        the reference: one indexed query of 12 rows of 10,000, rendered, escaped
#   /static/app.css   nightmarket: a static file through the whole middleware stack
#   /c/{code} cold    nightmarket: a fresh server, every request a code not yet visited
#                     (for COLD_DURATION, 2 s: the codes would run out within 20 s)
#   /c/{code} cached  nightmarket: random codes, every one visited once before
#   /healthz          nightmarket: one database round trip
#
# and prints each one's req/s, p50, p99, the ratios the issue sets (cached scan / one-query ≥ 1.0,
# cold scan / one-query ≥ 0.5, app.css / fixed ≥ 0.8) and the server's peak memory. The targets
# take turns (reference, product, reference, …) so that a drift of the machine touches both.
#
# Beside the cached run (cookie-less: every request a new device), /healthz and a signed-in page
# are probed at a light load before, during and for 15 s after it; every probe answer must be 2xx.
#
#   bench/scan.sh                       # 10,000 stalls, 64 connections, 20 s each
#   STALLS=2000 DURATION=10s bench/scan.sh
#   NO_BUILD=1 bench/scan.sh            # measure what target/release holds
#
# With PIN=1 (the default on two or more processors) the servers and PostgreSQL run on the first
# processor and wrk on the second. Needs wrk (apt-get install wrk) and PostgreSQL's server programs.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

STALLS=${STALLS:-10000}
TENANTS=${TENANTS:-3}
CONNECTIONS=${CONNECTIONS:-64}
DURATION=${DURATION:-20s}
# The cold run visits each code once, so it lasts only as long as the codes do: wrk counts a
# stopped thread's time to the end of -d, so the run is kept shorter than the codes last
# (the script says so, and fails, when they ran out: the figure would then be too low).
COLD_DURATION=${COLD_DURATION:-2s}
THREADS=${THREADS:-2}
PROBE_CONNECTIONS=${PROBE_CONNECTIONS:-2}

command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 2; }
[ -n "${NO_BUILD:-}" ] || cargo build --release --quiet
REFERENCE_BIN=$(bench_executable scan_reference)
make_dir scan-bench
REFERENCE=
stop_reference() { [ -z "$REFERENCE" ] || { kill "$REFERENCE" 2>/dev/null || true; wait "$REFERENCE" 2>/dev/null || true; }; }
trap 'stop_reference; cleanup' EXIT

echo "== seeding $STALLS stalls in $TENANTS tenants into $DIR"
env -u DATABASE_URL RUST_LOG=warn "$BIN" bench-seed --data-dir "$DIR/data" \
  --stalls "$STALLS" --tenants "$TENANTS" --out "$DIR/codes.txt"
export CODES="$DIR/codes.txt" THREADS

start_server
SAMPLE=$(head -1 "$CODES")
# /fixed is this very page (its size and its compressed size), compressed once by the reference.
curl -fs "$BASE$SAMPLE" >"$DIR/page.html"
BODY_BYTES=$(wc -c <"$DIR/page.html")
# The first visit above: the cold run starts from a server that has seen nothing else.
sed -i 1d "$CODES"

REF_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
REF="http://127.0.0.1:$REF_PORT"
pin=()
[ "$PIN" = 1 ] && pin=(taskset -c 0)
"${pin[@]}" "$REFERENCE_BIN" --data-dir "$DIR/data" --addr "127.0.0.1:$REF_PORT" --body-file "$DIR/page.html" \
  >"$DIR/reference.log" 2>&1 &
REFERENCE=$!
for _ in $(seq 1 300); do curl -fs "$REF/fixed" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs -o /dev/null "$REF/one-query" || { cat "$DIR/reference.log"; exit 1; }
echo "== the scan page is $BODY_BYTES bytes uncompressed ($(curl -fs -H 'Accept-Encoding: gzip' "$BASE$SAMPLE" | wc -c) gzipped); /fixed is the same page ($(curl -fs -H 'Accept-Encoding: gzip' "$REF/fixed" | wc -c) gzipped); app.css $(curl -fs -H 'Accept-Encoding: gzip' "$BASE/static/app.css" | wc -c) gzipped"

# measure NAME URL [wrk arguments…]
measure() {
  local name=$1 url=$2
  shift 2
  echo "== $name"
  on_load_cpu wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H 'Accept-Encoding: gzip' "$@" "$url" \
    | tee "$DIR/$name.txt" | grep -E 'Requests/sec|^ +(50|99)%|Non-2xx|Socket errors' || true
}

# Cold first: a fresh server, every request a code it has not served (bench/warm.lua visits each
# code once), for COLD_DURATION; then the rest of the codes once more, unmeasured, so that the
# cached run finds every code in memory.
DURATION_SAVED=$DURATION
DURATION=$COLD_DURATION measure scan-cold "$BASE" -s bench/warm.lua
COLD_DONE=$(awk '/requests in/ {print $1}' "$DIR/scan-cold.txt")
if [ "$COLD_DONE" -ge "$(($(wc -l <"$CODES") - 2 * CONNECTIONS))" ]; then
  echo "the cold run used up the $(wc -l <"$CODES") codes within $COLD_DURATION: seed more stalls or shorten COLD_DURATION" >&2
  exit 1
fi
echo "   ($COLD_DONE first visits in $COLD_DURATION)"
on_load_cpu wrk -t"$THREADS" -c"$CONNECTIONS" -d20s -s bench/warm.lua "$BASE" >/dev/null
DURATION=$DURATION_SAVED
measure fixed "$REF/fixed"
measure app-css "$BASE/static/app.css"
measure one-query "$REF/one-query"

# A signed-in page for the probes: load-1's admin, signed in through the form as a browser is.
PASSWORD=$(head -1 "$DIR/codes.admin")
curl -fs -o /dev/null -c "$DIR/cookies" -X POST "$BASE/login" -H "Origin: $BASE" \
  --data-urlencode tenant=load-1 --data-urlencode login=admin --data-urlencode "password=$PASSWORD" --data-urlencode next=
COOKIE=$(sed 's/^#HttpOnly_//' "$DIR/cookies" | awk '!/^#/ && NF >= 7 {printf "%s=%s; ", $6, $7}')
PAGE=/official
curl -fs -o /dev/null -H "Cookie: $COOKIE" "$BASE$PAGE" || { echo "the signed-in page did not open"; exit 1; }
PROBES=()
probe() {
  on_load_cpu wrk -t1 -c"$PROBE_CONNECTIONS" -d"$2" --latency "$BASE/healthz" >"$DIR/probe-$1-healthz.txt" &
  PROBES=($!)
  on_load_cpu wrk -t1 -c"$PROBE_CONNECTIONS" -d"$2" --latency -H "Cookie: $COOKIE" "$BASE$PAGE" >"$DIR/probe-$1-page.txt" &
  PROBES+=($!)
}
probed() { wait "${PROBES[@]}"; }
echo "== probes before the flood: /healthz and $PAGE, $PROBE_CONNECTIONS connections each, 10 s"
probe before 10s
probed
probe during "$DURATION"
measure scan-cached "$BASE" -s bench/scan.lua
probed
echo "== probes for 15 s after the flood (its counts being written)"
probe after 15s
probed
measure healthz "$BASE/healthz"

rps() { awk '/^Requests\/sec/ {print $2}' "$DIR/$1.txt"; }
pct() { awk -v p="$2" '$1 == p {print $2}' "$DIR/$1.txt"; }
ratio() { awk -v a="$(rps "$1")" -v b="$(rps "$2")" 'BEGIN {printf "%.2f", a/b}'; }
RSS=$(awk '/VmHWM/ {printf "%.1f MB", $2/1024}' "/proc/$SERVER/status")
echo
echo "== summary ($STALLS stalls, $CONNECTIONS connections, $THREADS threads, $DURATION, PIN=$PIN)"
printf '%-18s %10s %10s %10s\n' target 'req/s' p50 p99
for t in fixed one-query app-css scan-cold scan-cached healthz; do
  printf '%-18s %10s %10s %10s\n' "$t" "$(rps "$t")" "$(pct "$t" 50%)" "$(pct "$t" 99%)"
done
echo "cached scan / one-query: $(ratio scan-cached one-query)  (target ≥ 1.0, p99 < 10 ms)"
echo "cold scan / one-query:   $(ratio scan-cold one-query)  (target ≥ 0.5)"
echo "app.css / fixed:         $(ratio app-css fixed)  (target ≥ 0.8)"
echo "server peak RSS: $RSS (target < 150 MB)"
bad=0
for t in fixed one-query app-css scan-cold scan-cached healthz; do
  if grep -qE 'Non-2xx|Socket errors' "$DIR/$t.txt"; then echo "errors in $t:"; grep -E 'Non-2xx|Socket errors' "$DIR/$t.txt"; bad=1; fi
done

echo
echo "== beside the flood (probes at $PROBE_CONNECTIONS connections each)"
printf '%-8s %-10s %10s %10s %10s %8s\n' phase probe 'req/s' p50 p99 non-2xx
for phase in before during after; do
  for what in healthz page; do
    f="$DIR/probe-$phase-$what.txt"
    n=$(awk '/Non-2xx or 3xx responses/ {print $NF} /Socket errors/ {s=0; for (i=4; i<=NF; i+=2) {v=$i; gsub(",", "", v); s+=v}; print s}' "$f" | awk '{n+=$1} END {print n+0}')
    printf '%-8s %-10s %10s %10s %10s %8s\n' "$phase" "$what" "$(awk '/^Requests\/sec/ {print $2}' "$f")" \
      "$(awk '$1 == "50%" {print $2}' "$f")" "$(awk '$1 == "99%" {print $2}' "$f")" "$n"
    [ "$n" -eq 0 ] || bad=1
  done
done
# What the server turned away (admission control's 503s) is counted here too: wrk does not always
# report a scripted run's non-2xx answers.
SHED=$(curl -fs "$BASE/metrics" | awk '$1 == "http_requests_shed_total" {print $2}')
echo "requests the server shed: ${SHED:-0}"
[ "${SHED:-0}" = 0 ] || bad=1
[ "$bad" -eq 0 ] || { echo "a target or a probe got an answer other than 2xx" >&2; exit 1; }
