#!/bin/sh
# Checks the IR that `gradc --emit llvm` writes for one model and target
# against FileCheck directives.
# usage: check_llvm.sh GRADC FILECHECK MODEL.yaml CHECKS TARGET
set -eu
gradc=$1 filecheck=$2 model=$3 checks=$4 target=$5
"$gradc" "$model" --emit llvm --target "$target" -o - |
  "$filecheck" --match-full-lines=false "$checks"
