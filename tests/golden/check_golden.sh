#!/bin/sh
# Compares `gradc --emit graph` for one model with its golden file, or
# `--emit dot` where the golden file's name ends in .dot.
# usage: check_golden.sh GRADC MODEL.yaml GOLDEN.graph|GOLDEN.dot [OPTIONS]
# The golden files are written by update_goldens.sh; its first line is a
# NOTE saying so, which this check skips.
set -eu
gradc=$1 model=$2 golden=$3
shift 3
actual=$(mktemp)
trap 'rm -f "$actual"' EXIT
case $golden in *.dot) kind=dot ;; *) kind=graph ;; esac
"$gradc" "$model" --emit $kind -o "$actual" "$@"
if ! tail -n +2 "$golden" | diff -u - "$actual"; then
  echo "the graph of $model differs from $golden (above: - golden, + now)"
  echo "if the change is intended, run tests/golden/update_goldens.sh GRADC"
  exit 1
fi
