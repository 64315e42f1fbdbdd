#!/bin/sh
# End to end: training gives the same bits on any number of threads. A
# model with every kernel family that splits its loops over threads
# (convolutions, batchnorm, pooling, dense products, dropout, the global
# norm's clipping, adam) trains 2 epochs on 1, 2 and 3 threads, and twice
# on 2; the checkpoints (parameters, optimizer state, position) and the
# gradient logs must be equal byte for byte.
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
"$gradc" "$work/threads.yaml" -o "$work/trainer"
"$work/trainer" info | grep "^threads: "

run() {
  "$work/trainer" train --threads "$1" --quiet --save "$work/$2.safetensors" \
    --grad-log "$work/$2.csv"
}
run 1 one
for name in two:2 two_again:2 three:3; do
  run "${name#*:}" "${name%:*}"
  for file in safetensors csv; do
    if ! cmp "$work/one.$file" "$work/${name%:*}.$file"; then
      echo "${name#*:} threads: the $file differs from 1 thread's"
      exit 1
    fi
  done
  echo "${name#*:} threads: identical to 1 thread"
done
