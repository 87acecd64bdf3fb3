#!/usr/bin/env bash
# Builds tools/ggml-oracle/build/ggml-oracle: ggml's reference (de)quantisers behind a tiny CLI, used by tests
# as a bit-exact oracle. The llama.cpp source comes from the npm package node-llama-cpp, which ships it as a
# git bundle (llama/gitRelease.bundle). Needs npm, git, cmake and a C compiler. Takes about 15 s.
# Nothing of llama.cpp is committed to this repository: it is fetched into work/ (git-ignored) when built.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
version=3.22.1
work="$here/work"
out="$here/build/ggml-oracle"

if [ -x "$out" ] && [ "$out" -nt "$here/ggml-oracle.c" ] && [ "$out" -nt "$here/build.sh" ]; then
  echo "ggml-oracle: up to date ($out)"
  exit 0
fi
for tool in npm git cmake cc c++; do
  command -v "$tool" >/dev/null || { echo "ggml-oracle: '$tool' is required to build the oracle" >&2; exit 1; }
done
mkdir -p "$work" "$here/build"
cd "$work"
if [ ! -d llama.cpp/.git ]; then
  [ -f "node-llama-cpp-$version.tgz" ] || npm pack --silent "node-llama-cpp@$version" >/dev/null
  tar xzf "node-llama-cpp-$version.tgz" package/llama/gitRelease.bundle package/llama/llama.cpp.info.json
  rm -rf llama.cpp
  git clone --quiet package/llama/gitRelease.bundle llama.cpp 2>/dev/null
fi
cmake -S llama.cpp -B ggml-build -DGGML_NATIVE=OFF -DBUILD_SHARED_LIBS=OFF -DLLAMA_BUILD_TESTS=OFF \
  -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_CURL=OFF \
  -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build ggml-build --target ggml-base -j "$(nproc)" >/dev/null
# -ffp-contract=off keeps the harness itself free of fused multiply-adds, like the library built above.
cc -O2 -ffp-contract=off -c -o ggml-oracle.o "$here/ggml-oracle.c" -I llama.cpp/ggml/include -I llama.cpp/ggml/src
c++ -o "$out" ggml-oracle.o \
  ggml-build/ggml/src/libggml-base.a -fopenmp -lm -lpthread
echo "ggml-oracle: built $out (llama.cpp $(cat package/llama/llama.cpp.info.json | tr -d '\n ' ))"
