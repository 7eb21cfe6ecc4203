"""Readiness under a service manager: sd_notify to a datagram socket that
the test owns, as systemd's NOTIFY_SOCKET would be (Type=notify)."""

import os
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import ServiceTest, main  # noqa: E402

WATCHDOG_USEC = 400000  # the service pings every 200 ms
# Scheduling noise allowed on top of each expected interval.
MARGIN = 0.3


class NotifySocket:
    """The manager's end: one datagram per state change."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)

    def receive(self, timeout):
        """The next message and when it arrived, or None after timeout."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(4096)
        except socket.timeout:
            return None
        return data.decode(), time.monotonic()

    def close(self):
        self.sock.close()


class Notify(ServiceTest):
    def notify_socket(self):
        sock = NotifySocket(os.path.join(self.workdir, "notify.sock"))
        self.addCleanup(sock.close)
        return sock

    def receive_state(self, sock, state, timeout):
        """Skips to the next message holding state (a line such as
        READY=1); returns its arrival time, or fails."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            got = sock.receive(max(left, 0.01))
            self.assertIsNotNone(got, "no %s within %.1f s" % (state, timeout))
            if state in got[0].split("\n"):
                return got[1]

    def test_ready_once_listening_then_stopping_at_sigterm(self):
        sock = self.notify_socket()
        svc = self.service({"NOTIFY_SOCKET": sock.path}, start=False)
        svc.start(wait=False)
        self.receive_state(sock, "READY=1", 10)
        # READY=1 means the port already answers: no retry needed.
        self.assertEqual(svc.get("/healthz").status, 200)
        self.assertIsNone(sock.receive(0.3), "nothing else without a watchdog")
        svc.send_signal(signal.SIGTERM)
        self.receive_state(sock, "STOPPING=1", 5)
        self.assertEqual(svc.stop(), 0)

    def test_watchdog_at_half_its_period(self):
        sock = self.notify_socket()
        svc = self.service({"NOTIFY_SOCKET": sock.path,
                            "WATCHDOG_USEC": str(WATCHDOG_USEC)}, start=False)
        svc.start(wait=False)
        ready = self.receive_state(sock, "READY=1", 10)
        interval = WATCHDOG_USEC / 2 / 1e6
        pings = [ready]
        while len(pings) < 11:
            pings.append(self.receive_state(sock, "WATCHDOG=1",
                                            interval + MARGIN))
        # Each ping came within interval + MARGIN of the one before (the
        # receive timeout above), and on average at half the period: not
        # the whole period, not faster.  Single gaps are not compared, as
        # the test reads the socket with its own scheduling delays; over
        # ten gaps those shift the average by at most MARGIN / 10.
        gaps = [b - a for a, b in zip(pings[1:], pings[2:])]
        average = sum(gaps) / len(gaps)
        self.assertLess(abs(average - interval),
                        interval * 0.2 + MARGIN / len(gaps), gaps)
        svc.send_signal(signal.SIGTERM)
        self.receive_state(sock, "STOPPING=1", 5)

    def test_watchdog_of_another_process_is_not_ours(self):
        sock = self.notify_socket()
        svc = self.service({"NOTIFY_SOCKET": sock.path,
                            "WATCHDOG_USEC": str(WATCHDOG_USEC),
                            "WATCHDOG_PID": "1"}, start=False)
        svc.start(wait=False)
        self.receive_state(sock, "READY=1", 10)
        self.assertIsNone(sock.receive(WATCHDOG_USEC / 1e6 + MARGIN))

    def test_nothing_without_notify_socket(self):
        svc = self.service({"WATCHDOG_USEC": str(WATCHDOG_USEC)})
        self.assertEqual(svc.get("/healthz").status, 200)
        self.assertEqual(svc.stop(), 0)
        self.assertNotIn("watchdog on", svc.logs())


if __name__ == "__main__":
    main()
