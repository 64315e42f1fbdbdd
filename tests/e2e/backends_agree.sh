#!/bin/sh
# The two backends build the same trainer: one `step` from the same seeded
# initialization on the same random batch must give the same loss,
# gradients and updated parameters, to a relative error of 1e-5.
# usage: backends_agree.sh GRADC MAKE_BATCH COMPARE MODEL.yaml WORKDIR
set -eu
gradc=$1 make_batch=$2 compare=$3 model=$4 work=$5
mkdir -p "$work"
"$gradc" "$model" --backend cpp -o "$work/cpp"
"$gradc" "$model" --backend llvm -o "$work/llvm"

# "input: [1, 28, 28], output: [10], loss: softmax_cross_entropy"
shapes=$("$work/cpp" info | grep '^input: ')
input=$(echo "$shapes" | sed 's/^input: \[\([^]]*\)\].*/\1/' | tr -d ' ')
output=$(echo "$shapes" | sed 's/.*output: \[\([^]]*\)\].*/\1/' | tr -d ' ')
case "$shapes" in
  *softmax_cross_entropy*) "$make_batch" "$work" 8 "$input" classes "$output" ;;
  *) "$make_batch" "$work" 8 "$input" targets "$output" ;;
esac

for backend in cpp llvm; do
  "$work/$backend" step --x "$work/x.npy" --y "$work/y.npy" \
    --dump "$work/$backend.safetensors" > /dev/null
done
"$compare" "$work/llvm.safetensors" "$work/cpp.safetensors" 1e-5
