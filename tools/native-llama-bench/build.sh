#!/usr/bin/env bash
# Builds llama.cpp's own llama-bench natively for this CPU (-DGGML_NATIVE=ON, i.e. AVX-512 and VNNI where present),
# the bar that issue 4 measures Freehold against. Two binaries:
#   build/llama-bench           llama.cpp as shipped: Q4_0 weights are repacked into interleaved 8-row blocks at load
#   build/llama-bench-norepack  -DGGML_CPU_REPACK=OFF: every tensor used as mapped, the constraint Freehold works under
# The source is the same llama.cpp that tools/ggml-oracle uses (from the npm package node-llama-cpp; fetched once into
# tools/ggml-oracle/work, git-ignored). Needs npm, git, cmake and a C++ compiler; takes about 10 minutes on 2 cores.
# Run bench-vs-native.sh afterwards to measure both engines on the same files in one run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../llama-cpp-source.sh"
src=$(llama_cpp_source)
mkdir -p "$here/build" "$here/work"
for variant in repack norepack; do
  flag=ON; name=llama-bench
  if [ "$variant" = norepack ]; then flag=OFF; name=llama-bench-norepack; fi
  if [ -x "$here/build/$name" ] && [ "$here/build/$name" -nt "$here/build.sh" ]; then
    echo "native-llama-bench: $name up to date"
    continue
  fi
  echo "native-llama-bench: building $name (GGML_CPU_REPACK=$flag)..."
  cmake -S "$src" -B "$here/work/$variant" -DGGML_NATIVE=ON -DGGML_CPU_REPACK=$flag -DBUILD_SHARED_LIBS=OFF \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_CURL=OFF -DLLAMA_BUILD_HTML=OFF -DLLAMA_BUILD_APP=OFF \
    -DGGML_OPENMP=ON -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$here/work/$variant" --target llama-bench -j "$(nproc)" >/dev/null
  cp "$here/work/$variant/bin/llama-bench" "$here/build/$name"
done
echo "native-llama-bench: built $here/build/llama-bench and llama-bench-norepack"
