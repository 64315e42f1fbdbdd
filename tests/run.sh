#!/bin/sh
# The whole test suite, from a fresh Debian 12 machine: installs what is
# missing, builds, and runs every test with CTest.
set -eu
cd "$(dirname "$0")/.."
.ci/install-deps
.ci/build
cd build
ctest --output-on-failure -j "$(nproc)"
