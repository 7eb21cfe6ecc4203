#!/usr/bin/env bash
# Redis Sentinel failover, seen from the clients.  Starts on loopback a
# Redis primary, a replica, three sentinels and two iframe-auth instances
# that find the primary through the sentinels; keeps a few clients
# creating and validating sessions through both instances; SIGKILLs the
# primary; and prints what the clients saw, second by second, until the
# sentinels have promoted the replica and the instances follow it.
#
#   ./scripts/ha-demo.sh            (builds build/ first if needed)
#
# Everything runs in a temporary directory and is stopped on exit.
set -euo pipefail

cd "$(dirname "$0")/.."
for p in redis-server redis-sentinel python3; do
	command -v "$p" >/dev/null ||
		{ echo "ha-demo: $p is missing; run ./scripts/setup.sh" >&2; exit 1; }
done
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build iframe-auth >/dev/null

DOWN_AFTER_MS=1000
MASTER=mymaster
PASS=demo-sentinel-pass
KEY=demo-key
dir=$(mktemp -d /tmp/iframe-auth-ha-demo.XXXXXX)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
	done
	rm -rf "$dir"
}
# Disowned: the shell does not report the primary's death by SIGKILL.
spawn() {
	"$@" &
	pids+=($!)
	disown $!
}
trap cleanup EXIT

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_ping() { # port [password]
	for _ in $(seq 100); do
		if [ "$(redis-cli -p "$1" ${2:+--no-auth-warning -a "$2"} PING 2>/dev/null)" = PONG ]; then
			return 0
		fi
		sleep 0.1
	done
	echo "ha-demo: nothing answers on port $1" >&2
	exit 1
}

primary=$(free_port)
replica=$(free_port)
redis_server() { # port name [replicaof-port]
	mkdir -p "$dir/$2"
	spawn redis-server --port "$1" --bind 127.0.0.1 --save "" \
		--appendonly no --dir "$dir/$2" --logfile "$dir/$2/redis.log" \
		${3:+--replicaof 127.0.0.1 "$3"}
	wait_ping "$1"
}
redis_server "$primary" primary
redis_server "$replica" replica "$primary"
primary_pid=${pids[0]}

sentinels=()
for i in 1 2 3; do
	port=$(free_port)
	mkdir -p "$dir/sentinel$i"
	cat >"$dir/sentinel$i/sentinel.conf" <<-EOF
		port $port
		bind 127.0.0.1
		dir $dir/sentinel$i
		logfile $dir/sentinel$i/sentinel.log
		requirepass $PASS
		sentinel sentinel-pass $PASS
		sentinel monitor $MASTER 127.0.0.1 $primary 2
		sentinel down-after-milliseconds $MASTER $DOWN_AFTER_MS
		sentinel failover-timeout $MASTER 4000
	EOF
	spawn redis-sentinel "$dir/sentinel$i/sentinel.conf"
	wait_ping "$port" "$PASS"
	sentinels+=("127.0.0.1:$port")
done
sentinel_list=$(IFS=,; echo "${sentinels[*]}")

instances=()
for name in a b; do
	port=$(free_port)
	spawn env -i PATH="$PATH" PORT="$port" API_KEY="$KEY" MAX_SESSIONS=0 \
		REDIS_SENTINELS="$sentinel_list" REDIS_SENTINEL_MASTER="$MASTER" \
		REDIS_SENTINEL_PASSWORD="$PASS" REDIS_TIMEOUT_MS=500 \
		STATIC_DIR=static LOG_LEVEL=INFO \
		build/iframe-auth 2>"$dir/iframe-auth-$name.log"
	instances+=("$port")
done

echo "primary 127.0.0.1:$primary, replica 127.0.0.1:$replica"
echo "sentinels $sentinel_list (down-after-milliseconds $DOWN_AFTER_MS)"
echo "iframe-auth a on :${instances[0]}, b on :${instances[1]}"
echo

python3 - "${instances[@]}" "$primary" "$primary_pid" "$KEY" "${sentinels[0]##*:}" "$PASS" <<'EOF'
import http.client, json, os, signal, subprocess, sys, threading, time

ports, primary, primary_pid, key = sys.argv[1:3], sys.argv[3], int(sys.argv[4]), sys.argv[5]
sentinel_port, password = sys.argv[6], sys.argv[7]
auth = {"Authorization": "Bearer " + key}
seen = []  # (second, instance, kind, status)
lock = threading.Lock()
start = None
stop = threading.Event()


def call(port, method, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request(method, path, headers=auth)
        r = c.getresponse()
        return r.status, r.read()
    except OSError:
        return 0, b""
    finally:
        c.close()


def client(name, port):
    while not stop.is_set():
        status, body = call(port, "POST", "/auth/create-session")
        record = [("create", status)]
        if status == 200:
            sid = json.loads(body)["session_id"]
            record.append(("validate", call(port, "POST",
                                            "/auth/validate-session?session_id=" + sid)[0]))
        with lock:
            if start is not None:
                second = int(time.monotonic() - start)
                seen.extend((second, name, k, s) for k, s in record)
        time.sleep(0.02)


def healthy(port):
    return call(port, "GET", "/auth/redis-health")[0] == 200


deadline = time.monotonic() + 10
while not all(healthy(p) for p in ports):
    if time.monotonic() > deadline:
        sys.exit("ha-demo: the instances did not come up")
    time.sleep(0.1)
for name, port in zip("ab", ports):
    for _ in range(2):
        threading.Thread(target=client, args=(name, port), daemon=True).start()


def master():
    out = subprocess.run(["redis-cli", "-p", sentinel_port, "--no-auth-warning", "-a", password,
                          "SENTINEL", "get-master-addr-by-name", "mymaster"],
                         capture_output=True, text=True).stdout.split()
    return ":".join(out[:2]) if out else "?"


def summary(second, name):
    out = []
    for kind in ("create", "validate"):
        counts = {}
        for s, n, k, st in seen:
            if s == second and n == name and k == kind:
                counts[st] = counts.get(st, 0) + 1
        out.append("%s %s" % (kind, " ".join("%d×%d" % (st, c) for st, c in sorted(counts.items())) or "-"))
    return ", ".join(out)


print("second  sentinels' master  what clients of a / b saw (status×count)")
start = time.monotonic()
killed_at = 3
for second in range(16):
    if second == killed_at:
        os.kill(primary_pid, signal.SIGKILL)
        print("------  SIGKILL of the primary (127.0.0.1:%s)" % primary)
    time.sleep(max(0, start + second + 1 - time.monotonic()))
    with lock:
        print("%5d   %-18s a: %s\n%5s   %-18s b: %s" % (second, master(), summary(second, "a"),
                                                       "", "", summary(second, "b")))
stop.set()
with lock:
    bad = sorted({st for _, _, _, st in seen} - {200, 401, 503})
print("\nanswers other than 200, 401 and 503: %s" % (bad or "none"))
EOF
echo
echo "instance a's log about Redis:"
grep -E "redis|sentinel" "$dir/iframe-auth-a.log" | grep -v access | sed 's/^/  /' || true
