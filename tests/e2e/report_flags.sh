#!/bin/sh
# `gradc --report` must flag the vanishing gradients of the deep sigmoid
# model and name a change that helps, and must pass the shallow relu MLP;
# both exit 0 and build nothing.
# usage: report_flags.sh GRADC MODELS_DIR WORKDIR
set -eu
gradc=$1 models=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
cd "$work"

"$gradc" "$models/deep_sigmoid.yaml" --report > deep.txt
cat deep.txt
grep -q "vanishing" deep.txt
grep -q "relu-family activation" deep.txt
grep -q "batchnorm" deep.txt
grep -q "residual" deep.txt

"$gradc" "$models/mlp_fashion.yaml" --report > mlp.txt
cat mlp.txt
grep -q "healthy" mlp.txt
if grep -q "vanishing\|exploding" mlp.txt; then
  echo "mlp_fashion was flagged" >&2
  exit 1
fi

# Nothing was built.
[ -z "$(ls -A . | grep -v '\.txt$')" ]
