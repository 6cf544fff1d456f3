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

report="$work/synth.md"
{
  echo "# crossgrant synth, whole process"
  echo
  echo "$(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo) RAM, $(uname -sr)"
  echo
  echo "| scenario | run | mean | σ | min | max | peak RSS |"
  echo "|---|---|---|---|---|---|---|"
} >"$report"

for name in blog grants-200 grants-2000 grants-20000; do
  scenario="$work/$name.toml"
  out="$work/out-$name"
  case "$name" in grants-20000) n=$(( runs < 5 ? runs : 5 ));; *) n=$runs;; esac
  for run in fresh rerun check; do
    case "$run" in
      fresh) cmd="$bin synth $scenario --out $out"; prepare="bash -c 'rm -rf \"$out\" && sync'";;
      rerun) cmd="$bin synth $scenario --out $out"; prepare="true";;
      check) cmd="$bin synth $scenario --out $out --check"; prepare="true";;
    esac
    rm -rf "$out" && "$bin" synth "$scenario" --out "$out" >/dev/null
    [ "$run" = fresh ] && rm -rf "$out"
    hyperfine --shell=none --style none --runs "$n" --warmup 1 --prepare "$prepare" \
      --export-json "$work/$name-$run.json" "$cmd" >/dev/null
    [ "$run" = fresh ] && rm -rf "$out"
    rss=$( { /usr/bin/time -v $cmd >/dev/null; } 2>&1 | awk -F': ' '/Maximum resident/ {printf "%.1f MB", $2/1024}')
    python3 - "$work/$name-$run.json" "$name" "$run" "$rss" >>"$report" <<'PY'
import json, sys
result = json.load(open(sys.argv[1]))["results"][0]
ms = lambda seconds: f"{seconds * 1000:.1f} ms"
print(f"| {sys.argv[2]} | {sys.argv[3]} | {ms(result['mean'])} | {ms(result['stddev'] or 0)} | {ms(result['min'])} | {ms(result['max'])} | {sys.argv[4]} |")
PY
  done
done
cat "$report"
