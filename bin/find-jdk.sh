#!/usr/bin/env bash
# Sourced by ./freehold, ./mvnw and .ci/run: finds a JDK of version 25 or newer.
# Freehold needs Java 25 (Vector API incubator, FFM); many machines default to an older `java`.
# Order: $FREEHOLD_JAVA_HOME, $JAVA_HOME, the usual install folders, then `java` on PATH.
# On success it sets and exports JAVA_HOME; on failure it prints why and returns 1.

freehold_java_major() { # $1 = a java executable; prints its feature version (e.g. 25)
  "$1" -XshowSettings:properties -version 2>&1 \
    | sed -n 's/^ *java\.specification\.version = \([0-9][0-9]*\).*/\1/p' | head -n 1
}

freehold_find_jdk() {
  local min=25 candidate v
  local -a candidates=()
  [ -n "${FREEHOLD_JAVA_HOME:-}" ] && candidates+=("$FREEHOLD_JAVA_HOME")
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  for candidate in /usr/lib/jvm/* /usr/java/* /opt/java/* /opt/jdk* "$HOME"/.sdkman/candidates/java/* \
                   "$HOME"/.jdks/* /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    [ -d "$candidate" ] && candidates+=("$candidate")
  done
  if command -v java >/dev/null 2>&1; then
    candidate=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
    candidates+=("$candidate")
  fi
  for candidate in "${candidates[@]}"; do
    [ -x "$candidate/bin/java" ] && [ -x "$candidate/bin/javac" ] || continue
    v=$(freehold_java_major "$candidate/bin/java")
    if [ -n "$v" ] && [ "$v" -ge "$min" ]; then
      JAVA_HOME="$candidate"; export JAVA_HOME
      return 0
    fi
  done
  echo "freehold: no JDK $min or newer found (looked at \$FREEHOLD_JAVA_HOME, \$JAVA_HOME, /usr/lib/jvm, /opt, ~/.sdkman, and java on PATH)." >&2
  echo "freehold: install one (e.g. Temurin 25) and set JAVA_HOME to it." >&2
  return 1
}

# Run directly (not sourced): print the JDK's home, for POSIX-sh callers such as mvnw.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  freehold_find_jdk && printf '%s\n' "$JAVA_HOME"
fi
