#!/usr/bin/env bash
# Builds and runs iframe-auth in the foreground.
#
# When nothing answers at REDIS_HOST:REDIS_PORT (default localhost:6379),
# starts a private redis-server on loopback with its data (and AOF) under
# ./var/redis/.  Ctrl-C stops both.  Configuration comes from the
# environment and ./config.env (see config.env.example).
set -euo pipefail

cd "$(dirname "$0")/.."
./scripts/setup.sh

if [ ! -f build/build.ninja ]; then
	meson setup build --buildtype=release >/dev/null
fi
ninja -C build iframe-auth >/dev/null

# The Redis address, from the environment or config.env, as the service
# will see it.
config_value() {
	local key=$1 default=$2 value
	value=${!key-}
	if [ -z "$value" ] && [ -f config.env ]; then
		value=$(sed -n -E "s/^[[:space:]]*(export[[:space:]]+)?${key}[[:space:]]*=[[:space:]]*['\"]?([^'\"]*)['\"]?[[:space:]]*$/\2/p" config.env | tail -n 1)
	fi
	echo "${value:-$default}"
}
redis_host=$(config_value REDIS_HOST localhost)
redis_port=$(config_value REDIS_PORT 6379)
redis_socket=$(config_value REDIS_SOCKET "")
redis_password=$(config_value REDIS_PASSWORD "")
# The binary's own default is the installed set (meson install); from the
# source tree, serve the tree's.
export STATIC_DIR
STATIC_DIR=$(config_value STATIC_DIR "$PWD/static")

redis_cli() {
	local args=(-h "$redis_host" -p "$redis_port")
	[ -z "$redis_socket" ] || args=(-s "$redis_socket")
	[ -z "$redis_password" ] || args+=(--no-auth-warning -a "$redis_password")
	timeout 2 redis-cli "${args[@]}" "$@" 2>&1
}
redis_answers() {
	# Any answer (even NOAUTH) means something is listening there.
	[ -n "$(redis_cli ping | grep -vi 'could not connect\|connection refused')" ]
}

redis_pid=
service_pid=
cleanup() {
	if [ -n "$service_pid" ]; then
		kill -TERM "$service_pid" 2>/dev/null || true
		wait "$service_pid" 2>/dev/null || true
	fi
	if [ -n "$redis_pid" ]; then
		kill "$redis_pid" 2>/dev/null || true
		wait "$redis_pid" 2>/dev/null || true
	fi
}
trap cleanup EXIT
# Ctrl-C (or a TERM) stops the service with SIGTERM, then the private
# Redis, through the EXIT trap.
trap 'exit 0' INT TERM

if redis_answers; then
	# Debian's redis-server package starts one without an append-only
	# file: sessions would not survive its restart (README, "Data in Redis").
	if [ "$(redis_cli config get appendonly | tail -n 1)" = "no" ]; then
		echo "run: warning: the Redis at ${redis_socket:-$redis_host:$redis_port} keeps no append-only file;" \
			"./scripts/setup_redis.sh configures it" >&2
	fi
else
	if [ -n "$redis_socket" ]; then
		echo "run: nothing answers at $redis_socket" >&2
		exit 1
	fi
	case "$redis_host" in
	localhost | 127.0.0.1 | ::1) ;;
	*) echo "run: nothing answers at $redis_host:$redis_port, and a private Redis can only be started on loopback" >&2; exit 1 ;;
	esac
	mkdir -p var/redis
	echo "run: starting a private redis-server on 127.0.0.1:$redis_port (data in var/redis/)"
	redis_args=(--bind 127.0.0.1 --port "$redis_port" --dir "$PWD/var/redis"
		--appendonly yes --appendfsync everysec --save ""
		--logfile "$PWD/var/redis/redis.log")
	[ -z "$redis_password" ] || redis_args+=(--requirepass "$redis_password")
	redis-server "${redis_args[@]}" &
	redis_pid=$!
	for _ in $(seq 50); do
		redis_answers && break
		sleep 0.1
	done
fi

# Not exec: the trap must still stop the private Redis afterwards.
./build/iframe-auth "$@" &
service_pid=$!
status=0
wait "$service_pid" || status=$?
service_pid=
exit "$status"
