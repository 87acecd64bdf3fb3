#!/usr/bin/env bash
# Freehold and native llama.cpp on the same GGUF files in one run, alternating engine by engine per file so that the
# machine's drift hits both alike; prints a Markdown table of tokens/s and the ratio Freehold / native.
#
#   tools/native-llama-bench/bench-vs-native.sh [-p 512] [-n 64] [-t 2] [-r 3] MODEL.gguf...
#
# Native is llama.cpp's llama-bench built by build.sh, twice: as shipped (Q4_0 repacked at load into interleaved
# rows: anonymous memory of the model's size) and with repacking off (weights used as mapped, as Freehold does).
# Freehold is ./freehold bench from the repository root (built on first use).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
pp=512 tg=64 threads=2 reps=3
while getopts "p:n:t:r:" opt; do
  case $opt in
    p) pp=$OPTARG ;; n) tg=$OPTARG ;; t) threads=$OPTARG ;; r) reps=$OPTARG ;;
    *) echo "usage: $0 [-p PP] [-n TG] [-t THREADS] [-r REPS] MODEL.gguf..." >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || { echo "usage: $0 [-p PP] [-n TG] [-t THREADS] [-r REPS] MODEL.gguf..." >&2; exit 2; }
for bin in llama-bench llama-bench-norepack; do
  [ -x "$here/build/$bin" ] || { echo "$here/build/$bin is missing: run $here/build.sh first" >&2; exit 1; }
done
command -v jq >/dev/null || { echo "jq is required (Debian: apt-get install jq)" >&2; exit 1; }
for value in "$pp" "$tg" "$threads" "$reps"; do
  [[ "$value" =~ ^[0-9]+$ ]] || { echo "-p, -n, -t and -r take whole numbers, got '$value'" >&2; exit 2; }
done

# Runs one engine and prints its JSON; on failure says which engine, on which file, with its own last words.
run() {
  local name=$1 model=$2 out
  shift 2
  if ! out=$("$@" 2>/tmp/bench-vs-native.err); then
    echo "$name failed on $model:" >&2
    tail -n 5 /tmp/bench-vs-native.err >&2
    exit 1
  fi
  echo "$out"
}
# "tokens/s stddev" of one test: Freehold's by name, llama-bench's by its prompt and generation lengths.
freehold_result() { jq -r --arg t "$2" '.[] | select(.test == $t) | "\(.tokens_per_second) \(.stddev)"' <<<"$1"; }
native_result() { jq -r --argjson p "$2" --argjson n "$3" '.[] | select(.n_prompt == $p and .n_gen == $n) | "\(.avg_ts) \(.stddev_ts)"' <<<"$1"; }
fmt() { awk '{ printf "%.1f ± %.1f", $1, $2 }' <<<"$1"; }
ratio() { awk -v a="${1%% *}" -v b="${2%% *}" 'BEGIN { printf "%.2f", a / b }'; }
row() { # model test freehold native norepack
  echo "| $1 | $2 | $(fmt "$3") | $(fmt "$4") | $(ratio "$3" "$4") | $(fmt "$5") | $(ratio "$3" "$5") |"
}

echo "| model | test | Freehold t/s | llama.cpp t/s | ratio | llama.cpp, no repack, t/s | ratio |"
echo "|---|---|---:|---:|---:|---:|---:|"
for model in "$@"; do
  [ -f "$model" ] || { echo "no such model file: $model" >&2; exit 2; }
  fh=$(run Freehold "$model" "$root/freehold" bench -m "$model" -p "$pp" -n "$tg" -t "$threads" -r "$reps" --json)
  na=$(run llama-bench "$model" "$here/build/llama-bench" -m "$model" -p "$pp" -n "$tg" -t "$threads" -r "$reps" -o json)
  nr=$(run llama-bench-norepack "$model" "$here/build/llama-bench-norepack" -m "$model" -p "$pp" -n "$tg" -t "$threads" -r "$reps" -o json)
  name=$(basename "$model")
  if [ "$pp" -gt 0 ]; then
    row "$name" "pp$pp" "$(freehold_result "$fh" "pp$pp")" "$(native_result "$na" "$pp" 0)" "$(native_result "$nr" "$pp" 0)"
  fi
  if [ "$tg" -gt 0 ]; then
    row "$name" "tg$tg" "$(freehold_result "$fh" "tg$tg")" "$(native_result "$na" 0 "$tg")" "$(native_result "$nr" 0 "$tg")"
  fi
done
