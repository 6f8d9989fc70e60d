#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for SECONDS_EACH seconds (default 600), TARGETS at a time
# (default 2), and prints one line per target: runs, coverage and whether it crashed. Any crash,
# or any disagreement with a check's reference implementation, fails the script.
#
#   scripts/fuzz.sh                          # ten minutes each
#   SECONDS_EACH=10 TARGETS=1 scripts/fuzz.sh   # what CI runs, beside schemathesis
#   SECONDS_EACH=60 scripts/fuzz.sh uscc phone
#
# The targets exercise crates/input (nightmarket-input), the server's parsers of outside input,
# which builds with coverage instrumentation in about a minute. It runs on the machine's stable
# toolchain: RUSTC_BOOTSTRAP=1 lets cargo-fuzz pass the unstable flags libFuzzer needs, and
# `-s none` leaves out AddressSanitizer (the crate forbids unsafe code, so there is no memory error
# for it to find; panics and failed checks are what the targets look for). Needs cargo-fuzz:
# `cargo install cargo-fuzz --locked`. The corpus grows in fuzz/corpus/{target} (not committed),
# starting from the committed seeds in fuzz/seeds/{target}; crashes land in fuzz/artifacts/{target}.
set -euo pipefail
cd "$(dirname "$0")/.."
each=${SECONDS_EACH:-600}
parallel=${TARGETS:-2}
export RUSTC_BOOTSTRAP=1
fuzz=(cargo fuzz)
command -v cargo-fuzz >/dev/null 2>&1 || { echo "cargo-fuzz is missing: cargo install cargo-fuzz --locked" >&2; exit 1; }
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <("${fuzz[@]}" list)
fi
out=fuzz/out
mkdir -p "$out"
echo "building ${#targets[@]} fuzz targets"
"${fuzz[@]}" build -O -s none >"$out/build.log" 2>&1 || { cat "$out/build.log"; exit 1; }
run() {
  local t=$1
  mkdir -p "fuzz/corpus/$t" "fuzz/seeds/$t"
  if "${fuzz[@]}" run -O -s none "$t" "fuzz/corpus/$t" "fuzz/seeds/$t" -- \
      -max_total_time="$each" -print_final_stats=1 >"$out/$t.log" 2>&1; then
    echo "$t: ok, $(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$out/$t.log" | grep -o '[0-9]*$') runs in ${each}s, $(grep -o 'cov: [0-9]*' "$out/$t.log" | tail -1)"
  else
    echo "$t: FAILED (see $out/$t.log and fuzz/artifacts/$t/)"
    # The check that failed and the input, so that a CI log alone says what broke.
    grep -m1 -A4 "panicked at" "$out/$t.log" || tail -20 "$out/$t.log"
    grep -m1 "Test unit written to" "$out/$t.log" || true
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
