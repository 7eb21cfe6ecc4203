#!/usr/bin/env bash
# Benchmarks iframe-auth against two baselines built from bench/ and
# writes the report to docs/bench-results.md.  One command:
#   ./bench/run.sh            (BENCH_SECONDS=3 per run by default)
#   ./bench/run.sh min-replicas   (what REDIS_MIN_REPLICAS=1 costs validate)
#   BENCH_PIN=1 ./bench/run.sh  servers on CPU 0, Redis and wrk on CPU 1
#                               (docs/bench-results-pinned.md)
set -euo pipefail

cd "$(dirname "$0")/.."
./scripts/setup.sh
missing=()
for p in wrk; do
	command -v "$p" >/dev/null || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	sudo=()
	[ "$(id -u)" -eq 0 ] || sudo=(sudo)
	"${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi
[ -f build-release/build.ninja ] ||
	meson setup build-release --buildtype=release -Db_ndebug=true >/dev/null
ninja -C build-release iframe-auth bench/bench-bare bench/bench-one-rtt >/dev/null
exec python3 bench/run.py build-release "$@"
