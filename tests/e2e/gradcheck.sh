#!/bin/sh
# Builds a trainer for one model and checks its backward pass against
# central finite differences in double precision (`trainer gradcheck`).
# usage: gradcheck.sh GRADC MODEL.yaml WORKDIR
set -eu
gradc=$1 model=$2 work=$3
mkdir -p "$work"
"$gradc" "$model" -o "$work/trainer" -O1
"$work/trainer" gradcheck
