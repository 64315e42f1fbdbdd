#!/bin/sh
# A 12-layer sigmoid network must be reported as having vanishing
# gradients: the trainer's summary warns in plain words, and the logged
# first-layer gradient norm is far below the last layer's.
# usage: vanishing_warning.sh GRADC MAKE_IDX_DATASET WORKDIR
set -eu
gradc=$1 make_data=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
"$make_data" "$work"
{
  echo "model: deep"
  echo "input: [64]"
  echo "layers:"
  i=0
  while [ $i -lt 12 ]; do
    echo "  - {op: dense, units: 32, activation: sigmoid}"
    i=$((i + 1))
  done
  echo "  - {op: dense, units: 4}"
  echo "loss: softmax_cross_entropy"
  echo "optimizer: {type: sgd, lr: 0.05, momentum: 0.9}"
  echo "train: {batch: 32, epochs: 1}"
  echo "data:"
  echo "  train: {images: train-images.idx, labels: train-labels.idx}"
  echo "  scale: 0.00392156862745098"
  echo "log: {grad_norms: {every: 1, file: norms.csv}}"
} > "$work/deep.yaml"
"$gradc" "$work/deep.yaml" -o "$work/trainer"
(cd "$work" && ./trainer train) > "$work/out.txt" 2>&1
cat "$work/out.txt"
grep -q "vanish" "$work/out.txt"

# Step 1's first and last weight-gradient norms, from the CSV.
first=$(awk -F, '$1 == 1 && $2 == "layer0.weight" { print $3 }' \
  "$work/norms.csv")
last=$(awk -F, '$1 == 1 && $2 == "layer12.weight" { print $3 }' \
  "$work/norms.csv")
echo "step 1: layer0.weight $first, layer12.weight $last"
awk -v a="$first" -v b="$last" 'BEGIN { exit !(a * 1000 < b) }'
