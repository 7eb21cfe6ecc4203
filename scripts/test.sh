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

# Each fuzz target for a bounded time, from the kept corpus; a crash fails
# the run and leaves its input in build-fuzz/.
fuzz_targets=(session_id create_body record record_general http)
[ -f build-fuzz/build.ninja ] ||
	CC=clang meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false
ninja -C build-fuzz "${fuzz_targets[@]/#/fuzz/fuzz_}"
for target in "${fuzz_targets[@]}"; do
	echo "test: fuzzing $target for ${FUZZ_SECONDS:-10} s"
	found=$(mktemp -d)
	STATIC_DIR=static build-fuzz/fuzz/fuzz_"$target" -max_total_time="${FUZZ_SECONDS:-10}" \
		-max_len=4096 -print_final_stats=0 \
		-artifact_prefix="build-fuzz/crash-$target-" \
		"$found" "fuzz/corpus/$target" 2>build-fuzz/fuzz-"$target".log ||
		{ tail -40 build-fuzz/fuzz-"$target".log; exit 1; }
	rm -rf "$found"
done

echo "test: all tests passed"
