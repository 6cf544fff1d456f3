#!/usr/bin/env bash
# Whole-process benchmark of `crossgrant synth`: the blog example and generated scenarios of
# 200, 2,000 and 20,000 grants, timed with hyperfine (apt-get install hyperfine) and measured
# for peak memory with GNU time (/usr/bin/time -v); the command runs without a shell in between.
# Three runs per scenario:
#   fresh    synth into an empty directory (every file written and made durable); the
#            previous output is deleted and the filesystem synced before each run, so the
#            run's own sync does not also flush that deletion
#   rerun    synth into its own up-to-date output (nothing changes on disk)
#   check    synth --check against it (renders and compares, writes nothing)
# The same runs of `crossgrant --version` give the process start-up the blog run is measured
# against, and the CPU column (user + system, the mean of the runs) the 20,000-grant goal.
# With CROSSGRANT_BASELINE=/path/to/an/earlier/crossgrant, every run is measured for that
# binary too, in the same session, so the two can be compared.
# Usage: benches/synth.sh [RUNS]   (results: target/bench/synth.md)
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${1:-10}"
command -v hyperfine >/dev/null || { echo "hyperfine is not installed (apt-get install hyperfine)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "GNU time is not installed (apt-get install time)" >&2; exit 2; }

cargo build --release --quiet --bin crossgrant --example gen
bin="$PWD/target/release/crossgrant"
gen="$PWD/target/release/examples/gen"
work="$PWD/target/bench"
rm -rf "$work" && mkdir -p "$work"

# The shapes of benches/pipeline.rs: teams of roles under declared paths, mixed access levels,
# 40% of grants on a prefix.
cp examples/blog.toml "$work/blog.toml"
"$gen" --seed 1 --buckets 10 --roles 50 --accounts 10 --grants 200 --team-size 5 --declare-paths >"$work/grants-200.toml"
"$gen" --seed 1 --buckets 40 --roles 400 --accounts 40 --grants 2000 --team-size 10 --declare-paths >"$work/grants-2000.toml"
"$gen" --seed 1 --buckets 100 --roles 2000 --accounts 100 --grants 20000 --team-size 10 --declare-paths >"$work/grants-20000.toml"

binaries=("this:$bin")
[ -n "${CROSSGRANT_BASELINE:-}" ] && binaries+=("baseline:$CROSSGRANT_BASELINE")

report="$work/synth.md"
{
  echo "# crossgrant synth, whole process"
  echo
  echo "$(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo) RAM, $(uname -sr)"
  echo
  echo "| scenario | run | binary | mean | σ | min | max | CPU (user + system) | peak RSS |"
  echo "|---|---|---|---|---|---|---|---|---|"
} >"$report"

for name in blog grants-200 grants-2000 grants-20000; do
  scenario="$work/$name.toml"
  case "$name" in grants-20000) n=$(( runs < 5 ? runs : 5 ));; *) n=$runs;; esac
  for run in fresh rerun check; do
    for binary in "${binaries[@]}"; do
      label="${binary%%:*}" exe="${binary#*:}" out="$work/out-${binary%%:*}-$name"
      case "$run" in
        fresh) cmd="$exe synth $scenario --out $out"; prepare="bash -c 'rm -rf \"$out\" && sync'";;
        rerun) cmd="$exe synth $scenario --out $out"; prepare="true";;
        check) cmd="$exe synth $scenario --out $out --check"; prepare="true";;
      esac
      rm -rf "$out" && "$exe" synth "$scenario" --out "$out" >/dev/null
      [ "$run" = fresh ] && rm -rf "$out"
      hyperfine --shell=none --style none --runs "$n" --warmup 1 --prepare "$prepare" \
        --export-json "$work/$name-$run-$label.json" "$cmd" >/dev/null
      [ "$run" = fresh ] && rm -rf "$out"
      rss=$( { /usr/bin/time -v $cmd >/dev/null; } 2>&1 | awk -F': ' '/Maximum resident/ {printf "%.1f MB", $2/1024}')
      python3 - "$work/$name-$run-$label.json" "$name" "$run" "$label" "$rss" >>"$report" <<'PY'
import json, sys
result = json.load(open(sys.argv[1]))["results"][0]
ms = lambda seconds: f"{seconds * 1000:.1f} ms"
cpu = result["user"] + result["system"]
print(f"| {sys.argv[2]} | {sys.argv[3]} | {sys.argv[4]} | {ms(result['mean'])} | {ms(result['stddev'] or 0)} | {ms(result['min'])} | {ms(result['max'])} | {ms(cpu)} | {sys.argv[5]} |")
PY
    done
  done
done
hyperfine --shell=none --style none --runs "$runs" --warmup 3 \
  --export-json "$work/version.json" "$bin --version" >/dev/null
python3 - "$work/version.json" >>"$report" <<'PY'
import json, sys
result = json.load(open(sys.argv[1]))["results"][0]
print(f"\n`crossgrant --version`: {result['mean'] * 1000:.1f} ms (σ {(result['stddev'] or 0) * 1000:.1f} ms, min {result['min'] * 1000:.1f} ms)")
PY
cat "$report"
