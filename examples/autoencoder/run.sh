#!/bin/sh
# Trains models/autoencoder_fashion.yaml, then reconstructs the first 12
# test images with `predict` and draws them under the originals in
# runs/autoencoder/reconstructions.png. Run after examples/mlp_fashion.sh
# (or any build of gradc in build/).
set -eu
here=$(dirname "$(realpath "$0")")
root=$(dirname "$(dirname "$here")")
mkdir -p "$root/runs/autoencoder"
cd "$root/runs/autoencoder"
"$root/build/compiler/gradc" "$root/models/autoencoder_fashion.yaml" \
  -o autoencoder
./autoencoder train --save autoencoder.safetensors
/usr/bin/python3 "$here/reconstructions.py" inputs \
  /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz 12 inputs.npy
./autoencoder predict --load autoencoder.safetensors --input inputs.npy \
  --output reconstructions.npy
/usr/bin/python3 "$here/reconstructions.py" picture inputs.npy \
  reconstructions.npy reconstructions.png
echo "originals above, reconstructions below: $PWD/reconstructions.png"
