#!/usr/bin/env bash
# A demo a new user can open in a browser: iframe-auth on :8000 (with a
# private Redis when none answers), a host page on a second origin (:8001),
# and a session created through the API as a backend would.  Ctrl-C stops
# everything.
#
#   ./scripts/demo.sh            then open the URL it prints
set -euo pipefail

cd "$(dirname "$0")/.."
port=${PORT:-8000}
host_port=${DEMO_HOST_PORT:-8001}
host_origin="http://localhost:$host_port"

export PORT=$port
export FRAME_ANCESTORS="$host_origin http://127.0.0.1:$host_port"
export PUBLIC_BASE_URL=${PUBLIC_BASE_URL:-http://127.0.0.1:$port}

pids=()
cleanup() {
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

./scripts/run.sh &
pids+=($!)
for _ in $(seq 600); do
	curl -sf "localhost:$port/auth/redis-health" >/dev/null 2>&1 && break
	sleep 0.2
done
curl -sf "localhost:$port/auth/redis-health" >/dev/null || { echo "demo: iframe-auth did not become healthy" >&2; exit 1; }

# What a backend does: create a one-time session, server to server.
auth=()
[ -z "${API_KEY:-}" ] || auth=(-H "Authorization: Bearer ${API_KEY%%,*}")
session=$(curl -sf -X POST "localhost:$port/auth/create-session" "${auth[@]}" \
	-H 'Content-Type: application/json' \
	-d '{"user_id": "demo-user", "metadata": {"source": "demo"}}')
iframe_url=$(printf '%s' "$session" | python3 -c 'import json,sys; print(json.load(sys.stdin)["iframe_url"])')

mkdir -p var/demo
sed -e "s|@HOST_ORIGIN@|$host_origin|g" -e "s|@SERVICE_ORIGIN@|$PUBLIC_BASE_URL|g" \
	-e "s|@IFRAME_URL@|$iframe_url|g" scripts/demo_host.html >var/demo/index.html

python3 -m http.server "$host_port" --bind 127.0.0.1 --directory var/demo >/dev/null 2>&1 &
pids+=($!)

cat <<MSG

  Open $host_origin/ in a browser.

  The iframe shows "You are signed in" (demo-user) and the host page logs
  the iframe-auth message. Reload: the same session is now "already used".
  Run the script again for a fresh session. Ctrl-C stops everything.

MSG
wait "${pids[0]}"
