#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: first the normal
# build, then the sanitize build (ASan + UBSan; any finding fails).
set -euo pipefail

cd "$(dirname "$0")/.."
./scripts/setup.sh

if [ ! -f build/build.ninja ]; then
	meson setup build
fi
meson test -C build --print-errorlogs

if [ ! -f build-sanitize/build.ninja ]; then
	meson setup build-sanitize -Db_sanitize=address,undefined -Db_lundef=false
fi
meson test -C build-sanitize --setup=sanitize --print-errorlogs

echo "test: all tests passed"
