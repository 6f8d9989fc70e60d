#!/usr/bin/env bash
# Runs every cargo-fuzz target for SECONDS each (default 600), TARGETS at a time (default 2), and
# prints one line per target: runs, coverage and whether it crashed. Needs a nightly toolchain and
# cargo-fuzz (`rustup toolchain install nightly; cargo install cargo-fuzz`).
#   scripts/fuzz.sh            # ten minutes each
#   SECONDS_EACH=30 scripts/fuzz.sh resident_id uscc
set -euo pipefail
cd "$(dirname "$0")/.."
each=${SECONDS_EACH:-600}
parallel=${TARGETS:-2}
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo +nightly fuzz list)
fi
out=fuzz/out
mkdir -p "$out"
cargo +nightly fuzz build -O >/dev/null
run() {
  local t=$1
  mkdir -p "fuzz/corpus/$t"
  if cargo +nightly fuzz run -O "$t" "fuzz/corpus/$t" -- -max_total_time="$each" -print_final_stats=1 \
      >"$out/$t.log" 2>&1; then
    echo "$t: ok, $(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$out/$t.log" | grep -o '[0-9]*$') runs in ${each}s, $(grep -o 'cov: [0-9]*' "$out/$t.log" | tail -1)"
  else
    echo "$t: FAILED (see $out/$t.log and fuzz/artifacts/$t/)"
    return 1
  fi
}
status=0
running=0
for t in "${targets[@]}"; do
  run "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$parallel" ]; then
    wait -n || status=1
    running=$((running - 1))
  fi
done
while [ "$running" -gt 0 ]; do
  wait -n || status=1
  running=$((running - 1))
done
exit $status
