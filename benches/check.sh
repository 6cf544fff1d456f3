#!/usr/bin/env bash
# Whole-process benchmark of `crossgrant check` on the generated scenarios of benches/synth.sh
# (200, 2,000 and 20,000 grants), timed with hyperfine (apt-get install hyperfine) and measured
# for peak memory with GNU time (/usr/bin/time -v); the command runs without a shell in between
# and its report goes to /dev/null. CPU is user + system of the process, all threads, the mean
# of the runs. Then the mutation tests of tests/eval/check_scale.rs run at 2,000 and 20,000
# grants: each layer broken or widened must still be caught (their timings are in-process).
# With CROSSGRANT_BASELINE=/path/to/an/earlier/crossgrant, every run is measured for that
# binary too (an earlier check needs minutes and gigabytes at 2,000 grants and does not finish
# at 20,000: set CROSSGRANT_BASELINE_MAX=200 or 2000 to stop it there).
# Usage: benches/check.sh [RUNS]   (results: target/bench-check/check.md; CARGO overrides cargo)
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${1:-5}"
cargo="${CARGO:-cargo}"
command -v hyperfine >/dev/null || { echo "hyperfine is not installed (apt-get install hyperfine)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "GNU time is not installed (apt-get install time)" >&2; exit 2; }

$cargo build --release --quiet --bin crossgrant --example gen
bin="$PWD/target/release/crossgrant"
gen="$PWD/target/release/examples/gen"
work="$PWD/target/bench-check"
rm -rf "$work" && mkdir -p "$work"

# The shapes of benches/synth.sh: teams of roles under declared paths, mixed access levels,
# 40% of grants on a prefix.
"$gen" --seed 1 --buckets 10 --roles 50 --accounts 10 --grants 200 --team-size 5 --declare-paths >"$work/grants-200.toml"
"$gen" --seed 1 --buckets 40 --roles 400 --accounts 40 --grants 2000 --team-size 10 --declare-paths >"$work/grants-2000.toml"
"$gen" --seed 1 --buckets 100 --roles 2000 --accounts 100 --grants 20000 --team-size 10 --declare-paths >"$work/grants-20000.toml"
# One bucket shared with 600 roles in 60 accounts, mixed access, no paths, through access points.
"$gen" --seed 1 --buckets 1 --roles 600 --accounts 60 --grants 600 --team-size 1 --access mixed --access-points >"$work/access-points-600.toml"

binaries=("this:$bin")
[ -n "${CROSSGRANT_BASELINE:-}" ] && binaries+=("baseline:$CROSSGRANT_BASELINE")

report="$work/check.md"
{
  echo "# crossgrant check, whole process"
  echo
  echo "$(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo) RAM, $(uname -sr)"
  echo
  echo "| scenario | binary | operations | mean | σ | min | max | CPU (user + system) | peak RSS |"
  echo "|---|---|---|---|---|---|---|---|---|"
} >"$report"

for grants in 200 2000 20000; do
  scenario="$work/grants-$grants.toml"
  case "$grants" in 20000) n=$(( runs < 3 ? runs : 3 ));; *) n=$runs;; esac
  for binary in "${binaries[@]}"; do
    label="${binary%%:*}" exe="${binary#*:}"
    if [ "$label" = baseline ] && [ "$grants" -gt "${CROSSGRANT_BASELINE_MAX:-20000}" ]; then
      continue
    fi
    hyperfine --shell=none --style none --runs "$n" --warmup 1 \
      --export-json "$work/$grants-$label.json" "$exe check $scenario" >/dev/null
    rss=$( { /usr/bin/time -v "$exe" check "$scenario" >/dev/null; } 2>&1 | awk -F': ' '/Maximum resident/ {printf "%.1f MB", $2/1024}')
    operations=$("$exe" check "$scenario" | head -1 | sed 's/.* — \([0-9]*\) operations.*/\1/')
    python3 - "$work/$grants-$label.json" "$grants" "$label" "$operations" "$rss" >>"$report" <<'PY'
import json, sys
result = json.load(open(sys.argv[1]))["results"][0]
time = lambda seconds: f"{seconds:.2f} s" if seconds >= 1 else f"{seconds * 1000:.0f} ms"
cpu = result["user"] + result["system"]
print(f"| {int(sys.argv[2]):,} grants | {sys.argv[3]} | {int(sys.argv[4]):,} | {time(result['mean'])} | {time(result['stddev'] or 0)} | {time(result['min'])} | {time(result['max'])} | {time(cpu)} | {sys.argv[5]} |")
PY
  done
done

# The access-point scenario, once: synth and check, wall and CPU time and peak memory.
for command in synth check; do
  case "$command" in synth) args=(synth "$work/access-points-600.toml" --out "$work/out-access-points");; *) args=(check "$work/access-points-600.toml");; esac
  { /usr/bin/time -f "600 roles through access points, $command: %e s wall, %U s user + %S s system, %M KB peak RSS" "$bin" "${args[@]}" >/dev/null; } 2>>"$report"
done

{
  echo
  echo "Mutations (tests/eval/check_scale.rs, each must fail the check; in-process time of one check):"
  echo
} >>"$report"
for grants in 2000 20000; do
  echo "$grants grants:" >>"$report"
  CROSSGRANT_CHECK_GRANTS=$grants $cargo test --release --quiet --test eval check_scale::full_size -- --ignored --nocapture 2>&1 \
    | grep -E 'operations wrong|test result' | sed 's/^/    /' >>"$report"
done
cat "$report"
