#!/usr/bin/env bash
# A demo a new user can open in a browser, the whole path of an embedded
# sign-in:
#   - iframe-auth on 127.0.0.1:8000 (with a private Redis when none answers);
#   - a protected app on 127.0.0.1:8002 that shows the X-Auth-User it gets;
#   - nginx on https://127.0.0.1:8443 running deploy/nginx/iframe-auth.conf,
#     the production site, in front of both (auth_request on /app/), with a
#     throwaway certificate;
#   - a host page on a second site, http://localhost:8001, whose iframe
#     redeems a one-time session and lands on /app/.
# Ctrl-C stops everything.
#
#   ./scripts/demo.sh                      then open the URL it prints
#   ./scripts/demo.sh --screenshot FILE    headless Chromium, then exit
set -euo pipefail

cd "$(dirname "$0")/.."
screenshot=
if [ "${1:-}" = --screenshot ]; then
	screenshot=$(realpath "${2:?--screenshot needs a file}")
fi
port=${PORT:-8000}
host_port=${DEMO_HOST_PORT:-8001}
app_port=${DEMO_APP_PORT:-8002}
nginx_port=${DEMO_NGINX_PORT:-8443}
host_origin="http://localhost:$host_port"
site="https://127.0.0.1:$nginx_port"

export PORT=$port
export FRAME_ANCESTORS="$host_origin http://127.0.0.1:$host_port"
export PUBLIC_BASE_URL=$site

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

python3 scripts/demo_app.py "$app_port" &
pids+=($!)

# nginx with the production site, changed only in ports and certificate
# paths; the first line it prints is the certificate's SPKI hash.
rm -rf var/demo && mkdir -p var/demo/nginx
python3 tests/integration/nginx.py var/demo/nginx "$nginx_port" "$port" "$app_port" >var/demo/spki &
pids+=($!)
for _ in $(seq 100); do
	curl -sk "$site/client/iframe.html" -o /dev/null 2>&1 && break
	sleep 0.1
done
curl -sk "$site/client/iframe.html" -o /dev/null || { echo "demo: nginx did not start (var/demo/nginx/error.log)" >&2; exit 1; }
spki=$(head -1 var/demo/spki)

# What a backend does: create a one-time session, server to server, on the
# service's own address (nginx does not expose create-session).
auth=()
[ -z "${API_KEY:-}" ] || auth=(-H "Authorization: Bearer ${API_KEY%%,*}")
session=$(curl -sf -X POST "localhost:$port/auth/create-session" "${auth[@]}" \
	-H 'Content-Type: application/json' \
	-d '{"user_id": "demo-user", "metadata": {"source": "demo"}, "return_to": "/app/"}')
iframe_url=$(printf '%s' "$session" | python3 -c 'import json,sys; print(json.load(sys.stdin)["iframe_url"])')

sed -e "s|@HOST_ORIGIN@|$host_origin|g" -e "s|@SERVICE_ORIGIN@|$PUBLIC_BASE_URL|g" \
	-e "s|@IFRAME_URL@|$iframe_url|g" scripts/demo_host.html >var/demo/index.html

python3 -m http.server "$host_port" --bind 127.0.0.1 --directory var/demo >/dev/null 2>&1 &
pids+=($!)

if [ -n "$screenshot" ]; then
	python3 scripts/demo_screenshot.py "$host_origin/" "$spki" "$site/app/" "$screenshot"
	exit
fi

cat <<MSG

  Open $host_origin/ in a browser.

  nginx's certificate is a throwaway one, so tell the browser to trust it
  first: open $site/client/iframe.html once and accept the warning, or
  start Chromium with
    chromium --ignore-certificate-errors-spki-list=$spki --user-data-dir=\$(mktemp -d) $host_origin/

  The iframe redeems the session and lands on /app/, which says "signed
  in as demo-user": the X-Auth-User that nginx took from /auth/verify.
  "Sign out" ends the embed session; the reload then gets 401.  Reload the
  host page: the one-time session is now "already used".  Run the script
  again for a fresh session.  Ctrl-C stops everything.

MSG
wait "${pids[0]}"
