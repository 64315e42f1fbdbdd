#!/bin/sh
# End to end: a run interrupted and resumed ends bit for bit where an
# uninterrupted run ends, with an optimizer that keeps state and a
# learning-rate schedule. For adam with a step schedule and adamw with a
# cosine one, it trains 3 epochs straight, then the same 3 epochs stopped
# (--steps) inside the first epoch, inside the second, and at the end of
# the second where the rate changes, each resumed from its checkpoint;
# every final checkpoint (parameters, optimizer state, position) must
# equal the straight run's byte for byte.
# usage: resume_exact.sh GRADC MAKE_IDX_DATASET WORKDIR
set -eu
gradc=$1 make_data=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
"$make_data" "$work"

write_model() {
  cat > "$work/$1.yaml" <<YAML
model: $1
input: [8, 8]
layers:
  - {op: flatten}
  - {op: dense, units: 16, activation: tanh}
  - {op: dense, units: 4}
loss: softmax_cross_entropy
optimizer: $2
train: {batch: 32, epochs: 3, seed: 9, schedule: $3}
data:
  train: {images: train-images.idx, labels: train-labels.idx}
  test: {images: test-images.idx, labels: test-labels.idx}
  scale: 0.00392156862745098
YAML
}
write_model resume_adam "{type: adam, lr: 0.01, weight_decay: 0.001}" \
  "{type: step, every: 1, gamma: 0.5}"
write_model resume_adamw "{type: adamw, lr: 0.01}" "{type: cosine}"

for model in resume_adam resume_adamw; do
  trainer="$work/$model"
  "$gradc" "$work/$model.yaml" -o "$trainer"
  "$trainer" train --save "$work/$model.straight.safetensors" \
    > "$work/$model.straight.out"
  cat "$work/$model.straight.out"
  # The schedule is on: each epoch line shows its own learning rate.
  rates=$(sed -n 's/.*  lr \([^ ]*\)  loss.*/\1/p' "$work/$model.straight.out" |
    sort -u | wc -l)
  test "$rates" -eq 3

  # 16 batches make an epoch.
  for stop in 5 21 32; do
    part="$work/$model.part$stop.safetensors"
    resumed="$work/$model.resumed$stop.safetensors"
    "$trainer" train --steps "$stop" --save "$part" --quiet
    "$trainer" train --resume "$part" --save "$resumed" --quiet
    if cmp "$work/$model.straight.safetensors" "$resumed"; then
      echo "$model: stopped after step $stop and resumed: identical"
    else
      echo "$model: stopped after step $stop and resumed: different"
      exit 1
    fi
  done
done
