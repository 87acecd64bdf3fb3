#!/usr/bin/env bash
# Builds tools/jit-disassembler/build/hsdis-amd64.so, a disassembler plugin for the JVM's -XX:+PrintAssembly, so
# that the machine code C2 makes of a kernel can be read. Two back ends:
#   (default)    hsdis-objdump.c: hands the code to GNU objdump (binutils), which decodes all of AVX-512
#   --capstone   hsdis-capstone.c: Capstone (Debian: apt-get install libcapstone-dev); Capstone 4 leaves many
#                EVEX instructions undecoded
# Use it like this (the kernel must run long enough to be compiled):
#
#   LD_LIBRARY_PATH=tools/jit-disassembler/build java -XX:+UnlockDiagnosticVMOptions \
#     -XX:CompileCommand=print,dev.freehold.core.kernel.Q4Matrix::dotQ8 -XX:PrintAssemblyOptions=intel \
#     --add-modules jdk.incubator.vector -jar freehold-cli/target/freehold.jar bench -m MODEL -p 0 -n 32 -r 1
#
# The last "Compiled method (c2)" block of the output is the optimised code; its hot loop ends in a backward jump.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$here/build"
if [ "${1:-}" = --capstone ]; then
  if [ ! -f /usr/include/capstone/capstone.h ]; then
    echo "jit-disassembler: Capstone's headers are missing (Debian: apt-get install libcapstone-dev)" >&2
    exit 1
  fi
  cc -O2 -shared -fPIC -o "$here/build/hsdis-amd64.so" "$here/hsdis-capstone.c" -lcapstone
  echo "jit-disassembler: built $here/build/hsdis-amd64.so (Capstone)"
else
  command -v objdump >/dev/null || echo "jit-disassembler: note: objdump (binutils) must be on the PATH when the JVM runs" >&2
  cc -O2 -Wall -shared -fPIC -o "$here/build/hsdis-amd64.so" "$here/hsdis-objdump.c"
  echo "jit-disassembler: built $here/build/hsdis-amd64.so (objdump)"
fi
