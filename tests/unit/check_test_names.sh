#!/bin/sh
# CTest discovers Catch2 test cases by name, and a '[' in a name is read as
# the start of a tag: the cases after it silently merge into one entry that
# runs nothing and passes. A name that starts with '-' reaches Catch2 as an
# option, and its test fails without running. Refuse such names.
# usage: check_test_names.sh DIR
set -eu
if grep -n 'TEST_CASE("[^"]*\[' "$1"/*.cpp; then
  echo "test case names above contain '['; CTest would skip tests after them"
  exit 1
fi
if grep -n 'TEST_CASE("-' "$1"/*.cpp; then
  echo "test case names above start with '-'; Catch2 reads them as options"
  exit 1
fi
