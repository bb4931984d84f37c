#!/usr/bin/env bash
# Installs what is missing, builds everything, and runs every test (unit, storage, end to end).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tpmbot_install_deps
tpmbot_build
ctest --test-dir "$TPMBOT_BUILD" --output-on-failure -j"$(nproc 2>/dev/null || echo 2)" "$@"
