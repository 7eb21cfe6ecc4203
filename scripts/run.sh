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

# KEY's value in config.env, read as the service reads it (config.c,
# parse_line): the last KEY=VALUE line, trimmed, "export " allowed, one
# pair of matching quotes removed, nothing else unescaped.
config_file_value() {
	local key=$1 line name value="" ws=$' \t\r\n'
	[ -f config.env ] || return 0
	while IFS= read -r line || [ -n "$line" ]; do
		line=${line#"${line%%[!"$ws"]*}"}
		line=${line%"${line##*[!"$ws"]}"}
		if [[ $line == "export "* ]]; then
			line=${line#export }
			line=${line#"${line%%[!"$ws"]*}"}
		fi
		[[ $line == *=* ]] || continue
		name=${line%%=*}
		name=${name%"${name##*[!"$ws"]}"}
		[ "$name" = "$key" ] || continue
		value=${line#*=}
		value=${value#"${value%%[!"$ws"]*}"}
		if [ ${#value} -ge 2 ] && [[ ${value:0:1} == [\"\'] ]] &&
			[ "${value: -1}" = "${value:0:1}" ]; then
			value=${value:1:${#value}-2}
		fi
	done <config.env
	printf '%s' "$value"
}

# KEY as the service will see it: the environment, else config.env, else
# the default.
config_value() {
	local key=$1 default=$2 value
	value=${!key-}
	[ -n "$value" ] || value=$(config_file_value "$key")
	printf '%s' "${value:-$default}"
}
redis_host=$(config_value REDIS_HOST localhost)
redis_port=$(config_value REDIS_PORT 6379)
redis_socket=$(config_value REDIS_SOCKET "")
redis_password=$(config_value REDIS_PASSWORD "")
# The binary's own default is the installed set (meson install); from the
# source tree, serve the tree's.
export STATIC_DIR
STATIC_DIR=$(config_value STATIC_DIR "$PWD/static")

# The password goes to redis-cli in its environment (REDISCLI_AUTH), never
# on its command line.
redis_cli() {
	local args=(-h "$redis_host" -p "$redis_port")
	[ -z "$redis_socket" ] || args=(-s "$redis_socket")
	(
		[ -z "$redis_password" ] || export REDISCLI_AUTH=$redis_password
		timeout 2 redis-cli "${args[@]}" "$@" 2>&1
	)
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
	# The password goes in a file only this user can read, not on
	# redis-server's command line.
	private_conf=$PWD/var/redis/private.conf
	(
		umask 077
		rm -f "$private_conf"
		if [ -n "$redis_password" ]; then
			REDIS_PASSWORD=$redis_password ./scripts/redis_password_conf.sh
		fi >"$private_conf"
	)
	redis-server "$private_conf" --bind 127.0.0.1 --port "$redis_port" \
		--dir "$PWD/var/redis" --appendonly yes --appendfsync everysec \
		--save "" --logfile "$PWD/var/redis/redis.log" &
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
