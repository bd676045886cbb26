#!/usr/bin/env bash
# Installs the dependencies, builds tokrun, and mints a Velafi token from the
# bundled mock provider on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j2 >/dev/null
exec build/tokrun lua scripts/demo.lua
