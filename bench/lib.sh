# Shared by the load and chaos scripts (bench/overload.sh, bench/chaos.sh): the release build, a
# private data directory removed on exit, a free port, starting and stopping the server, psql
# as the private PostgreSQL's superuser, and the server's memory. Source it after `set -euo pipefail`
# and `cd` to the repository.

BIN=target/release/nightmarket
SERVER=
SERVER_ARGS=()
# PIN=1 (the default on a machine of two or more processors) runs the server and its PostgreSQL
# on the first processor and the load generator on the second, so that the generator's own work
# does not count against the server.
PIN=${PIN:-$([ "$(nproc)" -ge 2 ] && echo 1 || echo 0)}

# NO_BUILD=1 uses what target/release holds (after a build of the same sources).
build_release() {
  [ -n "${NO_BUILD:-}" ] || cargo build --release --quiet
  # The load generator (benches/overload.rs).
  GENERATOR=$(bench_executable overload)
}

# bench_executable NAME: builds benches/NAME.rs and prints its executable's path (run directly,
# so that it can be pinned to a processor).
bench_executable() {
  local path
  if [ -n "${NO_BUILD:-}" ]; then
    path=$(find target/release/deps -maxdepth 1 -type f -executable -name "$1-*" -printf '%T@ %p\n' | sort -rn | head -1 | cut -d' ' -f2)
    echo "$path"
    return
  fi
  path=$(cargo bench --bench "$1" --no-run --message-format=json 2>/dev/null |
    python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == sys.argv[1] and m.get("executable"):
        print(m["executable"])' "$1")
  [ -x "$path" ] || { echo "benches/$1.rs did not build" >&2; exit 1; }
  echo "$path"
}

make_dir() {
  DIR=$(mktemp -d "${TMPDIR:-/tmp}/nm-$1.XXXXXX")
  chmod 711 "$DIR"
  trap cleanup EXIT
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  BASE="http://127.0.0.1:$PORT"
}

cleanup() {
  stop_server TERM
  [ -n "${KEEP:-}" ] && { echo "kept $DIR"; return; }
  rm -rf "$DIR"
}

on_load_cpu() { if [ "$PIN" = 1 ]; then taskset -c 1 "$@"; else "$@"; fi; }

# start_server [extra serve arguments…]: starts it and waits until /healthz answers.
start_server() {
  local pin=()
  [ "$PIN" = 1 ] && pin=(taskset -c 0)
  "${pin[@]}" env -u DATABASE_URL RUST_LOG="${SERVER_LOG:-warn}" "$BIN" serve --data-dir "$DIR/data" --no-demo \
    --addr "127.0.0.1:$PORT" --sweep-secs 0 "${SERVER_ARGS[@]}" "$@" >>"$DIR/server.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 300); do curl -fs "$BASE/healthz" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "the server did not come up" >&2
  tail -50 "$DIR/server.log" >&2
  exit 1
}

# stop_server [signal]: TERM by default; KILL for a crash.
stop_server() {
  if [ -n "$SERVER" ]; then
    kill -"${1:-TERM}" "$SERVER" 2>/dev/null || true
    wait "$SERVER" 2>/dev/null || true
  fi
  SERVER=
}

use_psql() {
  PGPASSWORD=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["pg_superuser_password"])' "$DIR/data/secrets.json")
  export PGPASSWORD
  PSQL=(psql -X -q -t -A -h "$DIR/data/pg/run" -U postgres nightmarket)
}

# Samples the server's resident memory every 0.2 s into $DIR/rss.txt (kB) until stopped.
watch_memory() {
  (while kill -0 "$SERVER" 2>/dev/null; do
    awk '/VmRSS/ {print $2}' "/proc/$SERVER/status" 2>/dev/null || true
    sleep 0.2
  done) >"$DIR/rss.txt" &
  WATCHER=$!
}

# The largest sample since watch_memory, in MB; stops the sampler.
peak_memory() {
  kill "$WATCHER" 2>/dev/null || true
  wait "$WATCHER" 2>/dev/null || true
  sort -n "$DIR/rss.txt" | tail -1 | awk '{printf "%.0f", $1 / 1024}'
}

# figure NAME FILE: a value from the generator's FIGURES line.
figure() { sed -n "s/^FIGURES.* $1=\([^ ]*\).*/\1/p; s/^FIGURES $1=\([^ ]*\).*/\1/p" "$2" | head -1; }

# missing KIND: how many of the writes the load generator (benches/night_load.rs) saw acknowledged,
# listed in $DIR/acked-KIND.txt, the database lacks (claims of campaign $CAMPAIGN, check-ins,
# ratings, complaints, redemptions). Needs use_psql.
missing() {
  local list="$DIR/$1.txt" columns check
  sort -u "$DIR/acked-$1.txt" >"$list"
  chmod 644 "$list"
  case $1 in
    # A request key is the shopper's id (36 characters), a colon, and the client's request id.
    claims)
      columns="request_id text, seq int"
      check="select 1 from vouchers v where v.campaign_id = '$CAMPAIGN' and v.seq = a.seq
               and substr(v.request_key, 38) = a.request_id" ;;
    checkins) columns="code_id uuid" check="select 1 from check_ins c where c.code_id = a.code_id" ;;
    ratings) columns="comment text" check="select 1 from ratings r where r.comment = a.comment" ;;
    complaints) columns="tracking text" check="select 1 from complaints c where c.tracking = a.tracking" ;;
    redemptions)
      columns="request_id text"
      check="select 1 from redemptions r where substr(r.request_key, 38) = a.request_id" ;;
    *) echo "missing: no such kind $1" >&2; return 1 ;;
  esac
  "${PSQL[@]}" -c "create temp table a ($columns)" -c "\\copy a from '$list' with (format text, delimiter ' ')" \
    -c "select count(*) from a where not exists ($check)" | tail -1
}

# STATEMENTS=1: what PostgreSQL spent its time on during a load, from pg_stat_statements.
# statements_preload before the server starts PostgreSQL; statements_reset (needs use_psql) when the
# load starts; statements_top after it.
statements_preload() {
  [ -z "${STATEMENTS:-}" ] || printf "shared_preload_libraries = 'pg_stat_statements'\n" >>"$DIR/data/pg/data/postgresql.auto.conf"
}
statements_reset() {
  [ -z "${STATEMENTS:-}" ] ||
    "${PSQL[@]}" -c "create extension if not exists pg_stat_statements" -c "select pg_stat_statements_reset()" >/dev/null
}
statements_top() {
  [ -z "${STATEMENTS:-}" ] || "${PSQL[@]}" -F ' | ' -c "select calls, round(total_exec_time) as ms,
        round((total_exec_time / calls)::numeric, 3) as ms_each, rows, regexp_replace(left(query, 110), '\s+', ' ', 'g')
        from pg_stat_statements order by total_exec_time desc limit ${STATEMENTS_TOP:-12}"
}

# night_setup NAME: the release build, the load generator ($LOAD, benches/night_load.rs), a data
# directory, and a tenant seeded by `bench-chaos-seed` with $STALLS stalls, $VOUCHERS vouchers and
# $SHOPPERS shoppers ($DIR/seed.json); the server is to trust X-Forwarded-For, as shoppers come
# from many addresses through the city's proxy. For bench/chaos.sh and bench/night.sh.
night_setup() {
  build_release
  LOAD=$(bench_executable night_load)
  make_dir "$1"
  echo "== seeding: $STALLS stalls, $VOUCHERS vouchers, $SHOPPERS shoppers"
  env -u DATABASE_URL RUST_LOG=warn "$BIN" bench-chaos-seed --data-dir "$DIR/data" --stalls "$STALLS" \
    --vouchers "$VOUCHERS" --shoppers "$SHOPPERS" --out "$DIR/seed.json"
  SERVER_ARGS=(--trust-proxy)
}
