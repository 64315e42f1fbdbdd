#!/bin/sh
# End to end: trains from CSV files named as {csv, label} splits. A
# regression model (mse, one output, the target in the middle column of a
# file with a header line) trains with AdamW and a step schedule, and must
# bring its loss far down; a classifier (the class id in column 0, no
# header) trains with SGD and must reach a test accuracy far above chance.
# The epoch lines of the scheduled run show the learning rate.
# usage: train_csv_data.sh GRADC MAKE_ARRAY_DATASET WORKDIR
set -eu
gradc=$1 make_data=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
"$make_data" "$work"
cat > "$work/csv_regression.yaml" <<'YAML'
model: csv_regression
input: [4]
layers:
  - {op: dense, units: 1}
loss: mse
optimizer: {type: adamw, lr: 0.05}
train:
  batch: 20
  epochs: 6
  seed: 4
  schedule: {type: step, every: 2, gamma: 0.5}
data:
  train: {csv: train-regression.csv, label: 2}
  test: {csv: test-regression.csv, label: 2}
YAML
cat > "$work/csv_classes.yaml" <<'YAML'
model: csv_classes
input: [6]
layers:
  - {op: dense, units: 3}
loss: softmax_cross_entropy
optimizer: {type: sgd, lr: 0.1, momentum: 0.9}
train: {batch: 32, epochs: 3, seed: 4}
data:
  train: {csv: train-classes.csv, label: 0}
  test: {csv: test-classes.csv, label: 0}
YAML

field() { sed -n "$2p" "$1" | sed "s/.*\"$3\":\([^,}]*\).*/\1/"; }

"$gradc" "$work/csv_regression.yaml" -o "$work/regression"
"$work/regression" train --metrics "$work/regression.jsonl" \
  > "$work/regression.out"
cat "$work/regression.out"
first_loss=$(field "$work/regression.jsonl" 1 loss)
last_loss=$(field "$work/regression.jsonl" 6 loss)
echo "regression loss $first_loss -> $last_loss"
awk -v a="$first_loss" -v b="$last_loss" 'BEGIN { exit !(b < 0.05 * a) }'
# Epochs 5 and 6 run at 0.05 * 0.5 * 0.5.
grep -q "^epoch 6/6  lr 0.0125  loss" "$work/regression.out"

"$gradc" "$work/csv_classes.yaml" -o "$work/classes"
"$work/classes" train --metrics "$work/classes.jsonl"
first_loss=$(field "$work/classes.jsonl" 1 loss)
last_loss=$(field "$work/classes.jsonl" 3 loss)
last_acc=$(field "$work/classes.jsonl" 3 test_acc)
echo "classifier loss $first_loss -> $last_loss, test accuracy $last_acc"
awk -v a="$first_loss" -v b="$last_loss" -v acc="$last_acc" \
  'BEGIN { exit !(b < a && acc > 0.85) }'
