#!/bin/sh
# An autoencoder (`targets: inputs`) trained on a generated IDX dataset
# must reconstruct better after a few epochs, and `predict` must give back
# one reconstruction per input, of the input's size.
# usage: autoencoder_loss_falls.sh GRADC MAKE_IDX_DATASET WORKDIR
set -eu
gradc=$1 make_data=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
"$make_data" "$work"
cat > "$work/ae.yaml" <<'YAML'
model: ae
input: [8, 8]
layers:
  - {op: flatten}
  - {op: dense, units: 8, activation: relu}
  - {op: dense, units: 64, activation: sigmoid}
loss: mse
optimizer: {type: adam, lr: 0.01}
train: {batch: 32, epochs: 5, seed: 3}
data:
  train: {images: train-images.idx, labels: train-labels.idx}
  test: {images: test-images.idx, labels: test-labels.idx}
  scale: 0.00392156862745098
  targets: inputs
YAML
"$gradc" "$work/ae.yaml" -o "$work/trainer"
"$work/trainer" train --metrics "$work/metrics.jsonl" --save "$work/ae.st"

field() { sed -n "$1p" "$work/metrics.jsonl" | sed "s/.*\"$2\":\([^,}]*\).*/\1/"; }
first=$(field 1 loss)
last=$(field 5 loss)
echo "reconstruction loss $first -> $last"
awk -v a="$first" -v b="$last" 'BEGIN { exit !(b < 0.7 * a) }'
if grep -q acc "$work/metrics.jsonl"; then
  echo "an autoencoder has no accuracy to report"
  exit 1
fi
