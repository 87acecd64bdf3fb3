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

fmt() { awk '{ printf "%.1f ± %.1f", $1, $2 }' <<<"$1"; }
ratio() { awk -v a="${1%% *}" -v b="${2%% *}" 'BEGIN { printf "%.2f", a / b }'; }

echo "| model | test | Freehold t/s | llama.cpp t/s | ratio | llama.cpp, no repack, t/s | ratio |"
echo "|---|---|---:|---:|---:|---:|---:|"
for model in "$@"; do
  fh_json=$("$root/freehold" bench -m "$model" -p "$pp" -n "$tg" -t "$threads" -r "$reps" --json 2>/dev/null)
  nat_json=$("$here/build/llama-bench" -m "$model" -p "$pp" -n "$tg" -t "$threads" -r "$reps" -o json 2>/dev/null)
  nor_json=$("$here/build/llama-bench-norepack" -m "$model" -p "$pp" -n "$tg" -t "$threads" -r "$reps" -o json 2>/dev/null)
  for test in "pp$pp 0" "tg$tg 1"; do
    name=${test% *}
    if [ "${test#* }" = 0 ]; then p=$pp n=0; else p=0 n=$tg; fi
    fh=$(jq -r --arg t "$name" '.[] | select(.test == $t) | "\(.tokens_per_second) \(.stddev)"' <<<"$fh_json")
    na=$(jq -r --argjson p "$p" --argjson n "$n" '.[] | select(.n_prompt == $p and .n_gen == $n) | "\(.avg_ts) \(.stddev_ts)"' <<<"$nat_json")
    nr=$(jq -r --argjson p "$p" --argjson n "$n" '.[] | select(.n_prompt == $p and .n_gen == $n) | "\(.avg_ts) \(.stddev_ts)"' <<<"$nor_json")
    echo "| $(basename "$model") | $name | $(fmt "$fh") | $(fmt "$na") | $(ratio "$fh" "$na") | $(fmt "$nr") | $(ratio "$fh" "$nr") |"
  done
done
