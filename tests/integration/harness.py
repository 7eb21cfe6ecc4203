"""Black-box test harness: a real redis-server and the real iframe-auth
binary, each on a free loopback port, cleaned up after every test.

Besides the Python standard library, only python3-yaml and
python3-jsonschema (Debian packages), for contract.py: every response a
test receives through Service.request is checked against
docs/openapi.yaml.
"""

import ctypes
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

import contract

def _die_with_parent():
    """Child processes get SIGKILL when the test process dies, so that a
    test killed by its timeout leaves no Redis or service behind."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


BIN = os.path.abspath(os.environ.get("IFRAME_AUTH_BIN", "build/iframe-auth"))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STATIC_DIR = os.path.join(REPO, "static")
SANITIZER_MARKS = ("AddressSanitizer", "LeakSanitizer", "runtime error:",
                   "UndefinedBehaviorSanitizer")


def free_port():
    """A TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one_turn(svc, requests):
    """Sends each raw request on its own connection while the service is
    stopped, so that its loop reads all of them in one turn; returns the
    (status, body) of each, the body decoded from JSON."""
    def open_connections():
        for line in svc.get("/metrics").body.decode().splitlines():
            if line.startswith("iframe_auth_open_connections "):
                return int(float(line.split()[1]))
        return 0
    before = open_connections()  # its own connection among them
    socks = [socket.create_connection(("127.0.0.1", svc.port), timeout=10)
             for _ in requests]
    # Every connection accepted, or one accepted after the stop would be
    # read a turn later.
    if not wait_until(lambda: open_connections() >= before + len(requests),
                      5):
        raise RuntimeError("the service did not accept every connection")
    svc.proc.send_signal(signal.SIGSTOP)
    try:
        # kill() returns before a running process stops: one still
        # finishing its turn could see the first requests without the rest.
        if not wait_until(lambda: process_state(svc.proc.pid) == "T", 5):
            raise RuntimeError("the service did not stop: state %s"
                               % process_state(svc.proc.pid))
        for request, s in zip(requests, socks):
            s.sendall(request)
        # Loopback delivery may be left to a softirq: wait until every byte
        # is queued on the service's side.
        ports = {s.getsockname()[1] for s in socks}
        sent = sum(len(r) for r in requests)
        if not wait_until(lambda: bytes_queued_to(svc.port, ports) == sent,
                          5):
            raise RuntimeError("%d of %d bytes reached the service" %
                               (bytes_queued_to(svc.port, ports), sent))
    finally:
        svc.proc.send_signal(signal.SIGCONT)
    answers = []
    for s in socks:
        r = http.client.HTTPResponse(s)
        r.begin()
        answers.append((r.status, json.loads(r.read())))
        s.close()
    return answers


def tcp_sockets():
    """The machine's TCP sockets, from /proc/net/tcp and tcp6: (state,
    local port, remote port, bytes waiting to be read, inode) each."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            next(f)
            for line in f:
                fields = line.split()
                yield (fields[3], int(fields[1].rsplit(":", 1)[1], 16),
                       int(fields[2].rsplit(":", 1)[1], 16),
                       int(fields[4].split(":")[1], 16), fields[9])


def listens(pid, port):
    """Whether process pid has a TCP socket listening on port."""
    try:
        inodes = {os.readlink("/proc/%d/fd/%s" % (pid, fd))
                  for fd in os.listdir("/proc/%d/fd" % pid)}
    except OSError:  # it exited, or closed an fd while being listed
        return False
    return any(state == "0A" and local == port and  # 0A: LISTEN
               "socket:[%s]" % inode in inodes
               for state, local, _, _, inode in tcp_sockets())


def process_state(pid):
    """The one-letter state of a process, from /proc: "T" once stopped."""
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def bytes_queued_to(local_port, remote_ports):
    """Bytes waiting to be read on the TCP sockets bound to local_port
    whose peers are remote_ports."""
    return sum(queued for _, local, remote, queued, _ in tcp_sockets()
               if local == local_port and remote in remote_ports)


def is_redis_process(pid, connect):
    """Whether the Redis or sentinel that connect() reaches is process
    pid, not another test's on the same port."""
    try:
        c = connect()
        try:
            info = c.call("INFO", "server")
        finally:
            c.close()
    except (OSError, ConnectionError, RespError):
        return False
    return "process_id:%d\r\n" % pid in info


def script_calls(db, *first_keys):
    """The script calls Redis ran since log_every_command(db) whose keys
    begin with first_keys, each as its number of keys."""
    n = len(first_keys)
    return [int(e[3][2]) for e in db.call("SLOWLOG", "GET", "-1")
            if e[3][0].upper() in ("EVALSHA", "EVAL") and int(e[3][2]) > 0 and
            tuple(e[3][3:3 + n]) == first_keys]


def log_every_command(db):
    db.call("CONFIG", "SET", "slowlog-log-slower-than", "0")
    db.call("CONFIG", "SET", "slowlog-max-len", "100000")
    db.call("SLOWLOG", "RESET")


def wait_until(predicate, timeout, interval=0.02):
    """Polls predicate until it returns a true value or timeout passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            return value
        time.sleep(interval)


class RespError(Exception):
    """An error reply from Redis."""


def _read_reply(f):
    line = f.readline()
    if not line:
        raise ConnectionError("redis closed the connection")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise RespError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)
        return data[:-2].decode()
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [_read_reply(f) for _ in range(n)]
    raise ConnectionError("bad RESP reply: %r" % line)


class RedisClient:
    """A minimal blocking RESP client, for checking what the service did."""

    def __init__(self, port=None, password=None, unix=None, timeout=5):
        if unix:
            self.sock = socket.socket(socket.AF_UNIX)
            self.sock.settimeout(timeout)
            self.sock.connect(unix)
        else:
            self.sock = socket.create_connection(("127.0.0.1", port),
                                                 timeout=timeout)
        self.file = self.sock.makefile("rb")
        if password:
            self.call("AUTH", password)

    @staticmethod
    def _encode(args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            b = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(b), b))
        return b"".join(out)

    def call(self, *args):
        self.send(*args)
        return self.read_reply()

    def send(self, *args):
        """Sends one command without waiting for its reply (read_reply)."""
        self.sock.sendall(self._encode(args))

    def read_reply(self):
        return _read_reply(self.file)

    def pipeline(self, commands):
        """Sends every command, then reads every reply."""
        self.sock.sendall(b"".join(self._encode(c) for c in commands))
        return [_read_reply(self.file) for _ in commands]

    def close(self):
        self.file.close()
        self.sock.close()


class RedisServer:
    """A private redis-server on a free port (and a Unix socket)."""

    def __init__(self, workdir, password=None, port=None):
        self.workdir = workdir
        self.password = password
        self.port = port or free_port()
        # A port of its own choosing may change until it first starts.
        self.port_chosen = port is None
        self.unix = os.path.join(workdir, "redis.sock")
        self.proc = None

    def start(self, extra_args=()):
        """Starts redis-server and waits until it answers; a parallel test
        may take the free port first, and then another is tried."""
        for _ in range(5):
            self._spawn(extra_args)
            if not wait_until(lambda: self.proc.poll() is not None or
                              is_redis_process(self.proc.pid, self.client),
                              10):
                raise RuntimeError("redis-server did not start")
            if self.proc.poll() is None:
                self.port_chosen = False
                return self
            self.proc = None
            if not self.port_chosen:
                break
            self.port = free_port()
        try:
            with open(os.path.join(self.workdir, "redis.log"),
                      errors="replace") as f:
                log = f.read()[-2000:]
        except OSError:
            log = "(no log)"
        raise RuntimeError("redis-server exited at start, port %d:\n%s"
                           % (self.port, log))

    def _spawn(self, extra_args):
        args = ["redis-server", "--port", str(self.port),
                "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", self.workdir, "--unixsocket", self.unix,
                "--logfile", os.path.join(self.workdir, "redis.log")]
        if self.password:
            args += ["--requirepass", self.password]
        args += list(extra_args)
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL,
                                     preexec_fn=_die_with_parent)

    def client(self, timeout=5):
        return RedisClient(self.port, self.password, timeout=timeout)

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def kill(self):
        """SIGKILL and reap: Redis vanishes at once."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def stop(self):
        self.send_signal(signal.SIGSTOP)

    def cont(self):
        self.send_signal(signal.SIGCONT)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    def header(self, name):
        return self.headers.get(name.lower())


class Service:
    """The iframe-auth binary under test."""

    def __init__(self, workdir, env=None):
        self.workdir = workdir
        self.bin = BIN
        self.port = free_port()
        self.chosen_port = self.port  # a test may set another
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "LOG_LEVEL": "DEBUG",
            "REDIS_TIMEOUT_MS": "500",
            "STATIC_DIR": STATIC_DIR,
        }
        for key in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if key in os.environ:
                self.env[key] = os.environ[key]
        self.env.update(env or {})
        self.log_path = os.path.join(workdir, "service-%d.log" % self.port)
        self.proc = None
        self.exit_code = None
        self.wrapper = []  # e.g. a valgrind command line
        self.preexec = None  # e.g. lower a resource limit

    def start(self, args=(), wait=True, timeout=10):
        """Starts the service; with wait, until it answers on its port.  A
        parallel test may take the free port first: a first start on a
        port of its own choosing then moves to another."""
        movable = wait and self.proc is None and self.exit_code is None and \
            self.port == self.chosen_port and \
            self.env.get("PORT") == str(self.port)
        for _ in range(5):
            self._spawn(args)
            if not wait:
                return self
            try:
                if not wait_until(self._answers, timeout):
                    raise RuntimeError("service did not start:\n" +
                                       self.logs())
                return self
            except RuntimeError:
                if not (movable and self.proc.poll() is not None and
                        "Address already in use" in self.logs()):
                    raise
            self.proc = None
            self.log_file.close()
            self.port = self.chosen_port = free_port()
            self.env["PORT"] = str(self.port)
            self.log_path = os.path.join(self.workdir,
                                         "service-%d.log" % self.port)
        raise RuntimeError("no free port for the service")

    def _spawn(self, args):
        self.log_file = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.wrapper + [self.bin] + list(args), env=self.env,
                                     cwd=self.workdir,
                                     stdout=self.log_file,
                                     stderr=subprocess.STDOUT,
                                     preexec_fn=self._preexec)

    def _preexec(self):
        _die_with_parent()
        if self.preexec:
            self.preexec()

    def _answers(self):
        """This process answers /healthz on its port, not another's."""
        if self.proc.poll() is not None:
            raise RuntimeError("service exited:\n" + self.logs())
        if not listens(self.proc.pid, self.port):
            return False
        try:
            return self.request("GET", "/healthz", timeout=1).status == 200
        except OSError:
            return False

    def request(self, method, path, body=None, headers=None, timeout=10):
        conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                          timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            data = r.read()
            response = Response(r.status, {k.lower(): v for k, v in
                                           r.getheaders()}, data)
        finally:
            conn.close()
        # Every response a test receives must be one docs/openapi.yaml
        # allows (contract.py).
        contract.check_response(method, path, response.status,
                                response.headers, response.body,
                                self.env.get("STATIC_DIR"))
        return response

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def raw(self, data, timeout=5, read_until_close=True):
        """Sends raw bytes and returns what comes back until close."""
        with socket.create_connection(("127.0.0.1", self.port),
                                      timeout=timeout) as s:
            s.sendall(data)
            chunks = []
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    chunks.append(chunk)
                    if not read_until_close:
                        break
            except socket.timeout:
                pass
            return b"".join(chunks)

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Signals the service, waits, and returns its exit code."""
        if self.proc is None:
            return self.exit_code
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.exit_code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.exit_code = self.proc.wait()
        self.proc = None
        self.log_file.close()
        return self.exit_code

    def logs(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")


class ServiceTest(unittest.TestCase):
    """Base class: a temp dir, a Redis, and helpers to start the service.

    Every service a test starts is stopped with SIGTERM at the end, and
    must then exit 0 with no sanitizer report in its log.
    """

    redis_password = None
    start_redis = True

    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="iframe-auth-test-")
        self.services = []
        self.redis = RedisServer(self.workdir, self.redis_password)
        if self.start_redis:
            self.redis.start()

    def tearDown(self):
        problems = []
        for svc in self.services:
            if svc.proc is None and svc.exit_code is None:
                continue  # never started
            code = svc.stop()
            log = svc.logs()
            if code != 0:
                problems.append("service exited %s:\n%s" % (code, log[-4000:]))
            for mark in SANITIZER_MARKS:
                if mark in log:
                    problems.append("sanitizer report:\n" + log[-8000:])
                    break
        self.redis.kill()
        shutil.rmtree(self.workdir, ignore_errors=True)
        if problems:
            self.fail("\n".join(problems))

    def service(self, env=None, start=True, **kw):
        base = {"REDIS_HOST": "127.0.0.1",
                "REDIS_PORT": str(self.redis.port)}
        if self.redis_password:
            base["REDIS_PASSWORD"] = self.redis_password
        base.update(env or {})
        svc = Service(self.workdir, base)
        self.services.append(svc)
        if start:
            svc.start(**kw)
        return svc

    def healthy_service(self, env=None):
        """A service started and answering with its Redis link up."""
        svc = self.service(env)
        self.assertTrue(self.wait_healthy(svc))
        return svc

    def redis_client(self):
        """A client of the test's Redis, closed at the end of the test."""
        db = self.redis.client()
        self.addCleanup(db.close)
        return db

    def wait_healthy(self, svc, timeout=5):
        def ok():
            try:
                return svc.get("/auth/redis-health", timeout=2).status == 200
            except OSError:
                return False
        return wait_until(ok, timeout, 0.05)

    def wait_pending(self, svc, count, timeout):
        """Waits until count requests wait on Redis (its /metrics): what
        a test that has sent them must see before it goes on."""
        def pending():
            for line in svc.get("/metrics").body.decode().splitlines():
                if line.startswith("iframe_auth_redis_pending "):
                    return int(line.split()[1])
            raise AssertionError("no iframe_auth_redis_pending in /metrics")
        self.assertTrue(wait_until(lambda: pending() == count, timeout),
                        "not %d requests waiting on Redis" % count)

    def assertJsonResponse(self, r, status):
        self.assertEqual(r.status, status, r.body)
        self.assertEqual(r.header("content-type"), "application/json")
        self.assertEqual(r.header("x-content-type-options"), "nosniff")
        return r.json()


def main():
    unittest.main(verbosity=2)
