#!/bin/sh
# Rewrites every golden `--emit graph` file from the current compiler:
# graph/ at -O0, as autodiff leaves it, and fused/ at -O2; and the
# `--emit dot` files of dot/, at -O2.
# usage: tests/golden/update_goldens.sh path/to/gradc
# Read the diff before committing it: a golden file is only as right as the
# compiler that wrote it.
set -eu
gradc=$(realpath "$1")
here=$(dirname "$(realpath "$0")")
root=$(dirname "$(dirname "$here")")
for model in "$root"/models/*.yaml "$here"/step/*.yaml "$here"/passes/*.yaml; do
  name=$(basename "$model" .yaml)
  golden="$here/graph/$name.graph"
  {
    echo "NOTE: written by tests/golden/update_goldens.sh from $(basename "$(dirname "$model")")/$name.yaml"
    "$gradc" "$model" --emit graph -O0 -o -
  } > "$golden"
  echo "wrote $golden"
done

# The models of DIR (fused/ or dot/) after the -O2 fusion pass, as KIND
# (graph or dot), each file's first line a NOTE behind PREFIX.
# usage: rewrite_at_o2 DIR EXTENSION KIND PREFIX
rewrite_at_o2() {
  for golden in "$here/$1"/*."$2"; do
    name=$(basename "$golden" ."$2")
    {
      echo "${4}NOTE: written by tests/golden/update_goldens.sh from models/$name.yaml at -O2"
      "$gradc" "$root/models/$name.yaml" --emit "$3" -O2 -o -
    } > "$golden"
    echo "wrote $golden"
  done
}
rewrite_at_o2 fused graph graph ""
# DOT's comments start with //.
rewrite_at_o2 dot dot dot "// "
