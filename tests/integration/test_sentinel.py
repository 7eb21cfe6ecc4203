"""Redis Sentinel (spec §10), with real processes on loopback: a primary,
a replica and three sentinels, shared by every test in this file (each
test leaves a master with a healthy replica behind it), and services
started per test.

Failovers, planned and by SIGKILL, under a steady load of creates and
validates; REDIS_MIN_REPLICAS across a failover; a demoted primary
answering READONLY; sentinels that are gone or know no such master; two
instances on one Redis."""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import (RedisClient, RedisServer, RespError, SANITIZER_MARKS,  # noqa: E402
                     Service, _die_with_parent, free_port, is_redis_process,
                     one_turn, wait_until)

MASTER = "mymaster"
SENTINEL_PASSWORD = "sentinel-pass-Xy9"
DOWN_AFTER_MS = 1000
TIMEOUT_MS = 500
API_KEY = "test-key"
AUTH = {"Authorization": "Bearer " + API_KEY}


class Node(RedisServer):
    """One redis-server, primary or replica, in a directory of its own."""

    def __init__(self, workdir, name):
        path = os.path.join(workdir, name)
        os.makedirs(path)
        super().__init__(path)

    def start(self, replica_of=None):
        return super().start(() if replica_of is None else
                             ("--replicaof", "127.0.0.1", str(replica_of)))

    def call(self, *args):
        c = self.client()
        try:
            return c.call(*args)
        finally:
            c.close()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None


class Sentinel:
    """One redis-sentinel, with its own config file (it rewrites it, so
    that a restart keeps what it learnt)."""

    def __init__(self, workdir, name, master_port):
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir)
        self.port = free_port()
        self.conf = os.path.join(self.dir, "sentinel.conf")
        with open(self.conf, "w") as f:
            f.write("port %d\nbind 127.0.0.1\ndir %s\nlogfile %s\n"
                    "requirepass %s\nsentinel sentinel-pass %s\n"
                    "sentinel monitor %s 127.0.0.1 %d 2\n"
                    "sentinel down-after-milliseconds %s %d\n"
                    "sentinel failover-timeout %s 4000\n"
                    "sentinel parallel-syncs %s 1\n"
                    % (self.port, self.dir,
                       os.path.join(self.dir, "sentinel.log"),
                       SENTINEL_PASSWORD, SENTINEL_PASSWORD, MASTER,
                       master_port, MASTER, DOWN_AFTER_MS, MASTER, MASTER))
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(["redis-sentinel", self.conf],
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL,
                                     preexec_fn=_die_with_parent)
        if not wait_until(self.answers, 10):
            raise RuntimeError("redis-sentinel did not start")

    def client(self, timeout=5):
        return RedisClient(self.port, SENTINEL_PASSWORD, timeout=timeout)

    def answers(self):
        return is_redis_process(self.proc.pid, lambda: self.client(timeout=1))

    def call(self, *args):
        c = self.client()
        try:
            return c.call(*args)
        finally:
            c.close()

    def kill(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


def as_dict(flat):
    return dict(zip(flat[::2], flat[1::2]))


class Topology:
    """A primary, a replica and three sentinels on loopback."""

    def __init__(self, workdir):
        self.nodes = [Node(workdir, "a"), Node(workdir, "b")]
        self.nodes[0].start()
        self.nodes[1].start(replica_of=self.nodes[0].port)
        self.sentinels = [Sentinel(workdir, "s%d" % i, self.nodes[0].port)
                          for i in range(3)]
        for s in self.sentinels:
            s.start()
        self.wait_ready()

    def addresses(self):
        return ",".join("127.0.0.1:%d" % s.port for s in self.sentinels)

    def master_port(self):
        for s in self.sentinels:
            try:
                addr = s.call("SENTINEL", "get-master-addr-by-name", MASTER)
                return int(addr[1])
            except (OSError, ConnectionError, RespError, TypeError):
                continue
        raise RuntimeError("no sentinel names the master")

    def node(self, port):
        return next(n for n in self.nodes if n.port == port)

    def master(self):
        return self.node(self.master_port())

    def replica(self):
        port = self.master_port()
        return next(n for n in self.nodes if n.port != port)

    def _ready(self):
        """Every sentinel agrees on the master, sees the others and one
        healthy replica, and the replica is in sync."""
        try:
            port = self.master_port()
            for s in self.sentinels:
                m = as_dict(s.call("SENTINEL", "master", MASTER))
                if (int(m["port"]) != port or m["flags"] != "master"
                        or int(m["num-other-sentinels"]) != 2
                        or int(m["num-slaves"]) < 1):
                    return False
                replicas = [as_dict(r) for r in
                            s.call("SENTINEL", "replicas", MASTER)]
                if not any(r["flags"] == "slave" and
                           r["master-link-status"] == "ok"
                           for r in replicas):
                    return False
            info = self.node(port).call("INFO", "replication")
            return "connected_slaves:1" in info and "state=online" in info
        except (OSError, ConnectionError, RespError, KeyError,
                StopIteration):
            return False

    def wait_replica_acknowledges(self, timeout):
        """Writes a probe to the master and waits until the replica has
        acknowledged it, and so every write before it."""
        c = self.master().client(timeout=timeout + 1)
        try:
            c.call("SET", "test:replica-probe", "1")
            return c.call("WAIT", "1", str(int(timeout * 1000))) >= 1
        finally:
            c.close()

    def wait_ready(self, timeout=30):
        """Restarts a killed node as a replica of the master, then waits
        until a failover can happen again."""
        for s in self.sentinels:
            if s.proc is None:
                s.start()
        if any(n.proc is None for n in self.nodes):
            port = self.master_port()
            for n in self.nodes:
                if n.proc is None:
                    n.start(replica_of=port)
        if not wait_until(self._ready, timeout, 0.2):
            raise RuntimeError("sentinel topology not ready")

    def failover(self):
        """SENTINEL FAILOVER on one sentinel, retried while the sentinels
        are not yet willing."""
        def asked():
            try:
                return self.sentinels[1].call("SENTINEL", "failover",
                                              MASTER) == "OK"
            except RespError:
                return False
        if not wait_until(asked, 15, 0.2):
            raise RuntimeError("SENTINEL FAILOVER refused")

    def stop(self):
        for s in self.sentinels:
            s.kill()
        for n in self.nodes:
            n.kill()


class SwitchWatch:
    """The test's own +switch-master subscription: when the sentinels
    announced the new master."""

    def __init__(self, sentinel):
        self.client = sentinel.client(timeout=30)
        self.client.call("SUBSCRIBE", "+switch-master")
        self.at = None
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        from harness import _read_reply
        try:
            while True:
                msg = _read_reply(self.client.file)
                if msg[0] == "message" and msg[2].startswith(MASTER + " "):
                    self.at = time.monotonic()
                    return
        except (OSError, ConnectionError):
            return

    def wait(self, timeout):
        self.thread.join(timeout)
        self.client.close()
        return self.at


class Load:
    """Steady creates and validates from a few threads; every answer is
    kept as (sent, done, kind, status)."""

    def __init__(self, svc, threads=3):
        self.svc = svc
        self.results = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._run, daemon=True)
                        for _ in range(threads)]

    def _one(self, kind, method, path):
        sent = time.monotonic()
        try:
            r = self.svc.request(method, path, headers=AUTH, timeout=10)
            status, body = r.status, r
        except OSError as e:
            status, body = 0, e
        with self.lock:
            self.results.append((sent, time.monotonic(), kind, status))
        return status, body

    def _run(self):
        while not self.stopping.is_set():
            status, r = self._one("create", "POST", "/auth/create-session")
            if status == 200:
                sid = r.json()["session_id"]
                self._one("validate", "POST",
                          "/auth/validate-session?session_id=" + sid)
            time.sleep(0.01)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        for t in self.threads:
            t.join(15)


class SentinelTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="iframe-auth-sentinel-")
        cls.topo = Topology(cls.workdir)

    @classmethod
    def tearDownClass(cls):
        cls.topo.stop()
        shutil.rmtree(cls.workdir, ignore_errors=True)

    def setUp(self):
        self.services = []
        self.topo.wait_ready()

    def tearDown(self):
        problems = []
        for svc in self.services:
            if svc.proc is None and svc.exit_code is None:
                continue
            code = svc.stop()
            log = svc.logs()
            if code != 0:
                problems.append("service exited %s:\n%s" % (code, log[-4000:]))
            if SENTINEL_PASSWORD in log:
                problems.append("the sentinel password is in the log")
            for mark in SANITIZER_MARKS:
                if mark in log:
                    problems.append("sanitizer report:\n" + log[-8000:])
                    break
        if problems:
            self.fail("\n".join(problems))

    def service(self, env=None, sentinels=None, wait_up=True):
        base = {"REDIS_SENTINELS": sentinels or self.topo.addresses(),
                "REDIS_SENTINEL_MASTER": MASTER,
                "REDIS_SENTINEL_PASSWORD": SENTINEL_PASSWORD,
                "REDIS_TIMEOUT_MS": str(TIMEOUT_MS),
                "API_KEY": API_KEY,
                "MAX_SESSIONS": "0",
                # The host the sentinels' answer replaces.
                "REDIS_HOST": "192.0.2.1"}
        base.update(env or {})
        svc = Service(self.workdir, base)
        self.services.append(svc)
        svc.start()
        if wait_up:
            self.assertTrue(self.wait_up(svc), svc.logs()[-3000:])
        return svc

    @staticmethod
    def wait_up(svc, timeout=10):
        def ok():
            try:
                return svc.get("/auth/redis-health", timeout=2).status == 200
            except OSError:
                return False
        return wait_until(ok, timeout, 0.05)

    @staticmethod
    def create(svc):
        r = svc.request("POST", "/auth/create-session", headers=AUTH)
        return r.status, (r.json().get("session_id") if r.status == 200
                          else None)

    @staticmethod
    def validate(svc, sid):
        r = svc.request("POST", "/auth/validate-session?session_id=" + sid,
                        headers=AUTH)
        return r.status, r.json()

    @staticmethod
    def metrics(svc):
        return svc.get("/metrics").body.decode()

    def master_label(self, svc):
        m = re.search(r'^iframe_auth_redis_master_info\{host="([^"]*)",'
                      r'port="(\d+)"\} 1$', self.metrics(svc), re.M)
        return m and (m.group(1), int(m.group(2)))

    # --- start-up -------------------------------------------------------

    def test_01_startup_first_sentinel_dead(self):
        # A black hole first: it accepts connections and never answers,
        # so only the per-sentinel timeout gets past it.
        hole = socket.socket()
        hole.bind(("127.0.0.1", 0))
        hole.listen(16)
        try:
            sentinels = "127.0.0.1:%d,%s" % (hole.getsockname()[1],
                                             self.topo.addresses())
            started = time.monotonic()
            svc = self.service(sentinels=sentinels)
            self.assertLess(time.monotonic() - started,
                            TIMEOUT_MS / 1000 + 5)
            status, sid = self.create(svc)
            self.assertEqual(status, 200)
            self.assertEqual(self.validate(svc, sid)[0], 200)
            port = self.topo.master_port()
            self.assertEqual(self.master_label(svc), ("127.0.0.1", port))
            self.assertIn("iframe_auth_redis_master_switches_total 0",
                          self.metrics(svc))
            # The master's address only to a caller with the key.
            body = svc.get("/auth/redis-health", headers=AUTH).json()
            self.assertEqual(body["master"], "127.0.0.1:%d" % port)
            body = svc.get("/auth/redis-health").json()
            self.assertEqual(body["status"], "healthy")
            self.assertNotIn("master", body)
            self.assertNotIn(str(port), svc.get("/auth/redis-health").body
                             .decode())
            # The answering sentinel moved to the front: a reconnect does
            # not wait for the black hole again.
            self.topo.master().call("CLIENT", "KILL", "TYPE", "normal")
            started = time.monotonic()
            self.assertTrue(wait_until(
                lambda: self.create(svc)[0] == 200, 5, 0.01))
            self.assertLess(time.monotonic() - started, TIMEOUT_MS / 1000)
        finally:
            hole.close()

    # --- failovers under load ------------------------------------------

    def check_load(self, results, trouble_from, switch_at, bound):
        """Every answer is 200, 401 or 503 (creates 200 or 503); 503s and
        401s only from trouble_from to the recovery; 200s again within
        bound seconds of switch_at, and nothing but 200 after that."""
        self.assertTrue(results)
        recovered_by = switch_at + bound
        for sent, done, kind, status in results:
            allowed = {200, 503} if kind == "create" else {200, 401, 503}
            self.assertIn(status, allowed, (kind, sent - trouble_from))
            if status != 200:
                self.assertGreaterEqual(sent, trouble_from - 0.05,
                                        "%s %d before the switch" %
                                        (kind, status))
                self.assertLessEqual(done, recovered_by,
                                     "%s %d %.2f s after the switch" %
                                     (kind, status, done - switch_at))
        after = [r for r in results if r[0] > recovered_by]
        self.assertTrue(after, "the load did not run past the recovery")
        self.assertTrue(all(r[3] == 200 for r in after))
        back = [r for r in results if r[0] >= switch_at and r[3] == 200
                and r[1] <= recovered_by]
        self.assertTrue(back, "no 200 within %.1f s of the switch" % bound)
        errors = sum(1 for r in results if r[3] == 503)
        print("\n  requests=%d 503s=%d 401s=%d first 200 after the switch "
              "%.2f s after it" % (
                  len(results), errors,
                  sum(1 for r in results if r[3] == 401),
                  min(r[1] for r in back) - switch_at))

    def test_02_planned_failover_under_load(self):
        svc = self.service()
        old = self.topo.master_port()
        watch = SwitchWatch(self.topo.sentinels[0])
        with Load(svc) as load:
            time.sleep(1)
            trouble_from = time.monotonic()
            self.topo.failover()
            switch_at = watch.wait(20)
            self.assertIsNotNone(switch_at, "no +switch-master")
            time.sleep(5.5)
        self.check_load(load.results, trouble_from, switch_at, 5)
        new = self.topo.master_port()
        self.assertNotEqual(new, old)
        self.assertEqual(self.master_label(svc), ("127.0.0.1", new))
        self.assertIn("iframe_auth_redis_master_switches_total 1",
                      self.metrics(svc))
        self.assertEqual(svc.proc.poll(), None)

    def test_03_sigkill_primary_under_load(self):
        svc = self.service()
        old = self.topo.master_port()
        with Load(svc) as load:
            time.sleep(1)
            killed_at = time.monotonic()
            self.topo.master().kill()
            self.assertTrue(wait_until(
                lambda: (self.master_label(svc) or (0, old))[1] != old,
                DOWN_AFTER_MS / 1000 + 10, 0.1))
            time.sleep(max(0, killed_at + DOWN_AFTER_MS / 1000 + 5.5 -
                           time.monotonic()))
        # Measured from the kill: the sentinels need down-after to
        # notice, then they agree and promote.
        self.check_load(load.results, killed_at, killed_at,
                        DOWN_AFTER_MS / 1000 + 5)
        self.assertIn("iframe_auth_redis_master_switches_total 1",
                      self.metrics(svc))

    # --- REDIS_MIN_REPLICAS ---------------------------------------------

    def test_04_min_replicas_across_failover(self):
        """One failover, two services validating through it at once: with
        REDIS_MIN_REPLICAS=1 every session that got 200 before it is
        already_used after it; with 0, how many come back unused is
        printed, not checked."""
        sets = {1: 900, 0: 900}
        svcs = {n: self.service({"REDIS_MIN_REPLICAS": str(n)}) for n in sets}
        ids = {n: [] for n in sets}
        for n, count in sets.items():
            for _ in range(count):
                status, sid = self.create(svcs[n])
                self.assertEqual(status, 200)
                ids[n].append(sid)
        # The creates are on the replica before anything starts.
        self.assertEqual(self.topo.master().call("WAIT", "1", "5000"), 1)
        validated = {n: [] for n in sets}
        lock = threading.Lock()
        halfway = {n: threading.Event() for n in sets}

        # Paced, so that both sets are still being validated when the
        # failover happens, whichever service is faster.
        def run(n, indexes):
            for i in indexes:
                if i == sets[n] // 2:
                    halfway[n].set()
                status, _ = self.validate(svcs[n], ids[n][i])
                if status == 200:
                    with lock:
                        validated[n].append(ids[n][i])
                time.sleep(0.01)
        threads = []
        for n in sets:
            indexes = iter(range(sets[n]))
            threads += [threading.Thread(target=run, args=(n, indexes))
                        for _ in range(3)]
        watch = SwitchWatch(self.topo.sentinels[0])
        for t in threads:
            t.start()
        for event in halfway.values():
            self.assertTrue(event.wait(30))
        self.topo.failover()
        for t in threads:
            t.join(60)
        self.assertIsNotNone(watch.wait(20), "no +switch-master")
        new = self.topo.master_port()
        unused = {}
        for n, svc in svcs.items():
            self.assertTrue(wait_until(
                lambda: self.master_label(svc) == ("127.0.0.1", new), 10,
                0.1))
            self.assertTrue(wait_until(lambda: self.create(svc)[0] == 200,
                                       10))
            unused[n] = 0
            for sid in validated[n]:
                status, body = self.validate(svc, sid)
                unused[n] += status == 200
                if n > 0:
                    self.assertEqual((status, body.get("reason")),
                                     (401, "already_used"), sid[:8])
        self.assertGreaterEqual(len(validated[1]), 500)
        self.assertIn("iframe_auth_redis_wait_replicas 1",
                      self.metrics(svcs[1]))
        print("\n  REDIS_MIN_REPLICAS=1: %d sessions validated before the "
              "failover, all already_used after it" % len(validated[1]))
        print("  REDIS_MIN_REPLICAS=0: %d sessions validated, %d came back "
              "unused after the failover" % (len(validated[0]), unused[0]))

    def test_05_min_replicas_without_replica_is_503(self):
        """validate, revoke, logout and revoke-all: 503 while the replica
        is stopped, the writes done on the master all the same."""
        svc = self.service({"REDIS_MIN_REPLICAS": "1"})
        status, sid = self.create(svc)
        self.assertEqual(status, 200)
        status, other = self.create(svc)
        self.assertEqual(status, 200)
        # An embed session, opened while the replica acknowledges.
        status, sid3 = self.create(svc)
        status, body = self.validate(svc, sid3)
        self.assertEqual(status, 200, body)
        bearer = {"Authorization": "Bearer " + body["embed_token"]}
        # A replica that acknowledges nothing, for less than the
        # sentinels' down-after.
        replica = self.topo.replica()
        replica.proc.send_signal(signal.SIGSTOP)
        try:
            started = time.monotonic()
            r = svc.request("POST", "/auth/validate-session?session_id=" +
                            sid, headers=AUTH)
            took = time.monotonic() - started
            # Admin revoke and logout wait too.
            r2 = svc.request("DELETE", "/auth/sessions/" + other,
                             headers=AUTH)
            r3 = svc.request("POST", "/auth/logout", headers=bearer)
            r4 = svc.request("DELETE", "/auth/users/u-wait/sessions",
                             headers=AUTH)
        finally:
            replica.proc.send_signal(signal.SIGCONT)
        # What follows waits for the replica again: let it catch up first,
        # however slowly a loaded machine schedules it.
        self.assertTrue(self.topo.wait_replica_acknowledges(10))
        self.assertEqual(r.status, 503, r.body)
        self.assertLess(took, TIMEOUT_MS / 1000 + 0.5)
        self.assertEqual(r2.status, 503, r2.body)
        self.assertEqual(r3.status, 503, r3.body)
        self.assertEqual(r4.status, 503, r4.body)
        # A logout's 503 keeps the cookie, so that it can be sent again.
        self.assertIsNone(r3.header("set-cookie"))
        self.assertIn("iframe_auth_redis_wait_replicas 0", self.metrics(svc))
        self.assertIn("write not acknowledged by enough replicas",
                      svc.logs())
        # Both writes did happen on the master: a 503 says "maybe".
        self.assertEqual(self.validate(svc, sid)[1].get("reason"),
                         "already_used")
        r = svc.request("DELETE", "/auth/sessions/" + other, headers=AUTH)
        self.assertEqual(r.status, 404)
        r = svc.request("DELETE", "/auth/users/u-wait/sessions", headers=AUTH)
        self.assertEqual((r.status, r.json()["generation"]), (200, 2))
        self.assertEqual(svc.request("GET", "/auth/verify",
                                     headers=bearer).status, 401)
        self.assertIn('iframe_auth_logouts_total{result="ended"} 0\n',
                      self.metrics(svc))
        status, sid = self.create(svc)
        self.assertEqual(self.validate(svc, sid)[0], 200)
        self.assertIn("iframe_auth_redis_wait_replicas 1", self.metrics(svc))

    # --- a demoted primary ---------------------------------------------

    def test_05_a_batch_at_the_pending_cap_counts_its_wait(self):
        """REDIS_MAX_PENDING 16 with REDIS_MIN_REPLICAS 1: of 16
        validations read in one turn, 15 go in one call with its WAIT
        (16 in all) and one is turned away alone, its session unused; 15
        sent again after NOSCRIPT keep their room."""
        svc = self.service({"REDIS_MIN_REPLICAS": "1",
                            "REDIS_MAX_PENDING": "16"})
        sids = [self.create(svc)[1] for _ in range(16 + 15)]
        master = self.topo.master()
        self.assertEqual(master.call("WAIT", "1", "5000"), 1)

        def validate_in_one_turn(sids):
            return one_turn(svc, [
                b"POST /auth/validate-session?session_id=%s HTTP/1.1\r\n"
                b"Host: x\r\nAuthorization: Bearer %s\r\nContent-Length: 0\r\n\r\n"
                % (sid.encode(), API_KEY.encode()) for sid in sids])
        answers = validate_in_one_turn(sids[:16])
        self.assertEqual(sorted(status for status, _ in answers), [200] * 15 + [503],
                         answers)
        for sid, (status, _) in zip(sids, answers):
            record = master.call("GET", "auth_session:" + sid)
            self.assertIn('"used":%s' % ("true" if status == 200 else "false"), record)
        # Redis forgot the script: the call that was let in is sent again
        # whole, with the room it had, while its first WAIT still counts.
        master.call("SCRIPT", "FLUSH")
        answers = validate_in_one_turn(sids[16:])
        self.assertEqual([status for status, _ in answers], [200] * 15, answers)
        self.assertIn("script missing in redis", svc.logs())

    def test_06_demoted_primary_readonly_moves_the_link(self):
        svc = self.service()
        old, new = self.topo.master(), self.topo.replica()
        # Swap the roles behind the sentinels' back: they still name the
        # old primary, which now answers writes with READONLY.
        new.call("REPLICAOF", "NO", "ONE")
        old.call("REPLICAOF", "127.0.0.1", str(new.port))
        status, _ = self.create(svc)
        self.assertEqual(status, 503)
        self.assertTrue(wait_until(
            lambda: "ROLE says slave" in svc.logs(), 5))
        self.assertIn('reason="READONLY reply"', svc.logs())
        self.assertEqual(self.create(svc)[0], 503)
        # The operator points the sentinels at the new primary: all forget
        # the old one first, or one still watching it would tell the others
        # of it, with the config epoch of the earlier failovers, higher
        # than a new watch's, and they would all go back to it.
        for s in self.topo.sentinels:
            s.call("SENTINEL", "REMOVE", MASTER)
        for s in self.topo.sentinels:
            s.call("SENTINEL", "MONITOR", MASTER, "127.0.0.1",
                   str(new.port), "2")
            s.call("SENTINEL", "SET", MASTER, "down-after-milliseconds",
                   str(DOWN_AFTER_MS), "failover-timeout", "4000")
        # The backoff is at most 2 s; the rest is a busy machine's margin.
        self.assertTrue(wait_until(lambda: self.create(svc)[0] == 200,
                                   2 + 8, 0.05),
                        (self.topo.master_port(), new.port,
                         new.call("ROLE")[0], svc.logs()[-2000:]))
        self.assertEqual(self.master_label(svc), ("127.0.0.1", new.port))

    # --- two instances ---------------------------------------------------

    def test_07_two_instances_share_one_redis(self):
        a, b = self.service(), self.service()
        status, sid = self.create(a)
        self.assertEqual(status, 200)
        self.assertEqual(self.validate(b, sid)[0], 200)
        self.assertEqual(self.validate(a, sid)[1]["reason"], "already_used")
        ids = [self.create(a if i % 2 else b)[1] for i in range(40)]
        outcomes = {sid: [] for sid in ids}
        lock = threading.Lock()

        def one(svc, sid):
            status, _ = self.validate(svc, sid)
            with lock:
                outcomes[sid].append(status)
        threads = [threading.Thread(target=one, args=(svc, sid))
                   for sid in ids for svc in (a, b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        for sid, got in outcomes.items():
            self.assertEqual(sorted(got), [200, 401], sid[:8])

    # --- nothing answers -------------------------------------------------

    def test_08_no_such_master(self):
        svc = self.service({"REDIS_SENTINEL_MASTER": "nosuchmaster"},
                           wait_up=False)
        self.assertTrue(wait_until(
            lambda: "the sentinels know no such master" in svc.logs(), 5))
        r = svc.request("POST", "/auth/create-session", headers=AUTH)
        self.assertEqual(r.status, 503)
        self.assertEqual(r.header("retry-after"), "1")
        self.assertIn('reason="the sentinels know no such master"',
                      svc.logs())
        self.assertNotIn("no sentinel answered", svc.logs())

    def test_08_wrong_sentinel_password(self):
        wrong = "wrong-pass-123"
        svc = self.service({"REDIS_SENTINEL_PASSWORD": wrong},
                           wait_up=False)
        self.assertTrue(wait_until(
            lambda: 'reason="no sentinel answered (last' in svc.logs(), 5))
        self.assertRegex(svc.logs(), r'reason="no sentinel answered \(last '
                         r'127\.0\.0\.1:\d+: AUTH refused: WRONGPASS\)"')
        self.assertEqual(self.create(svc)[0], 503)
        self.assertNotIn(wrong, svc.logs())

    def test_09_every_sentinel_down_then_back(self):
        for s in self.topo.sentinels:
            s.kill()
        try:
            svc = self.service(wait_up=False)
            self.assertTrue(wait_until(
                lambda: 'reason="no sentinel answered (last 127.0.0.1:'
                in svc.logs(), 5))
            r = svc.request("POST", "/auth/create-session", headers=AUTH)
            self.assertEqual(r.status, 503)
            self.assertNotIn("no such master", svc.logs())
        finally:
            for s in self.topo.sentinels:
                s.start()
        # The backoff is at most 2 s; the rest is a busy machine's margin.
        self.assertTrue(wait_until(lambda: self.create(svc)[0] == 200,
                                   2 + 8, 0.05), svc.logs()[-3000:])


if __name__ == "__main__":
    unittest.main(verbosity=2)
