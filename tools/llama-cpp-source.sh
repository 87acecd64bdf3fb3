# Sourced by the tools that build parts of llama.cpp (ggml-oracle, native-llama-bench). llama_cpp_source fetches the
# llama.cpp source once, from the git bundle that the npm package node-llama-cpp ships (llama/gitRelease.bundle), into
# tools/ggml-oracle/work/llama.cpp (git-ignored), and prints that directory. Nothing of llama.cpp is committed here.
LLAMA_CPP_NPM_VERSION=3.22.1

llama_cpp_source() {
  local tools work
  tools=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  work="$tools/ggml-oracle/work"
  for tool in npm git cmake cc c++; do
    command -v "$tool" >/dev/null || { echo "'$tool' is required to build from the llama.cpp source" >&2; return 1; }
  done
  mkdir -p "$work"
  if [ ! -d "$work/llama.cpp/.git" ]; then
    (
      cd "$work"
      [ -f "node-llama-cpp-$LLAMA_CPP_NPM_VERSION.tgz" ] || npm pack --silent "node-llama-cpp@$LLAMA_CPP_NPM_VERSION" >/dev/null
      tar xzf "node-llama-cpp-$LLAMA_CPP_NPM_VERSION.tgz" package/llama/gitRelease.bundle package/llama/llama.cpp.info.json
      rm -rf llama.cpp
      git clone --quiet package/llama/gitRelease.bundle llama.cpp 2>/dev/null
    ) >&2
  fi
  echo "$work/llama.cpp"
}
