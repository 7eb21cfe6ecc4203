#!/usr/bin/env bash
# Sets up the local system Redis for iframe-auth: listening on loopback
# only, with an append-only file (appendfsync everysec) so that sessions
# survive a Redis restart, and optionally a password.
#
#   REDIS_PASSWORD=secret ./scripts/setup_redis.sh
#
# Then set the same REDIS_PASSWORD for iframe-auth.  Safe to run again.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
"$here/setup.sh"

sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)

conf=/etc/redis/redis.conf
[ -f "$conf" ] || { echo "setup_redis: $conf not found" >&2; exit 1; }

# Sets "key value" in redis.conf, replacing an existing line.
set_conf() {
	local key=$1 value=$2
	if "${sudo[@]}" grep -qE "^[# ]*${key} " "$conf"; then
		"${sudo[@]}" sed -i -E "s|^[# ]*${key} .*|${key} ${value}|" "$conf"
	else
		echo "${key} ${value}" | "${sudo[@]}" tee -a "$conf" >/dev/null
	fi
}

set_conf bind "127.0.0.1 -::1"
set_conf protected-mode yes
set_conf appendonly yes
set_conf appendfsync everysec
# The password goes in a file of its own that only Redis's user can read
# (mode 0600), included last so that it wins; never on a command line,
# where ps shows it (not even sed's).  An older version of this script
# wrote it into redis.conf itself: those lines go.
if [ -n "${REDIS_PASSWORD:-}" ]; then
	auth_conf=/etc/redis/iframe-auth-password.conf
	"$here/redis_password_conf.sh" |
		"${sudo[@]}" sh -c 'umask 077 && rm -f "$1" && cat >"$1"' sh "$auth_conf"
	if id -u redis >/dev/null 2>&1; then
		"${sudo[@]}" chown redis:redis "$auth_conf"
	fi
	"${sudo[@]}" sed -i -E '/^requirepass /d' "$conf"
	"${sudo[@]}" grep -qxF "include $auth_conf" "$conf" ||
		echo "include $auth_conf" | "${sudo[@]}" tee -a "$conf" >/dev/null
fi

# Restart with whatever supervises Redis here.
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
	"${sudo[@]}" systemctl enable --now redis-server >/dev/null
	"${sudo[@]}" systemctl restart redis-server
elif command -v service >/dev/null && [ -x /etc/init.d/redis-server ]; then
	"${sudo[@]}" service redis-server restart
else
	"${sudo[@]}" redis-server "$conf" --daemonize yes
fi

# redis-cli takes the password from its environment, not its arguments.
[ -z "${REDIS_PASSWORD:-}" ] || export REDISCLI_AUTH=$REDIS_PASSWORD
for _ in $(seq 50); do
	if [ "$(redis-cli ping 2>/dev/null)" = "PONG" ]; then
		echo "setup_redis: Redis answers on 127.0.0.1:6379 (appendonly yes, appendfsync everysec)"
		exit 0
	fi
	sleep 0.1
done
echo "setup_redis: Redis did not answer; see /var/log/redis/redis-server.log" >&2
exit 1
