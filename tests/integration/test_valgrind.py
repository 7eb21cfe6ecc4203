"""The service binary under valgrind: smoke requests over every route,
then SIGTERM; valgrind's --error-exitcode turns any memory error or
definite leak into a non-zero exit, which the harness checks."""

import json
import os
import shutil
import signal
import socket
import struct
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(__file__))
from fake_redis import FakeRedis  # noqa: E402
from harness import STATIC_DIR, ServiceTest, main, wait_until  # noqa: E402

VALGRIND = ["valgrind", "--error-exitcode=99", "--leak-check=full",
            "--errors-for-leak-kinds=definite", "--show-leak-kinds=definite",
            "--track-fds=no", "--quiet"]


class Valgrind(ServiceTest):
    def test_smoke_then_sigterm(self):
        # Under valgrind the service runs many times slower: deadlines
        # with room, so that this run is about memory, not timing.
        svc = self.service({"API_KEY": "k", "REDIS_TIMEOUT_MS": "5000"},
                           start=False)
        svc.wrapper = VALGRIND
        svc.start(timeout=60)
        auth = {"Authorization": "Bearer k"}
        self.assertTrue(self.wait_healthy(svc, 30))
        r = svc.request("POST", "/auth/create-session", headers=auth,
                        body=json.dumps({"user_id": "v", "metadata": {"a": [1]}}))
        self.assertEqual(r.status, 200)
        sid = r.json()["session_id"]
        self.assertEqual(svc.get("/client/iframe.html?session_id=" + sid).status, 200)
        r = svc.request("POST", "/auth/validate-session?session_id=" + sid)
        self.assertEqual(r.status, 200)
        bearer = {"Authorization": "Bearer " + r.json()["embed_token"]}
        self.assertEqual(svc.get("/auth/verify", headers=bearer).status, 200)
        self.assertEqual(svc.get("/auth/verify").status, 401)
        self.assertEqual(svc.request("POST", "/auth/logout", headers=bearer).status, 204)
        self.assertEqual(svc.get("/auth/verify", headers=bearer).status, 401)
        self.assertEqual(svc.request("POST", "/auth/validate-session?session_id=" + sid).status, 401)
        self.assertEqual(svc.request("POST", "/auth/validate-session?session_id=" + str(uuid.uuid4())).status, 401)
        self.assertEqual(svc.request("POST", "/auth/validate-session?session_id=bad").status, 400)
        self.assertEqual(svc.request("POST", "/auth/create-session", body="{bad").status, 401)
        self.assertEqual(svc.request("POST", "/auth/create-session", headers=auth, body="{bad").status, 400)
        self.assertEqual(svc.get("/auth/session-status", headers=auth).status, 200)
        self.assertEqual(svc.get("/auth/sessions?count=10", headers=auth).status, 200)
        self.assertEqual(svc.request("DELETE", "/auth/sessions/" + sid, headers=auth).status, 204)
        self.assertEqual(svc.get("/metrics").status, 200)
        self.assertEqual(svc.get("/nope").status, 404)
        self.assertEqual(svc.request("PUT", "/healthz").status, 405)
        self.assertEqual(svc.request("HEAD", "/client/iframe.css").status, 200)
        # Redis going away and coming back, under valgrind too.
        self.redis.kill()
        self.assertEqual(svc.get("/auth/redis-health").status, 503)
        self.redis.start()
        self.assertTrue(self.wait_healthy(svc, 30))
        # tearDown sends SIGTERM and requires exit status 0.

    def test_late_replies_and_a_wrong_node(self):
        # A reply that comes after its caller's deadline is read and
        # ignored; a READONLY drops and reopens the link; and the link is
        # destroyed at exit with a timed-out command still on the wire.
        fake = FakeRedis("ok")
        svc = self.service({"REDIS_PORT": str(fake.port),
                            "REDIS_TIMEOUT_MS": "3000"}, start=False)
        svc.wrapper = VALGRIND
        svc.start(timeout=60)
        self.assertTrue(self.wait_healthy(svc, 30))
        fake.delays[b"PING"] = [4.0]
        self.assertEqual(svc.get("/auth/redis-health").status, 503)
        time.sleep(1.5)
        self.assertTrue(self.wait_healthy(svc, 10))
        fake.mode = "error:READONLY You can't write against a read only replica."
        self.assertEqual(svc.get("/auth/redis-health").status, 503)
        fake.mode = "ok"
        self.assertTrue(self.wait_healthy(svc, 30))
        self.assertEqual(fake.handshakes, 2)
        fake.delays[b"PING"] = [30.0]
        self.assertEqual(svc.get("/auth/redis-health").status, 503)
        self.assertEqual(svc.stop(), 0)
        fake.close()

    def test_commands_waiting_at_a_silence_drop(self):
        # A frozen Redis: the link drops after two deadlines (4 s) and a
        # health check sent just before stays on the old connection,
        # which is let go at that check's deadline, then at its reply
        # (Redis woken after the drop), then at exit (two SIGTERMs).
        svc = self.service({"REDIS_TIMEOUT_MS": "2000"}, start=False)
        svc.wrapper = VALGRIND
        svc.start(timeout=60)
        self.assertTrue(self.wait_healthy(svc, 30))

        def up():
            for line in svc.get("/metrics").body.decode().splitlines():
                if line.startswith("iframe_auth_redis_up "):
                    return line.endswith(" 1")
            return None

        for end in ("deadline", "reply", "exit"):
            answers = {}

            def ask(name):
                try:
                    answers[name] = svc.get("/auth/redis-health",
                                            timeout=30).status
                except OSError:
                    answers[name] = None
            self.redis.stop()
            try:
                started = time.monotonic()
                first = threading.Thread(target=ask, args=("first",))
                first.start()
                time.sleep(started + 3.5 - time.monotonic())
                late = threading.Thread(target=ask, args=("late",))
                late.start()
                self.assertTrue(wait_until(lambda: up() is False, 10, 0.01))
                if end == "exit":
                    # The second only once the first is heard: two
                    # pending SIGTERMs are one signal.
                    svc.proc.send_signal(signal.SIGTERM)
                    self.assertTrue(wait_until(
                        lambda: "stopping signal" in svc.logs(), 30, 0.01))
                    svc.proc.send_signal(signal.SIGTERM)
                    self.assertEqual(svc.stop(), 0)
                elif end == "deadline":
                    late.join(30)
            finally:
                self.redis.cont()
            first.join(30)
            late.join(30)
            self.assertEqual(answers["first"], 503)
            if end == "exit":
                self.assertIn("second signal", svc.logs())
                break
            self.assertEqual(answers["late"],
                             200 if end == "reply" else 503, end)
            self.assertTrue(self.wait_healthy(svc, 30))

    def test_connections_closed_for_room_and_by_resets(self):
        static = os.path.join(self.workdir, "static")
        shutil.copytree(STATIC_DIR, static)
        with open(os.path.join(static, "big.txt"), "wb") as f:
            f.write(b"x" * (4 << 20))
        svc = self.service({"MAX_CONNECTIONS": "3", "STATIC_DIR": static,
                            "HTTP_IDLE_TIMEOUT_SECONDS": "120"}, start=False)
        svc.wrapper = VALGRIND
        svc.start(timeout=60)
        held = []

        def connect():
            sock = socket.create_connection(("127.0.0.1", svc.port), timeout=30)
            self.addCleanup(sock.close)
            held.append(sock)
            return sock
        # Five idle keep-alives through a cap of three: the service closes
        # the connections idle the longest to make room.
        for _ in range(5):
            connect().sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertIn(b"200 OK", held[-1].recv(4096))
        self.assertEqual(held[0].recv(4096), b"")
        # A reply cut short by the client's reset.
        sock = socket.socket()
        self.addCleanup(sock.close)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.settimeout(30)
        sock.connect(("127.0.0.1", svc.port))
        sock.sendall(b"GET /big.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertIn(b"200 OK", sock.recv(4096))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
        self.assertEqual(svc.get("/healthz", timeout=30).status, 200)
        # tearDown: SIGTERM with kept-alive connections still open, and
        # exit status 0 (valgrind's 99 on any error or leak).


if __name__ == "__main__":
    main()
