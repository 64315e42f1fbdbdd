#!/bin/sh
# gradc stopped by SIGINT or SIGTERM while the C++ compiler builds the
# trainer ends as the signal ends it and leaves nothing beside the output:
# neither a trainer nor its private build directory.
# usage: interrupted_build.sh GRADC MODEL WORKDIR
set -eu
gradc=$1 model=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
cd "$work"

for signal in INT TERM; do
  status=0
  timeout --preserve-status -s "$signal" 1 "$gradc" "$model" -o out ||
    status=$?
  echo "SIG$signal: gradc exited with $status"
  left=$(ls -A)
  if [ "$status" -eq 0 ]; then
    # The build beat the signal: only the trainer is there.
    [ "$left" = out ] || { echo "left: $left" >&2; exit 1; }
    rm -f out
    continue
  fi
  case $signal in INT) [ "$status" -eq 130 ] ;; TERM) [ "$status" -eq 143 ] ;;
  esac
  [ -z "$left" ] || { echo "left behind: $left" >&2; exit 1; }
done
