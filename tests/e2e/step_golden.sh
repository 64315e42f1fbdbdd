#!/bin/sh
# Runs one training step of a small model from PyTorch's starting point
# and compares loss, gradients and updated parameters with PyTorch's.
# usage: step_golden.sh GRADC COMPARE GOLDEN_DIR NAME WORKDIR
set -eu
gradc=$1 compare=$2 dir=$3 name=$4 work=$5
mkdir -p "$work"
"$gradc" "$dir/$name.yaml" -o "$work/trainer"
"$work/trainer" step --load "$dir/$name.params.safetensors" \
  --x "$dir/$name.x.npy" --y "$dir/$name.y.npy" --dump "$work/step.safetensors"
"$compare" "$work/step.safetensors" "$dir/$name.expected.safetensors" 1e-4
