#!/bin/sh
# End to end: compiles a small classifier, trains it for a few epochs on a
# generated IDX dataset, and checks from the metrics log that the loss
# fell and that the test accuracy is far above chance (0.25).
# usage: train_loss_falls.sh GRADC MAKE_IDX_DATASET WORKDIR
set -eu
gradc=$1 make_data=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
"$make_data" "$work"
cat > "$work/quadrants.yaml" <<'YAML'
model: quadrants
input: [8, 8]
layers:
  - {op: flatten}
  - {op: dense, units: 16, activation: relu}
  - {op: dense, units: 4}
loss: softmax_cross_entropy
optimizer: {type: sgd, lr: 0.05, momentum: 0.9}
train: {batch: 32, epochs: 4, seed: 3}
data:
  train: {images: train-images.idx, labels: train-labels.idx}
  test: {images: test-images.idx, labels: test-labels.idx}
  scale: 0.00392156862745098
YAML
"$gradc" "$work/quadrants.yaml" -o "$work/trainer"
"$work/trainer" train --metrics "$work/metrics.jsonl"

# One JSON object per epoch; pull out the loss and test accuracy.
field() { sed -n "$1p" "$work/metrics.jsonl" | sed "s/.*\"$2\":\([^,}]*\).*/\1/"; }
first_loss=$(field 1 loss)
last_loss=$(field 4 loss)
last_acc=$(field 4 test_acc)
echo "loss $first_loss -> $last_loss, test accuracy $last_acc"
awk -v a="$first_loss" -v b="$last_loss" -v acc="$last_acc" \
  'BEGIN { exit !(b < 0.5 * a && acc > 0.9) }'
