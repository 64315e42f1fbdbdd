#!/bin/sh
# A network built to explode (relu layers drawn from N(0, 3^2), lr 1) must
# train with a finite loss under --clip-norm 1, log `clipped` on the
# __global__ rows of the gradient-norm CSV and report how often clipping
# acted; `info` must list the setting. Without clipping, skip_nonfinite
# must skip the broken steps rather than stop, and count them; with
# neither, the run stops without touching the checkpoint. The switches
# override the model file, and gradc must refuse bad ones.
# usage: clip_exploding.sh GRADC MAKE_IDX_DATASET WORKDIR
set -eu
gradc=$1 make_data=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
"$make_data" "$work"
model() {
  echo "model: exploding"
  echo "input: [64]"
  echo "layers:"
  i=0
  while [ $i -lt 5 ]; do
    echo "  - {op: dense, units: 32, activation: relu, init: {normal: 3}}"
    i=$((i + 1))
  done
  echo "  - {op: dense, units: 4, init: {normal: 3}}"
  echo "loss: softmax_cross_entropy"
  echo "optimizer: {type: sgd, lr: 1}"
  echo "train: {batch: 32, epochs: 2}"
  echo "data:"
  echo "  train: {images: train-images.idx, labels: train-labels.idx}"
  echo "  scale: 0.00392156862745098"
  echo "log: {grad_norms: {every: 1, file: norms.csv}}"
  echo "$1"
}
model "" > "$work/exploding.yaml"
model "passes: {skip_nonfinite: true}" > "$work/skipping.yaml"

# Clipping from the command line.
"$gradc" "$work/exploding.yaml" --clip-norm 1 -o "$work/clipped"
(cd "$work" && ./clipped info) > "$work/info.txt"
grep -q "^passes: clip_norm=1$" "$work/info.txt"
(cd "$work" && ./clipped train --save clipped.safetensors) \
  > "$work/clipped.txt" 2>&1
cat "$work/clipped.txt"
# Every epoch's loss is a finite number.
if grep -Eiq "loss (nan|-?inf)" "$work/clipped.txt"; then
  echo "a loss is not finite" >&2
  exit 1
fi
grep -Eq "gradient clipping acted on [1-9][0-9]* of [0-9]+ steps" \
  "$work/clipped.txt"
clipped=$(awk -F, '$2 == "__global__" && $5 == "clipped"' "$work/norms.csv" |
  wc -l)
echo "__global__ rows flagged clipped: $clipped"
[ "$clipped" -gt 0 ]
# The norms are logged before clipping, so the flagged ones are above 1.
awk -F, '$2 == "__global__" && $5 == "clipped" && $3 + 0 <= 1 { bad = 1 }
  END { exit bad }' "$work/norms.csv"

# Without clipping the same model breaks; skip_nonfinite skips and counts.
"$gradc" "$work/skipping.yaml" -o "$work/skipping"
(cd "$work" && ./skipping info) | grep -q "^passes: skip_nonfinite$"
(cd "$work" && ./skipping train --save skipping.safetensors) \
  > "$work/skipping.txt" 2>&1
cat "$work/skipping.txt"
grep -Eq "skipped [1-9][0-9]* of [0-9]+ steps" "$work/skipping.txt"

# Without either, the run stops at the first broken step and leaves the
# checkpoint it was to overwrite as it was.
"$gradc" "$work/exploding.yaml" -o "$work/plain"
cp "$work/clipped.safetensors" "$work/kept.safetensors"
status=0
(cd "$work" && ./plain train --save kept.safetensors) \
  > "$work/plain.txt" 2>&1 || status=$?
cat "$work/plain.txt"
[ "$status" -eq 1 ]
grep -q "step [0-9]*: .* not finite" "$work/plain.txt"
grep -q "gradc --clip-norm 1" "$work/plain.txt"
cmp "$work/clipped.safetensors" "$work/kept.safetensors"

# The switches override the model file's clip.
model "passes: {clip: {value: 0.5}}" > "$work/valued.yaml"
"$gradc" "$work/valued.yaml" -o "$work/valued"
(cd "$work" && ./valued info) | grep -q "^passes: clip_value=0.5$"
"$gradc" "$work/valued.yaml" --no-clip -o "$work/unclipped"
(cd "$work" && ./unclipped info) | grep -q "^passes: none$"

# Bad switches: exit status 1 and a message naming the switch.
for bad in "--clip-norm 0" "--clip-value -1" "--clip-norm nan" \
  "--clip-norm 1 --no-clip"; do
  status=0
  # shellcheck disable=SC2086
  "$gradc" "$work/exploding.yaml" $bad -o "$work/bad" \
    > "$work/bad.txt" 2>&1 || status=$?
  cat "$work/bad.txt"
  [ "$status" -eq 1 ]
  grep -q "^gradc: error: .*--" "$work/bad.txt"
done
