#!/usr/bin/env bash
# Builds tools/ggml-oracle/build/ggml-oracle: ggml's reference (de)quantisers behind a tiny CLI, used by tests
# as a bit-exact oracle. The llama.cpp source comes from the npm package node-llama-cpp, which ships it as a
# git bundle (llama/gitRelease.bundle). Needs npm, git, cmake and a C compiler. Takes about 15 s.
# Nothing of llama.cpp is committed to this repository: it is fetched into work/ (git-ignored) when built.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work="$here/work"
out="$here/build/ggml-oracle"

if [ -x "$out" ] && [ "$out" -nt "$here/ggml-oracle.c" ] && [ "$out" -nt "$here/build.sh" ]; then
  echo "ggml-oracle: up to date ($out)"
  exit 0
fi
source "$here/../llama-cpp-source.sh"
llama_cpp_source >/dev/null
mkdir -p "$work" "$here/build"
cd "$work"
cmake -S llama.cpp -B ggml-build -DGGML_NATIVE=OFF -DBUILD_SHARED_LIBS=OFF -DLLAMA_BUILD_TESTS=OFF \
  -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_CURL=OFF \
  -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build ggml-build --target ggml-base -j "$(nproc)" >/dev/null
# -ffp-contract=off keeps the harness itself free of fused multiply-adds, like the library built above.
cc -O2 -ffp-contract=off -c -o ggml-oracle.o "$here/ggml-oracle.c" -I llama.cpp/ggml/include -I llama.cpp/ggml/src
c++ -o "$out" ggml-oracle.o \
  ggml-build/ggml/src/libggml-base.a -fopenmp -lm -lpthread
echo "ggml-oracle: built $out (llama.cpp $(tr -d '\n ' < package/llama/llama.cpp.info.json))"
