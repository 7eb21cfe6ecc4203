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

# The options a build directory was set up with, one "name=value" a line,
# sorted, for the names given; "compiler" is the C compiler command's name.
build_options() {
	local dir=$1
	shift
	{
		meson introspect --buildoptions "$dir"
		echo
		meson introspect --targets "$dir"
	} | python3 -c '
import json, os, sys
options, targets = sys.stdin.read().split("\n\n", 1)
have = {o["name"]: o["value"] for o in json.loads(options)}
have["compiler"] = os.path.basename(
    json.loads(targets)[0]["target_sources"][0]["compiler"][0])
for name in sorted(sys.argv[1:]):
    value = have.get(name)
    if isinstance(value, list):
        value = ",".join(value)
    print("%s=%s" % (name, str(value).lower()))
' "$@"
}

# Sets up build directory $1 with the C compiler $2 and the "name=value"
# options after it.  One that exists with other options is set up afresh:
# reusing it would quietly test something else (no sanitizers, say).
setup_build() {
	local dir=$1 cc=$2 want have
	shift 2
	want=$(printf '%s\n' "compiler=$cc" "$@" | sort)
	if [ -f "$dir/build.ninja" ]; then
		have=$(build_options "$dir" compiler "${@%%=*}") || have=
		[ "$have" != "$want" ] || return 0
		echo "test: $dir was set up with other options; setting it up again"
		rm -rf "$dir"
	fi
	CC=$cc meson setup "$dir" "${@/#/-D}"
}

[ -f build/build.ninja ] || meson setup build
ninja -C build

echo "test: clang-format"
clang-format --dry-run -Werror $(sources '*.c' '*.h')
echo "test: clang-tidy"
clang-tidy -p build --quiet $(sources 'src/*.c') 2>/dev/null

meson test -C build --print-errorlogs

setup_build build-sanitize cc b_sanitize=address,undefined b_lundef=false
meson test -C build-sanitize --setup=sanitize --no-suite valgrind --print-errorlogs

# Each fuzz target for a bounded time, from the kept corpus; a crash fails
# the run and leaves its input in build-fuzz/.
fuzz_targets=(session_id create_body record record_general embed_record embed http)
setup_build build-fuzz clang fuzz=true b_sanitize=address,undefined b_lundef=false
ninja -C build-fuzz "${fuzz_targets[@]/#/fuzz/fuzz_}"
# Every sanitizer finding stops the target, as in the sanitize test setup
# (meson.build); the fuzz build is also compiled with
# -fno-sanitize-recover=all.
export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1:halt_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1
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
