#!/bin/sh
# gradc installed with `cmake --install` must find the runtime it was
# installed with (not the build tree) and build a working trainer.
# usage: install_layout.sh BUILD_DIR MODEL.yaml WORKDIR
set -eu
build=$1 model=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
cmake --install "$build" --prefix "$work/prefix" > /dev/null
"$work/prefix/bin/gradc" -v "$model" -o "$work/trainer" 2> "$work/log.txt"
grep "running" "$work/log.txt"
grep -q -- "-I $work/prefix/" "$work/log.txt"
grep -q "$work/prefix/.*libgradc_runtime.a" "$work/log.txt"
"$work/trainer" info
