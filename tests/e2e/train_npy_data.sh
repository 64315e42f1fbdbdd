#!/bin/sh
# End to end: trains a small classifier with Adam from .npy files named as
# {x, y} splits in the model file, and checks from the metrics log that the
# loss fell and that the test accuracy is far above chance (1/3).
# usage: train_npy_data.sh GRADC MAKE_ARRAY_DATASET WORKDIR
set -eu
gradc=$1 make_data=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
"$make_data" "$work"
cat > "$work/npy_classes.yaml" <<'YAML'
model: npy_classes
input: [2, 3]
layers:
  - {op: flatten}
  - {op: dense, units: 16, activation: relu}
  - {op: dense, units: 3}
loss: softmax_cross_entropy
optimizer: {type: adam, lr: 0.01}
train: {batch: 32, epochs: 4, seed: 2}
data:
  train: {x: train.x.npy, y: train.y.npy}
  test: {x: test.x.npy, y: test.y.npy}
YAML
"$gradc" "$work/npy_classes.yaml" -o "$work/trainer"
"$work/trainer" train --metrics "$work/metrics.jsonl"

field() {
  sed -n "$1p" "$work/metrics.jsonl" | sed "s/.*\"$2\":\([^,}]*\).*/\1/"
}
first_loss=$(field 1 loss)
last_loss=$(field 4 loss)
last_acc=$(field 4 test_acc)
echo "loss $first_loss -> $last_loss, test accuracy $last_acc"
awk -v a="$first_loss" -v b="$last_loss" -v acc="$last_acc" \
  'BEGIN { exit !(b < 0.6 * a && acc > 0.85) }'
