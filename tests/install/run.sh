#!/bin/sh
# Installs the build tree into a scratch prefix, then builds and runs a consumer against
# it twice: with CMake's find_package(knast) and with pkg-config.
# Usage: run.sh BUILD_DIR CONSUMER_SOURCE_DIR
set -eu
build=$1
consumer=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/knast-install.XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$(ls -d "$prefix"/lib*/libknast.so | head -n 1 | xargs dirname)
test -f "$prefix/include/knast/knast.h"
test -f "$prefix/include/knast/knast.hpp"
test -f "$prefix/include/knast/version.hpp"
test -f "$libdir/pkgconfig/knast.pc"
test -f "$libdir/cmake/knast/knastConfig.cmake"

expect="docker.io/library/busybox:1.36"
check() {
  out=$(LD_LIBRARY_PATH=$libdir "$1" busybox:1.36)
  if [ "$out" != "$expect" ]; then echo "FAIL: $1 printed '$out', expected '$expect'"; exit 1; fi
  echo "ok: $1"
}

# 1. find_package
cmake -S "$consumer" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/cmake-build" >/dev/null
check "$work/cmake-build/consumer_cpp"
check "$work/cmake-build/consumer_c"

# 2. pkg-config, with the compilers called by hand as a Makefile would
export PKG_CONFIG_PATH="$libdir/pkgconfig"
cc -std=c99 -pedantic -Wall -Werror $(pkg-config --cflags knast) "$consumer/consumer.c" \
  -o "$work/pc_c" $(pkg-config --libs knast)
c++ -std=c++20 -Wall -Werror $(pkg-config --cflags knast) "$consumer/consumer.cpp" \
  -o "$work/pc_cpp" $(pkg-config --libs knast)
check "$work/pc_c"
check "$work/pc_cpp"
echo "install consumer: 4 passed, 0 failed"
