#!/bin/sh
# The main job, from a fresh Debian 12 machine: installs what is missing,
# builds gradc, compiles models/mlp_fashion.yaml into a trainer and trains
# it on Fashion-MNIST. It ends with the test accuracy and the summary of
# every layer's gradient norms. Its files go to runs/.
set -eu
cd "$(dirname "$0")/.."
.ci/install-deps
echo "building gradc..."
.ci/build gradc > /dev/null
mkdir -p runs
build/compiler/gradc models/mlp_fashion.yaml -o runs/mlp_fashion
cd runs
./mlp_fashion train --save mlp_fashion.safetensors
echo "trainer, checkpoint and gradient log are in runs/"
