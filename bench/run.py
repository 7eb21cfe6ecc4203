"""Runs the benchmark of bench/run.sh: the service against the bare evhttp
ceiling and the one-round-trip ceiling, interleaved (service, bare,
one-rtt, service, bare, one-rtt, ...) so that a noisy machine hits all
three alike; then session-status, the exact walk and memory.  Writes
docs/bench-results.md (docs/bench-results-pinned.md with BENCH_PIN=1)
and prints it.

`run.py BUILD min-replicas` measures only what REDIS_MIN_REPLICAS=1 costs
validate-session, against a local replica, interleaved with
REDIS_MIN_REPLICAS=0, and prints the table (docs/PERFORMANCE.md)."""

import base64
import hashlib
import http.client
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from harness import RedisClient, free_port, wait_until  # noqa: E402

BUILD = sys.argv[1] if len(sys.argv) > 1 else "build-release"
# BENCH_PIN=1: the servers (service and baselines) on CPU 0, Redis and wrk
# on CPU 1, so that a server and Redis never fight for one core.
PIN = os.environ.get("BENCH_PIN") == "1"
SERVER_CPU = ["taskset", "-c", "0"] if PIN else []
CLIENT_CPU = ["taskset", "-c", "1"] if PIN else []
SECONDS = int(os.environ.get("BENCH_SECONDS", "3"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
CONNS = (1, 16, 256)
# BENCH_ONLY=verify: only the scenarios whose names start with it, printed
# and not written to docs/bench-results.md, without the extra figures;
# BENCH_ONLY=status: only session-status and the exact walk, printed.
ONLY = os.environ.get("BENCH_ONLY")
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RECORD = ('{"used":false,"iframe_opened":false,"session_id":"%s",'
          '"created_at":"2026-11-22T10:00:00Z","expires_at":"%s"}')


def start(args, env=None):
    return subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def wait_http(port, path="/"):
    def ok():
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            c.request("GET", path)
            c.getresponse().read()
            return True
        except OSError:
            return False
    if not wait_until(ok, 10):
        raise RuntimeError("nothing answers on %d" % port)


def redis_usec(db):
    """Microseconds Redis has spent executing the commands servers send,
    and how many: scripts (whose inner commands are counted apart as
    well) and PING."""
    info = db.call("INFO", "commandstats")
    stats = [(int(m.group(2)), int(m.group(3))) for m in
             re.finditer(r"cmdstat_(\w+):calls=(\d+),usec=(\d+)", info)
             if m.group(1) in ("evalsha", "eval", "ping")]
    return sum(u for _, u in stats), sum(c for c, _ in stats)


def cpu_seconds(pid):
    """User and system CPU time a process has used so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(port, path, conns, script=None, script_args=(), db=None, pid=None):
    args = CLIENT_CPU + ["wrk", "-t", "2" if conns > 1 else "1", "-c", str(conns),
            "-d", "%ds" % SECONDS, "--latency", "--timeout", "5s"]
    if script:
        args += ["-s", os.path.join(HERE, script)]
    args.append("http://127.0.0.1:%d%s" % (port, path))
    if script_args:
        args += ["--"] + list(script_args)
    before = redis_usec(db) if db else (0, 0)
    cpu_before = cpu_seconds(pid) if pid else 0
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    cpu_used = cpu_seconds(pid) - cpu_before if pid else 0
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    after = redis_usec(db) if db else (0, 0)
    redis_us = (after[0] - before[0]) / max(requests, 1)
    # Requests each Redis call carried: more than 1 where calls are
    # coalesced (src/store/batch.h).
    per_call = requests / max(after[1] - before[1], 1)
    server_us = cpu_used * 1e6 / max(requests, 1)

    def pct(p):
        m = re.search(r"\s%s%%\s+([\d.]+)(us|ms|s)" % p, out)
        scale = {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
        return float(m.group(1)) * scale
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*timeout (\d+)", out)
    return {"rps": rps, "p50": pct(50), "p99": pct(99), "redis_us": redis_us,
            "server_us": server_us, "per_call": per_call,
            "non2xx": int(bad.group(1)) if bad else 0,
            "timeouts": int(errors.group(1)) if errors else 0}


class Bench:
    def __init__(self):
        resource.setrlimit(resource.RLIMIT_NOFILE, (20000, 20000))
        self.dir = tempfile.mkdtemp(prefix="iframe-auth-bench-")
        self.redis_port = free_port()
        self.redis = start(CLIENT_CPU + ["redis-server", "--port", str(self.redis_port),
                            "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                            "--dir", self.dir])
        time.sleep(0.3)
        self.db = RedisClient(self.redis_port, timeout=60)
        self.ports = {}
        self.procs = {}

    def start_service(self, name="service", extra=None):
        """The service with a cap no run reaches, or as extra says."""
        port = free_port()
        env = {"PATH": os.environ["PATH"], "PORT": str(port),
               "REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(self.redis_port),
               "LOG_LEVEL": "ERROR", "MAX_SESSIONS": "100000000",
               "STATIC_DIR": os.path.join(ROOT, "static")}
        env.update(extra or {})
        self.procs[name] = start(SERVER_CPU + [os.path.join(BUILD, "iframe-auth")], env)
        self.ports[name] = port
        wait_http(port, "/healthz")
        wait_until(lambda: self._healthy(port), 5)

    def _healthy(self, port):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        c.request("GET", "/auth/redis-health")
        return c.getresponse().status == 200

    def start_baselines(self):
        for name, args in (("bare", []), ("one_rtt", [str(self.redis_port)])):
            port = free_port()
            self.procs[name] = start(SERVER_CPU + [os.path.join(BUILD, "bench", "bench-" + name.replace("_", "-")),
                                      str(port)] + args)
            self.ports[name] = port
            wait_http(port)

    def stop(self, name):
        p = self.procs.pop(name)
        p.send_signal(signal.SIGTERM)
        p.wait(10)

    def insert_sessions(self, n, adopt=False):
        """n live sessions in the service's layout, written straight into
        Redis; adopt: counted too, by one exact walk."""
        ids = [str(uuid.uuid4()) for _ in range(n)]
        expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(
            int(self.db.call("TIME")[0]) + 3600))
        for i in range(0, n, 5000):
            self.db.pipeline([("SET", "auth_session:" + sid, RECORD % (sid, expires),
                               "EX", 3600) for sid in ids[i:i + 5000]])
        if adopt:
            self.status(exact=True)
        return ids

    def status(self, exact=False):
        """One status request; (its body, ms)."""
        c = http.client.HTTPConnection("127.0.0.1", self.ports["service"], timeout=120)
        t = time.monotonic()
        c.request("GET", "/auth/session-status" + ("?exact=true" if exact else ""))
        body = json.loads(c.getresponse().read())
        return body, (time.monotonic() - t) * 1000

    def insert_embed_session(self):
        """One live embed session as validate opens it; its token."""
        token = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
        now = int(self.db.call("TIME")[0])
        record = {"session_id": str(uuid.uuid4()), "created_at": "2026-11-22T10:00:00Z",
                  "expires_at": "2026-11-22T11:00:00Z", "generation": 0,
                  "user_id": "bench-user", "metadata": {"plan": "pro"}}
        text = '{"expires_at_unix":%d,%s' % (now + 3600, json.dumps(
            record, separators=(",", ":"))[1:])
        self.db.call("SET", "auth_embed:" + hashlib.sha256(token.encode()).hexdigest(),
                     text, "EX", 3600)
        return token

    def rss_kb(self, name, field="VmRSS"):
        with open("/proc/%d/status" % self.procs[name].pid) as f:
            return int(re.search(field + r":\s+(\d+)", f.read()).group(1))

    def close(self):
        for name in list(self.procs):
            self.stop(name)
        self.redis.kill()
        self.redis.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def scenario(b, path, conns, script=None, prepare=None):
    """Interleaved runs; returns {target: averaged result}."""
    runs = {"service": [], "bare": [], "one_rtt": []}
    for _ in range(ROUNDS):
        for target in ("service", "bare", "one_rtt"):
            args = ()
            if prepare and target == "service":
                args = prepare()
            port = b.ports[target]
            runs[target].append(wrk(port, path if target == "service" else "/",
                                    conns, script, args, b.db, b.procs[target].pid))
    avg = {}
    for target, rs in runs.items():
        avg[target] = {k: sum(r[k] for r in rs) / len(rs) for k in rs[0]}
        avg[target]["non2xx"] = sum(r["non2xx"] for r in rs)
        avg[target]["timeouts"] = sum(r["timeouts"] for r in rs)
    return avg


def main():
    b = Bench()
    lines = []
    try:
        b.start_service()
        b.start_baselines()
        ids_file = os.path.join(b.dir, "ids")

        def prepare_validate():
            # Enough fresh sessions for one run at any rate seen here.
            ids = b.insert_sessions(60000 * SECONDS)
            with open(ids_file, "w") as f:
                f.write("\n".join(ids) + "\n")
            return (ids_file, "2")

        token = b.insert_embed_session()
        results = []
        for conns in CONNS:
            for name, run in (
                    ("create-session", lambda: scenario(
                        b, "/auth/create-session", conns, "post.lua")),
                    ("validate-session", lambda: scenario(
                        b, "", conns, "validate.lua", prepare_validate)),
                    ("verify", lambda: scenario(
                        b, "", conns, "verify.lua", lambda: (token,))),
                    ("redis-health", lambda: scenario(
                        b, "/auth/redis-health", conns))):
                if not ONLY or name.startswith(ONLY):
                    results.append((name, conns, run()))
        if ONLY and ONLY != "status":
            print_table(results)
            return
        figures = status_part(b, results, prepare_validate, ids_file)
        if ONLY:
            print_table(results)
            print("\n".join(figures))
            return

        # RSS with 10 000 idle connections.
        idle = [socket.create_connection(("127.0.0.1", b.ports["service"])) for _ in range(10000)]
        time.sleep(1)
        rss_idle = b.rss_kb("service")
        for s in idle:
            s.close()
        peak = b.rss_kb("service", "VmHWM")

        # Redis memory per session: creates through the API, cap on.
        b.stop("service")
        b.db.call("FLUSHALL")
        b.start_service()
        before = int(re.search(r"used_memory:(\d+)", b.db.call("INFO", "memory")).group(1))
        wrk(b.ports["service"], "/auth/create-session", 16, "post.lua")
        while int(b.db.call("HGET", "auth_stats", "total_created")) < 100000:
            wrk(b.ports["service"], "/auth/create-session", 16, "post.lua")
        created = int(b.db.call("HGET", "auth_stats", "total_created"))
        after = int(re.search(r"used_memory:(\d+)", b.db.call("INFO", "memory")).group(1))
        per_session = (after - before) / created
    finally:
        b.close()

    invalid = table(results, lines)
    lines.append("")
    lines.append("Baselines in the same runs: " + "; ".join(
        "%s c=%d bare %.0f req/s p99 %.2f ms, one-rtt %.0f req/s p99 %.2f ms" % (
            name, conns, r["bare"]["rps"], r["bare"]["p99"], r["one_rtt"]["rps"], r["one_rtt"]["p99"])
        for name, conns, r in results if name in ("validate-session", "create-session", "verify")))
    lines.append("")
    lines.append("| figure | value |")
    lines.append("|---|---|")
    lines += figures
    lines.append("| service RSS with 10 000 idle connections | %.1f MB |" % (rss_idle / 1024))
    lines.append("| service peak RSS (whole run) | %.1f MB |" % (peak / 1024))
    lines.append("| Redis memory per session (%d creates through the API, cap accounting on) | %.0f B |" % (
        created, per_session))
    if invalid:
        lines.append("")
        lines.append("**Some runs had non-2xx answers or timeouts: marked invalid.**")
    report = "\n".join(lines) + "\n"
    name = "bench-results-pinned.md" if PIN else "bench-results.md"
    with open(os.path.join(ROOT, "docs", name), "w") as f:
        f.write(report)
    print(report)


def status_part(b, results, prepare_validate, ids_file):
    """session-status from the counters at 100 000 and 1 000 000 sessions,
    the exact walk over 100 000, and validate's p99 alone and with exact
    walks running back to back.  The figures' table rows."""
    figures = []
    b.db.call("FLUSHALL")
    b.insert_sessions(100000, adopt=True)
    for n, label in ((100000, "100 000"), (1000000, "1 000 000")):
        if n > 100000:
            b.insert_sessions(n - 100000, adopt=True)
        body, _ = b.status()
        assert body["total_sessions"] == n, body
        for conns in CONNS:
            results.append(("session-status, %s sessions" % label, conns,
                            scenario(b, "/auth/session-status", conns)))
        # One request at a time, as a monitor asks.
        single = sorted(b.status()[1] for _ in range(200))
        figures.append("| session-status from the counters, one request at a time, "
                       "%s sessions (Python client) | %.2f ms median, %.2f ms max of 200 |"
                       % (label, single[100], single[-1]))

    b.db.call("FLUSHALL")
    ids = b.insert_sessions(100000, adopt=True)
    walks = sorted(b.status(exact=True)[1] for _ in range(5))
    walk_ms = walks[len(walks) // 2]

    # Validate p99 alone, then with exact walks running back to back over
    # exactly 100 000 sessions, which are also the pool validated.
    stop = threading.Event()

    def walker():
        while not stop.is_set():
            b.status(exact=True)
    b.db.call("FLUSHALL")
    alone = wrk(b.ports["service"], "", 16, "validate.lua", prepare_validate())
    b.db.call("FLUSHALL")
    ids = b.insert_sessions(100000, adopt=True)
    with open(ids_file, "w") as f:
        f.write("\n".join(ids) + "\n")
    t = threading.Thread(target=walker)
    t.start()
    during = wrk(b.ports["service"], "", 16, "validate.lua", (ids_file, "2"))
    stop.set()
    t.join()
    figures.append("| session-status?exact=true, one walk over 100 000 sessions (median of 5) | %.0f ms |"
                   % walk_ms)
    figures.append("| validate p99 at 16 conns, alone / with exact walks running | %.2f ms / %.2f ms (× %.2f) |" % (
        alone["p99"], during["p99"], during["p99"] / alone["p99"]))
    if PIN:
        figures.append("| mode | pinned: servers on CPU 0, Redis and wrk on CPU 1 |")
    return figures


def print_table(results):
    lines = []
    table(results, lines)
    print("\n".join(lines))


def table(results, lines):
    """The scenario table into lines; True when a row is invalid."""
    lines.append("| scenario | conns | req/s | p50 ms | p99 ms | non-2xx | "
                 "× bare req/s | × one-rtt req/s | × bare p99 | × one-rtt p99 | "
                 "server CPU µs/req (bare, one-rtt) | Redis µs/req (one-rtt) | "
                 "requests per Redis call |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    invalid = False
    for name, conns, r in results:
        s, bare, one = r["service"], r["bare"], r["one_rtt"]
        mark = ""
        if s["non2xx"] or s["timeouts"] or bare["non2xx"] or one["non2xx"]:
            mark = " **invalid**"
            invalid = True
        lines.append("| %s%s | %d | %.0f | %.2f | %.2f | %d | %.2f | %.2f | %.2f | %.2f | "
                     "%.1f (%.1f, %.1f) | %.1f (%.1f) | %.1f |" % (
                         name, mark, conns, s["rps"], s["p50"], s["p99"], s["non2xx"],
                         s["rps"] / bare["rps"], s["rps"] / one["rps"],
                         s["p99"] / bare["p99"], s["p99"] / one["p99"],
                         s["server_us"], bare["server_us"], one["server_us"],
                         s["redis_us"], one["redis_us"], s["per_call"]))
    return invalid


def min_replicas_cost():
    """validate-session with REDIS_MIN_REPLICAS 0 and 1 on one primary with
    one replica, interleaved, at 1, 16 and 256 connections."""
    b = Bench()
    replica_port = free_port()
    replica = start(CLIENT_CPU + ["redis-server", "--port", str(replica_port), "--bind",
                     "127.0.0.1", "--save", "", "--appendonly", "no",
                     "--dir", b.dir, "--dbfilename", "replica.rdb",
                     "--replicaof", "127.0.0.1", str(b.redis_port)])
    ids_file = os.path.join(b.dir, "ids")
    rows = []
    try:
        if not wait_until(lambda: "state=online" in
                          b.db.call("INFO", "replication"), 10):
            raise RuntimeError("the replica did not sync")
        b.start_service("n0", {"REDIS_MIN_REPLICAS": "0"})
        b.start_service("n1", {"REDIS_MIN_REPLICAS": "1"})
        for conns in CONNS:
            runs = {"n0": [], "n1": []}
            for _ in range(ROUNDS):
                for name in ("n0", "n1"):
                    b.db.call("FLUSHALL")
                    ids = b.insert_sessions(40000 * SECONDS)
                    with open(ids_file, "w") as f:
                        f.write("\n".join(ids) + "\n")
                    runs[name].append(wrk(b.ports[name], "", conns,
                                          "validate.lua", (ids_file, "2"),
                                          b.db, b.procs[name].pid))
            avg = {name: {k: sum(r[k] for r in rs) / len(rs) for k in rs[0]}
                   for name, rs in runs.items()}
            rows.append((conns, avg))
    finally:
        replica.kill()
        replica.wait()
        b.close()
    lines = ["| conns | req/s, 0 | req/s, 1 | × req/s | p50 ms, 0 / 1 | "
             "p99 ms, 0 / 1 | × p99 | non-2xx (0, 1) |",
             "|---|---|---|---|---|---|---|---|"]
    for conns, avg in rows:
        n0, n1 = avg["n0"], avg["n1"]
        lines.append("| %d | %.0f | %.0f | %.2f | %.2f / %.2f | %.2f / %.2f | "
                     "%.2f | %d, %d |" % (
                         conns, n0["rps"], n1["rps"], n1["rps"] / n0["rps"],
                         n0["p50"], n1["p50"], n0["p99"], n1["p99"],
                         n1["p99"] / n0["p99"], n0["non2xx"], n1["non2xx"]))
    print("\n".join(lines))


if __name__ == "__main__":
    if sys.argv[2:] == ["min-replicas"]:
        min_replicas_cost()
    else:
        main()
