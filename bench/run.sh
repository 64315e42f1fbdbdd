#!/bin/sh
# One command that measures gradc's trainers against PyTorch on this
# machine. Builds gradc into $BUILD (default build-bench), checks that
# PyTorch will do its matrix products with OpenBLAS (libopenblas0-pthread,
# installed with apt-get when missing and running as root), then runs
# bench/bench.py, which compiles the models, times both sides, measures
# the FMA peak, gradc's matrix kernels and peak memory, and prints the
# table. Everything it writes goes under $BUILD.
#
# usage: bench/run.sh [--quick] [--backend cpp|llvm|both] [--threads N]
#                     [--torch | --no-torch] [--reps N] [--rounds N]
#                     [--target SECONDS] [--wait-idle SECONDS]
#                     [--models NAME...]
#   --quick      a smoke run of under a minute once gradc is built: 3
#                short repeats, one round, no PyTorch unless --torch
#   --rounds     time each model N times over (default 3), gradc and
#                PyTorch back to back each time; ratios are the median
#   --wait-idle  before each measurement, wait up to SECONDS for other
#                processes to leave the CPUs idle
# bench/run.sh --help lists every option.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build-bench}
start=$(date +%s)

if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=python3; fi
for arg in "$@"; do
  case $arg in -h | --help) exec "$PY" bench/bench.py --help ;; esac
done

# Whether the PyTorch side runs: as bench.py decides it.
want_torch=yes
for arg in "$@"; do
  case $arg in --quick) want_torch=no ;; esac
done
for arg in "$@"; do
  case $arg in --torch) want_torch=yes ;; --no-torch) want_torch=no ;; esac
done

echo "building gradc in $BUILD..."
mkdir -p "$BUILD"
log=$BUILD/bench-build.log
if ! { cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release &&
  cmake --build "$BUILD" -j "$(nproc)" --target gradc; } >"$log" 2>&1; then
  tail -n 20 "$log"
  echo "bench/run.sh: gradc does not build; the whole log is $log" >&2
  exit 1
fi
# The adding problem's generator; rnn_adding is skipped without it.
cmake --build "$BUILD" -j "$(nproc)" --target make_adding_problem \
  >>"$log" 2>&1 || echo "warning: make_adding_problem does not build"

# PyTorch is compared with OpenBLAS behind it: Debian's torch otherwise
# multiplies matrices with the reference BLAS, tens of times slower.
if [ "$want_torch" = yes ]; then
  package=libopenblas0-pthread
  status=$(dpkg-query -W -f '${Status} ${Version}' "$package" \
    2>/dev/null || true)
  case $status in
  "install ok installed"*)
    echo "$package: installed (${status##* })" ;;
  *)
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "$package is missing: installing it with apt-get"
      apt-get install -y "$package" >>"$log" 2>&1 || {
        echo "bench/run.sh: apt-get install $package failed" >&2
        exit 1
      }
    elif ! command -v dpkg-query >/dev/null; then
      echo "no dpkg here: bench.py checks the BLAS torch loads instead"
    else
      echo "bench/run.sh: the PyTorch side needs $package: run" \
        "'sudo apt-get install $package', or pass --no-torch" >&2
      exit 1
    fi ;;
  esac
fi

status=0
"$PY" bench/bench.py --build "$BUILD" "$@" || status=$?
echo "bench/run.sh took $(($(date +%s) - start)) s in all"
exit $status
