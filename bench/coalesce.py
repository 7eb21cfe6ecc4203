"""Would coalescing validations into one script call pay in Redis?

The validate script exactly as the service loads it (read off MONITOR
while the service starts), one EVALSHA per session, against the same
script body called in a loop for n sessions per EVALSHA: Redis's whole
process CPU (networking, parsing, scripts) per validation, for the same
kind of sessions, 256 sessions in flight either way.

    python3 bench/coalesce.py [BUILD]      (BUILD: build-release)
"""
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
from harness import RedisClient, free_port  # noqa: E402

BUILD = sys.argv[1] if len(sys.argv) > 1 else "build-release"
N = int(os.environ.get("N", "20000"))
BODY_START = "local t = redis.call('TIME')"


def unescape(text):
    table = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
    return re.sub(r'\\(x[0-9a-fA-F]{2}|.)', lambda m: table.get(
        m.group(1), chr(int(m.group(1)[1:], 16)) if m.group(1)[0] == "x"
        else m.group(1)), text)


def validate_source(port):
    """The validate script the service loads, off MONITOR."""
    mon = socket.create_connection(("127.0.0.1", port))
    mon.sendall(b"MONITOR\r\n")
    svc = subprocess.Popen([os.path.join(BUILD, "iframe-auth")], env={
        "PATH": os.environ["PATH"], "PORT": str(free_port()), "REDIS_PORT": str(port),
        "REDIS_HOST": "127.0.0.1", "LOG_LEVEL": "ERROR",
        "STATIC_DIR": os.path.join(HERE, "..", "static")},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)
    svc.terminate()
    svc.wait()
    mon.settimeout(0.5)
    data = b""
    try:
        while True:
            d = mon.recv(1 << 20)
            if not d:
                break
            data += d
    except socket.timeout:
        pass
    mon.close()
    for line in data.decode("latin-1").split("\r\n"):
        m = re.search(r'"SCRIPT" "LOAD" "(.*)"$', line)
        if m and "The one place where a session is marked used" in unescape(m.group(1)):
            return unescape(m.group(1))
    raise RuntimeError("no validate script seen")


def main():
    d = tempfile.mkdtemp()
    port = free_port()
    redis = subprocess.Popen(["redis-server", "--port", str(port), "--save", "",
                              "--appendonly", "no", "--dir", d], stdout=subprocess.DEVNULL)
    time.sleep(0.3)
    try:
        db = RedisClient(port, timeout=60)
        src = validate_source(port)
        cut = src.rindex(BODY_START)
        # The body as a function of its own KEYS and ARGV (4 keys and 6
        # arguments a session), called for each session of the call.
        batch = (src[:cut] + "local function one(KEYS, ARGV)\n" + src[cut:] +
                 "\nend\nlocal out = {}\nfor i = 0, #KEYS / 4 - 1 do\n"
                 "  out[i + 1] = one({KEYS[4*i+1], KEYS[4*i+2], KEYS[4*i+3], KEYS[4*i+4]},\n"
                 "    {ARGV[6*i+1], ARGV[6*i+2], ARGV[6*i+3], ARGV[6*i+4], ARGV[6*i+5], ARGV[6*i+6]})\n"
                 "end\nreturn out\n")
        single = db.call("SCRIPT", "LOAD", src)
        batched = db.call("SCRIPT", "LOAD", batch)

        def cpu():
            with open("/proc/%d/stat" % redis.pid) as f:
                x = f.read().rsplit(")", 1)[1].split()
            return (int(x[11]) + int(x[12])) / os.sysconf("SC_CLK_TCK")

        def run(n):
            now = int(db.call("TIME")[0])
            expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 3600))
            ids = [str(uuid.uuid4()) for _ in range(N)]
            for i in range(0, N, 5000):
                db.pipeline([("SET", "auth_session:" + s,
                              '{"used":false,"iframe_opened":false,"session_id":"%s",'
                              '"created_at":"2026-11-22T10:00:00Z","expires_at":"%s"}'
                              % (s, expires), "EX", 3600) for s in ids[i:i + 5000]])
            cmds = []
            for i in range(0, N, n):
                keys, argv = [], []
                for sid in ids[i:i + n]:
                    keys += ["auth_session:" + sid, "auth_stats",
                             "auth_embed:" + uuid.uuid4().hex * 2, "auth_sessions_count"]
                    argv += ["2026-12-02T00:00:00Z", str(now * 1000 + 60000),
                             str(now + 3600), "2026-12-02T01:00:00Z", "600", ""]
                cmds.append(("EVALSHA", single if n == 1 else batched, len(keys))
                            + tuple(keys) + tuple(argv))
            before = cpu()
            depth = max(1, 256 // n)
            for i in range(0, len(cmds), depth):
                for r in db.pipeline(cmds[i:i + depth]):
                    if not isinstance(r, (bytes, str, list)):
                        raise RuntimeError("validation refused: %r" % (r,))
            used = cpu() - before
            db.call("FLUSHALL")
            return used * 1e6 / N

        print("| sessions per call | Redis CPU µs per validation (round 1, round 2) |")
        print("|---|---|")
        for n in (1, 16, 64):
            print("| %d | %.1f, %.1f |" % (n, run(n), run(n)), flush=True)
    finally:
        redis.kill()
        redis.wait()


if __name__ == "__main__":
    main()
