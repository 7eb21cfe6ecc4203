"""What coalescing saves Redis: the validate script exactly as the service
loads it (read off MONITOR while the service starts), called with n
validations per EVALSHA as the service's batches do (n = 1, 16, 64), the
same kind of sessions, 256 validations in flight either way.  Prints
Redis's whole process CPU (networking, parsing, scripts) and the script's
own time (INFO commandstats) per validation.

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
        sha = db.call("SCRIPT", "LOAD", src)

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
                keys, argv = ["auth_stats", "auth_sessions_count"], []
                for sid in ids[i:i + n]:
                    keys += ["auth_session:" + sid, "auth_embed:" + uuid.uuid4().hex * 2]
                    argv += ["2026-12-02T00:00:00Z", str(now * 1000 + 60000),
                             str(now + 3600), "2026-12-02T01:00:00Z", "600", ""]
                cmds.append(("EVALSHA", sha, len(keys)) + tuple(keys) + tuple(argv))
            db.call("CONFIG", "RESETSTAT")
            before = cpu()
            depth = max(1, 256 // n)
            for i in range(0, len(cmds), depth):
                for r in db.pipeline(cmds[i:i + depth]):
                    if not all(isinstance(e, str) for e in r):
                        raise RuntimeError("validation refused: %r" % (r,))
            used = cpu() - before
            script = re.search(r"cmdstat_evalsha:calls=\d+,usec=(\d+)",
                               db.call("INFO", "commandstats"))
            db.call("FLUSHALL")
            return "%.1f / %.1f" % (used * 1e6 / N, int(script.group(1)) / N)

        print("| validations per call | Redis CPU / script time, µs per validation "
              "(round 1, round 2) |")
        print("|---|---|")
        for n in (1, 16, 64):
            print("| %d | %s, %s |" % (n, run(n), run(n)), flush=True)
    finally:
        redis.kill()
        redis.wait()


if __name__ == "__main__":
    main()
