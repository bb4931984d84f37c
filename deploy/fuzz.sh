#!/usr/bin/env bash
# Installs clang (and what else is missing), builds the libFuzzer targets into build-fuzz and
# runs each for TPMBOT_FUZZ_SECONDS (30 by default) from its seeds in tests/data.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TPMBOT_PACKAGES+=(clang-14 libclang-rt-14-dev)
tpmbot_install_deps

build="${TPMBOT_FUZZ_BUILD_DIR:-$TPMBOT_ROOT/build-fuzz}"
cmake -S "$TPMBOT_ROOT" -B "$build" -DTPMBOT_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++-14 -DTPMBOT_FUZZ_SECONDS="${TPMBOT_FUZZ_SECONDS:-30}" >/dev/null
cmake --build "$build" -j"$(nproc 2>/dev/null || echo 2)"
# One at a time: each uses a core for its whole run, and two would share it.
ctest --test-dir "$build" --output-on-failure -L fuzz "$@"
