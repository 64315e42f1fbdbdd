#!/bin/sh
# The vanishing-gradient story on Fashion-MNIST, with real numbers: the
# 20-layer sigmoid network of models/deep_sigmoid.yaml trained five ways,
# and a deep relu network with a large initializer, with and without
# gradient clipping. Prints a table (first-to-last weight-gradient norm
# ratio at step 1, test accuracy after the same epochs, how often clipping
# acted) and draws each run's gradient log with `gradc plot`.
# Run from anywhere after building gradc (examples/mlp_fashion.sh does).
# usage: run.sh [EPOCHS]   (5 by default)
set -eu
here=$(dirname "$(realpath "$0")")
root=$(dirname "$(dirname "$here")")
gradc="$root/build/compiler/gradc"
epochs=${1:-5}
work="$root/runs/vanishing_gradients"
mkdir -p "$work"
cd "$work"

# The variants differ from deep_sigmoid.yaml in one line or one switch.
base="$root/models/deep_sigmoid.yaml"
sed 's/activation: sigmoid/activation: relu/' "$base" > relu.yaml
sed 's/activation: sigmoid/activation: relu, init: he_normal/' "$base" \
  > relu_he.yaml

# name, model file, extra gradc switches
variants="sigmoid|$base|
relu_default_init|relu.yaml|
relu_he_normal|relu_he.yaml|
sigmoid_batchnorm|$base|--batchnorm
sigmoid_residual2|$base|--residual=2
exploding|$here/exploding.yaml|
exploding_clipped|$here/exploding.yaml|--clip-norm 1"

echo "| run | first/last weight-gradient norm at step 1 | test accuracy after $epochs epochs | clipping acted |"
echo "|---|---|---|---|"
echo "$variants" | while IFS='|' read -r name model switches; do
  # shellcheck disable=SC2086
  "$gradc" "$model" $switches -o "$name" 2> /dev/null
  if ./"$name" train --epochs "$epochs" --grad-log "$name.csv" \
      --grad-every 25 --metrics "$name.jsonl" > "$name.log" 2>&1; then
    accuracy=$(tail -n 1 "$name.jsonl" |
      sed 's/.*"test_acc":\([^,}]*\).*/\1/')
  else
    accuracy="stopped: $(grep -m1 'error:' "$name.log" | cut -c1-60)"
  fi
  weights=$(awk -F, '$1 == 1 && $2 ~ /weight$/ { print $3 }' "$name.csv")
  ratio=$(echo "$weights" | awk 'NR == 1 { first = $1 } { last = $1 }
    END { if (last > 0) printf "%.2g", first / last; else print "n/a" }')
  clipped=$(grep -o 'clipping acted on [0-9]* of [0-9]* steps' "$name.log" |
    sed 's/clipping acted on //' || true)
  echo "| $name | $ratio | $accuracy | ${clipped:--} |"
  "$gradc" plot "$name.csv" -o "$name.svg" --title "$name" 2> /dev/null || true
done
echo
echo "logs, gradient CSVs and pictures (*.svg) are in $work"
