#!/usr/bin/env bash
# Prints a redis.conf line that sets requirepass to $REDIS_PASSWORD, for a
# private config file (mode 0600) that redis-server reads, so that the
# password never appears on a command line, where ps shows it.
#
# Every byte is written as \xHH inside double quotes, which redis.conf
# reads back exactly: spaces, quotes, backslashes, & and | survive.
set -euo pipefail

[ -n "${REDIS_PASSWORD:-}" ] || { echo "redis_password_conf: REDIS_PASSWORD is empty" >&2; exit 1; }
# printf is a shell builtin: the password reaches od on a pipe, not in argv.
hex=$(printf '%s' "$REDIS_PASSWORD" | od -An -tx1 -v | tr -d ' \n')
printf 'requirepass "%s"\n' "$(printf '%s' "$hex" | sed 's/../\\x&/g')"
