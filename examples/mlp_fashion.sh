#!/bin/sh
# The main job, from a fresh Debian 12 machine: installs what is missing,
# builds gradc, compiles models/mlp_fashion.yaml into a trainer and trains
# it on Fashion-MNIST. It ends with the test accuracy and the summary of
# every layer's gradient norms.
set -eu
cd "$(dirname "$0")/.."
.ci/install-deps
.ci/build
mkdir -p runs
build/compiler/gradc models/mlp_fashion.yaml -o runs/mlp_fashion
cd runs
./mlp_fashion train --save mlp_fashion.safetensors
