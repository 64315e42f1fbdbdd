#!/bin/sh
# `gradc plot` on the log a real trainer writes: one line per weight in the
# SVG; and on bad logs: exit status 1 and one diagnostic in gradc's form.
# usage: grad_plot.sh GRADC MAKE_IDX_DATASET WORKDIR
set -eu
gradc=$1 make_data=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
"$make_data" "$work"
cat > "$work/deep.yaml" <<'YAML'
model: deep
input: [64]
layers:
  - {op: dense, units: 16, activation: sigmoid}
  - {op: dense, units: 16, activation: sigmoid}
  - {op: dense, units: 16, activation: sigmoid}
  - {op: dense, units: 4}
loss: softmax_cross_entropy
optimizer: {type: sgd, lr: 0.05}
train: {batch: 32, epochs: 1}
data:
  train: {images: train-images.idx, labels: train-labels.idx}
  scale: 0.00392156862745098
YAML
"$gradc" "$work/deep.yaml" -o "$work/trainer"
(cd "$work" && ./trainer train --grad-log norms.csv --grad-every 2) \
  > "$work/train.txt" 2>&1

"$gradc" plot "$work/norms.csv" -o "$work/norms.svg"
head -c 5 "$work/norms.svg" | grep -q '<?xml'
series=$(grep -c '<path class="series"' "$work/norms.svg")
if [ "$series" != 4 ]; then
  echo "expected 4 weight lines, found $series" >&2
  exit 1
fi
# '-' is stdout, as for gradc -o: the same picture, and no file named '-'.
(cd "$work" && "$gradc" plot norms.csv -o - > stdout.svg)
cmp "$work/norms.svg" "$work/stdout.svg"
if [ -e "$work/-" ]; then
  echo "gradc plot -o - wrote a file named '-'" >&2
  exit 1
fi
"$gradc" plot "$work/norms.csv" -o "$work/all.svg" --biases --steps 2,last
series=$(grep -c '<path class="series"' "$work/all.svg")
if [ "$series" != 8 ]; then
  echo "expected 8 weight and bias lines, found $series" >&2
  exit 1
fi

# Runs gradc plot, which must fail with status 1 and print an error line
# that matches the pattern, then at most a note or a pointer to --help.
expect_error() {
  pattern=$1
  shift
  status=0
  "$gradc" plot "$@" > "$work/out.txt" 2> "$work/err.txt" || status=$?
  if [ "$status" != 1 ]; then
    echo "gradc plot $* ended with status $status, not 1" >&2
    cat "$work/err.txt" >&2
    exit 1
  fi
  lines=$(wc -l < "$work/err.txt")
  if [ "$lines" -gt 2 ] ||
    ! head -n 1 "$work/err.txt" | grep -Eq "^$pattern\$" ||
    { [ "$lines" = 2 ] &&
      ! sed -n 2p "$work/err.txt" | grep -Eq ': note: |^run '; }
  then
    echo "gradc plot $* printed, not matching $pattern:" >&2
    cat "$work/err.txt" >&2
    exit 1
  fi
}

expect_error "$work/missing.csv: error: cannot read the gradient log: .*" \
  "$work/missing.csv" -o "$work/x.svg"
printf 'a,b\n1,2\n' > "$work/header.csv"
expect_error "$work/header.csv:1:1: error: expected the header .*" \
  "$work/header.csv" -o "$work/x.svg"
printf 'step,param,grad_norm,weight_norm,flag\n4,w,0.5,1,ok\n4,v,big,1,ok\n' \
  > "$work/value.csv"
expect_error "$work/value.csv:3:5: error: grad_norm 'big' is not a number" \
  "$work/value.csv" -o "$work/x.svg"
expect_error "gradc: error: .*" "$work/norms.csv"
expect_error "gradc: error: --steps: 'x' is not a step number.*" \
  "$work/norms.csv" -o "$work/x.svg" --steps x
if [ -e "$work/x.svg" ]; then
  echo "a failed gradc plot wrote $work/x.svg" >&2
  exit 1
fi
echo "grad_plot: ok"
