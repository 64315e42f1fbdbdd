#!/bin/sh
# End to end: training gives the same bits on any number of threads. A
# model with every kernel family that splits its loops over threads
# (convolutions, batchnorm, pooling, dense products, dropout, the global
# norm's clipping, adam) trains 2 epochs on 1, 2 and 3 threads, and twice
# on 2; the checkpoints (parameters, optimizer state, position) and the
# gradient logs must be equal byte for byte. A second model, with neither
# batchnorm nor dropout, has its training steps cut in two parts computed
# side by side, and must agree as well.
# usage: threads_identical.sh GRADC MAKE_IDX_DATASET WORKDIR
set -eu
gradc=$1 make_data=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
"$make_data" "$work"
cat > "$work/threads.yaml" <<'YAML'
model: threads
input: [1, 8, 8]
layers:
  - {op: conv2d, filters: 32, kernel: 3, padding: same, bias: false}
  - {op: batchnorm}
  - {op: relu}
  - {op: maxpool2d, size: 2}
  - {op: conv2d, filters: 16, kernel: 3, padding: same, activation: relu}
  - {op: flatten}
  - {op: dense, units: 512, activation: relu}
  - {op: dropout, rate: 0.2}
  - {op: dense, units: 4}
loss: softmax_cross_entropy
optimizer: {type: adam, lr: 0.001, weight_decay: 0.01}
passes: {clip: {global_norm: 1.0}}
train: {batch: 64, epochs: 2, seed: 5}
data:
  train: {images: train-images.idx, labels: train-labels.idx}
  test: {images: test-images.idx, labels: test-labels.idx}
  scale: 0.00392156862745098
log:
  grad_norms: {every: 1}
YAML
cat > "$work/parts.yaml" <<'YAML'
model: parts
input: [1, 8, 8]
layers:
  - {op: conv2d, filters: 8, kernel: 3, padding: same, activation: relu}
  - {op: maxpool2d, size: 2}
  - {op: flatten}
  - {op: dense, units: 32, activation: sigmoid}
  - {op: dense, units: 32, activation: tanh}
  - {op: dense, units: 4}
loss: softmax_cross_entropy
optimizer: {type: sgd, lr: 0.1, momentum: 0.9}
train: {batch: 64, epochs: 2, seed: 5}
data:
  train: {images: train-images.idx, labels: train-labels.idx}
  test: {images: test-images.idx, labels: test-labels.idx}
  scale: 0.00392156862745098
log:
  grad_norms: {every: 1}
YAML

# Trains MODEL on 1, 2 (twice) and 3 threads and compares the results.
check() {
  model=$1
  "$gradc" "$work/$model.yaml" -o "$work/$model"
  "$work/$model" info | grep -E "^(threads|training steps): "
  run() {
    "$work/$model" train --threads "$1" --quiet \
      --save "$work/$model-$2.safetensors" --grad-log "$work/$model-$2.csv"
  }
  run 1 one
  for name in two:2 two_again:2 three:3; do
    run "${name#*:}" "${name%:*}"
    for file in safetensors csv; do
      if ! cmp "$work/$model-one.$file" "$work/$model-${name%:*}.$file"; then
        echo "$model on ${name#*:} threads: the $file differs from 1 thread's"
        exit 1
      fi
    done
    echo "$model on ${name#*:} threads: identical to 1 thread"
  done
}
check threads
check parts
"$work/parts" info | grep -q "^training steps: each batch of 64 in 2 parts" ||
  { echo "the parts model's steps are not cut in parts"; exit 1; }
