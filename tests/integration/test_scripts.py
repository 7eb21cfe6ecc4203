"""scripts/run.sh and the Redis password: it never appears on a command
line (ps shows those to every user), the private config file that holds
it is mode 0600, and passwords with &, |, \\, quotes and spaces reach
Redis and the service intact."""

import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import (BIN, REPO, RedisClient, RespError, free_port,  # noqa: E402
                     main, wait_until)

# Each one breaks a naive quoting somewhere: sed's & and |, a shell's
# quotes and $, redis.conf's spaces and backslashes.
PASSWORDS = [
    "a&b|c\\d\"e'f g",
    "$(touch pwned) `x` \\\\\" ' ;|&",
    "-n",
]


def cmdlines():
    """Every process's command line that can be read, as bytes."""
    lines = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    lines.append(f.read().replace(b"\0", b" "))
            except OSError:
                pass
    return lines


class PasswordConf(unittest.TestCase):
    """scripts/redis_password_conf.sh, read back by a real redis-server."""

    def test_every_byte_survives(self):
        for password in PASSWORDS:
            with self.subTest(password=password), \
                    tempfile.TemporaryDirectory() as work:
                out = subprocess.run(
                    [os.path.join(REPO, "scripts", "redis_password_conf.sh")],
                    env={"PATH": os.environ["PATH"], "REDIS_PASSWORD": password},
                    capture_output=True, check=True).stdout
                self.assertNotIn(password.encode(), out)
                conf = os.path.join(work, "private.conf")
                with open(conf, "wb") as f:
                    f.write(out)
                port = free_port()
                redis = subprocess.Popen(
                    ["redis-server", conf, "--port", str(port), "--bind",
                     "127.0.0.1", "--save", "", "--dir", work],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                try:
                    def pong():
                        try:
                            c = RedisClient(port, password)
                            ok = c.call("PING") == "PONG"
                            c.close()
                            return ok
                        except (OSError, ConnectionError):
                            return False
                    self.assertTrue(wait_until(pong, 10), "AUTH failed")
                    with self.assertRaises(RespError):
                        RedisClient(port, password + "x")
                finally:
                    redis.kill()
                    redis.wait()


class RunScript(unittest.TestCase):
    """scripts/run.sh end to end, in a copy of the tree whose build
    directory is the one under test, with the password in config.env."""

    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="iframe-auth-run-")
        shutil.copytree(os.path.join(REPO, "scripts"),
                        os.path.join(self.root, "scripts"))
        os.symlink(os.path.dirname(BIN), os.path.join(self.root, "build"))
        os.symlink(os.path.join(REPO, "static"), os.path.join(self.root, "static"))
        self.proc = None

    def tearDown(self):
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        shutil.rmtree(self.root, ignore_errors=True)

    def test_password_stays_off_command_lines_and_survives(self):
        # Quoted in config.env as the service reads it: one pair of outer
        # quotes comes off, nothing inside is unescaped.
        password = "q\"u'o|t&e\\s and $HOME"
        with open(os.path.join(self.root, "config.env"), "w") as f:
            f.write("# the Redis password\nexport REDIS_PASSWORD = '%s'\n"
                    % password)
        port, redis_port = free_port(), free_port()
        env = {k: v for k, v in os.environ.items()
               if k in ("PATH", "HOME", "ASAN_OPTIONS", "UBSAN_OPTIONS",
                        "LSAN_OPTIONS")}
        env.update({"PORT": str(port), "REDIS_PORT": str(redis_port),
                    "LOG_LEVEL": "INFO"})
        log = open(os.path.join(self.root, "run.log"), "wb")
        self.proc = subprocess.Popen(
            ["bash", os.path.join(self.root, "scripts", "run.sh")],
            cwd=self.root, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)

        def healthy():
            try:
                r = subprocess.run(
                    ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                     "http://127.0.0.1:%d/auth/redis-health" % port],
                    capture_output=True, text=True, timeout=5)
                return r.stdout == "200"
            except subprocess.TimeoutExpired:
                return False
        ok = wait_until(healthy, 60, 0.2)
        with open(os.path.join(self.root, "run.log"), "rb") as f:
            output = f.read().decode(errors="replace")
        self.assertTrue(ok, output)
        # The service authenticated to the private Redis: both have the
        # password, and so does a client given it byte for byte.
        c = RedisClient(redis_port, password)
        self.assertEqual(c.call("PING"), "PONG")
        c.close()
        # No process shows it, in any part of its command line.
        for line in cmdlines():
            self.assertNotIn(password.encode(), line)
            self.assertNotIn(b"requirepass", line)
        conf = os.path.join(self.root, "var", "redis", "private.conf")
        self.assertEqual(stat.S_IMODE(os.stat(conf).st_mode), 0o600)
        self.assertNotIn(password, output)
        # Ctrl-C stops both.
        self.proc.send_signal(signal.SIGINT)
        self.assertEqual(self.proc.wait(15), 0)
        log.close()
        self.assertTrue(wait_until(lambda: not healthy(), 5))
        with self.assertRaises(OSError):
            RedisClient(redis_port, password, timeout=1)


if __name__ == "__main__":
    main()
