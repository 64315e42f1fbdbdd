#!/bin/sh
# End to end: a trainer whose first layer is an embedding takes whole ids
# below its vocabulary, and refuses anything else where data enter it
# (predict's --input, step's --x, train's data), with exit status 1 and a
# message naming the file and the place of the first bad value.
# usage: embedding_ids.sh GRADC GOLDEN_STEP_DIR WORKDIR
set -eu
gradc=$1 golden=$2 work=$3
rm -rf "$work"
mkdir -p "$work"

# The model of the step_embedding golden: 6 ids per sample, vocabulary 5.
params="$golden/step_embedding.params.safetensors"
"$gradc" "$golden/step_embedding.yaml" -o "$work/trainer"
"$work/trainer" predict --load "$params" \
  --input "$golden/step_embedding.x.npy" --output "$work/outputs.npy"

# step_mse.x.npy holds standard normal values of the same shape, [4, 6].
bad="$golden/step_mse.x.npy"
message="an embedding of 5 ids, but '$bad' holds .* at sample 0, position 0"
refused() {
  status=0
  "$@" > "$work/output.txt" 2>&1 || status=$?
  cat "$work/output.txt"
  [ "$status" -eq 1 ] && grep -q "$message" "$work/output.txt"
}
refused "$work/trainer" predict --load "$params" --input "$bad" \
  --output "$work/bad.npy"
refused "$work/trainer" step --load "$params" \
  --x "$bad" --y "$golden/step_embedding.y.npy" --dump "$work/step.safetensors"
refused "$work/trainer" train --steps 1 --train-x "$bad" \
  --train-y "$golden/step_embedding.y.npy"
echo "every bad input refused"
