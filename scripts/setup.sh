#!/usr/bin/env bash
# Installs the Debian packages that building, running and testing
# iframe-auth need, and only those that are missing.  Safe to run again.
# Works as root; uses sudo otherwise.
set -euo pipefail

packages=(
	# build
	gcc meson ninja-build pkg-config
	libevent-dev libhiredis-dev uuid-dev libjson-c-dev
	# SHA-256 of embed tokens (libcrypto)
	libssl-dev
	# sd_notify for Type=notify under systemd
	libsystemd-dev
	# docs/openapi.yaml turned into the JSON that /openapi.json serves
	python3-yaml
	# run (nginx: the site in deploy/nginx, used by the demo and the tests;
	# Debian's build has auth_request; openssl makes their certificate;
	# redis-sentinel: REDIS_SENTINELS, its tests and scripts/ha-demo.sh)
	redis-server redis-sentinel nginx openssl
	# test (chromium and a font for the browser test)
	libcriterion-dev python3 curl chromium fonts-dejavu-core
	valgrind clang-format clang-tidy
	# the unit's checks (systemd-analyze) and the OpenAPI contract
	systemd python3-jsonschema
	# fuzz (clang's libFuzzer runtime)
	clang libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || { echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
	sudo=(sudo)
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
