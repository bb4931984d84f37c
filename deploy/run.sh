#!/usr/bin/env bash
# Installs what is missing, builds, and starts tpmbot. Arguments go to tpmbot
# (see ./deploy/run.sh --help). Without Slack tokens it opens the console.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tpmbot_install_deps
tpmbot_build --target tpmbot >&2
exec "$TPMBOT_BUILD/bot/tpmbot" "$@"
