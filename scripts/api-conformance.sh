#!/usr/bin/env bash
# Runs schemathesis (from PyPI, in a virtualenv under target/) against /api/openapi.json of a
# freshly seeded server, signed in as the demo tenant's admin, with every check (schemathesis' default;
# scripts/schemathesis.toml turns one off for two operations, saying why).
#   scripts/api-conformance.sh                    # examples and coverage phases (a minute or two)
#   PHASES=examples,coverage,fuzzing,stateful MAX_TIME=600 scripts/api-conformance.sh
set -euo pipefail
cd "$(dirname "$0")/.."
phases=${PHASES:-examples,coverage}
venv=target/schemathesis
if [ ! -x "$venv/bin/st" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q 'schemathesis==4.32.5'
fi
cargo build -q --bin nightmarket
data=$(mktemp -d)
chmod 711 "$data"
port=${PORT:-18181}
./target/debug/nightmarket --addr "127.0.0.1:$port" --data-dir "$data" >"$data/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 1 240); do
  grep -q "serving at" "$data/server.log" && break
  kill -0 $server 2>/dev/null || { cat "$data/server.log"; exit 1; }
  sleep 0.5
done
password=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(next(a["password"] for a in d["accounts"] if a["tenant"]=="nanan" and a["role"]=="admin"))' "$data/demo-credentials.json")
token=$(curl -sf -X POST "http://127.0.0.1:$port/api/v1/auth/login" -H 'content-type: application/json' \
  -d "{\"tenant\":\"nanan\",\"login\":\"admin\",\"password\":\"$password\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
# Signing out or changing the password would end the session every later request signs in with.
args=(--phases "$phases" --max-failures 1000 -w 2 --exclude-path /api/v1/auth/logout --exclude-path /api/v1/auth/password)
[ -n "${MAX_TIME:-}" ] && args+=(--max-time "$MAX_TIME")
run() {
  "$venv/bin/st" --config-file scripts/schemathesis.toml run "http://127.0.0.1:$port/api/openapi.json" \
    -H "Authorization: Bearer $token" "${args[@]}" 2>&1 | tee "$data/st.log"
  return "${PIPESTATUS[0]}"
}
if ! run; then
  # Hypothesis, under schemathesis, now and then trips over its own bookkeeping on this Python
  # ("AST constructor recursion depth mismatch", "Inconsistent results"): a Runtime Error that is no
  # finding about the API. Such a run alone is tried once more; any failure fails at once.
  summary=$(grep -E '^=+ .* in [0-9.]+s =+$' "$data/st.log" | tail -1)
  if ! grep -q failure <<<"$summary" && grep -q "Runtime Error" "$data/st.log" &&
    grep -qE "recursion depth mismatch|Inconsistent results" "$data/st.log"; then
    echo "schemathesis stopped on an error of its own (not a finding about the API); running once more" >&2
    run
  else
    exit 1
  fi
fi
