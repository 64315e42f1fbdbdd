#!/bin/sh
# gradc installed with `cmake --install` must find the runtime it was
# installed with (not the build tree) and build a working trainer, with
# either backend.
# usage: install_layout.sh BUILD_DIR MODEL.yaml WORKDIR [cpp|llvm]
set -eu
build=$1 model=$2 work=$3 backend=${4:-cpp}
rm -rf "$work"
mkdir -p "$work"
cmake --install "$build" --prefix "$work/prefix" > /dev/null
"$work/prefix/bin/gradc" -v --backend "$backend" "$model" \
  -o "$work/trainer" 2> "$work/log.txt"
grep "running" "$work/log.txt"
grep -q "$work/prefix/.*libgradc_runtime.a" "$work/log.txt"
if [ "$backend" = cpp ]; then
  grep -q -- "-I $work/prefix/" "$work/log.txt"
else
  grep -q "$work/prefix/.*libgradc_kernels_native.a" "$work/log.txt"
fi
"$work/trainer" info | grep "backend: $backend,"
