#!/bin/sh
# bootstrap.sh — the README's first command on a machine that has no `make` yet (a minimal
# Debian 12/13 image): installs make with apt-get (through sudo when not root), then runs
# `make demo` (or the make target given, e.g. `sh tests/bootstrap.sh test`).
#   sh tests/bootstrap.sh          # = make demo, after installing make
set -eu
cd "$(dirname "$0")/.."
if ! command -v make >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
    if [ -n "$SUDO" ] && ! command -v sudo >/dev/null 2>&1; then
        echo "bootstrap: make is missing and so is sudo; as root run: apt-get install make" >&2
        exit 1
    fi
    echo "bootstrap: installing make (apt-get)"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq make
fi
exec make "${1:-demo}"
