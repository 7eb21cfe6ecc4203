"""A private nginx running deploy/nginx/iframe-auth.conf, the site a
production install uses, changed only in its listen port, its two upstream
ports and its certificate paths.  TLS with a throwaway certificate made by
the openssl CLI, so that the site's `listen 443 ssl` stays as it is.

The tests use Nginx, App (scripts/demo_app.py) and NginxServiceTest;
scripts/demo.sh runs this file:

    python3 tests/integration/nginx.py DIR LISTEN_PORT SERVICE_PORT APP_PORT

which writes DIR/site.conf, DIR/nginx.conf and a certificate, prints the
certificate's SPKI hash, and runs nginx in the foreground.
"""

import base64
import hashlib
import html
import http.client
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys

from harness import REPO, ServiceTest, _die_with_parent, free_port, wait_until

SITE = os.path.join(REPO, "deploy", "nginx", "iframe-auth.conf")
NGINX = os.environ.get("NGINX", "/usr/sbin/nginx")
APP_SCRIPT = os.path.join(REPO, "scripts", "demo_app.py")
COOKIE = "__Host-iframe-auth"

# The literals of the site that a private run replaces, each of which must
# appear exactly once: a change to the site that breaks this fails loudly.
LISTEN = "listen 443 ssl;"
SERVICE_UPSTREAM = "server 127.0.0.1:8000;"
APP_UPSTREAM = "server 127.0.0.1:8080;"
CERT = "/etc/ssl/certs/iframe-auth.crt;"
KEY = "/etc/ssl/private/iframe-auth.key;"

MAIN_CONF = """worker_processes 1;
events {{ worker_connections 256; }}
http {{
	access_log {dir}/access.log;
	client_body_temp_path {dir}/client_body;
	proxy_temp_path {dir}/proxy;
	fastcgi_temp_path {dir}/fastcgi;
	uwsgi_temp_path {dir}/uwsgi;
	scgi_temp_path {dir}/scgi;
	include {dir}/site.conf;
}}
"""


def render_site(listen_port, service_port, app_port, cert, key):
    """The site's text with loopback ports and the given certificate."""
    with open(SITE) as f:
        text = f.read()
    for literal, value in ((LISTEN, "listen 127.0.0.1:%d ssl;" % listen_port),
                           (SERVICE_UPSTREAM, "server 127.0.0.1:%d;" % service_port),
                           (APP_UPSTREAM, "server 127.0.0.1:%d;" % app_port),
                           (CERT, cert + ";"), (KEY, key + ";")):
        count = text.count(literal)
        if count != 1:
            raise ValueError("%s: %r appears %d times, not once" % (SITE, literal, count))
        text = text.replace(literal, value)
    return text


def make_certificate(directory):
    """A self-signed certificate for 127.0.0.1 and localhost, valid for a
    day; returns (cert path, key path, base64 SHA-256 of its public key),
    the hash being what Chromium's --ignore-certificate-errors-spki-list
    takes to trust this one certificate and no other."""
    cert = os.path.join(directory, "tls.crt")
    key = os.path.join(directory, "tls.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                    "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                    "-keyout", key, "-out", cert],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    pub = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-pubkey"],
                         check=True, capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"],
                         input=pub, check=True, capture_output=True).stdout
    return cert, key, base64.b64encode(hashlib.sha256(der).digest()).decode()


def write_config(directory, listen_port, service_port, app_port):
    """Writes the certificate, site.conf and nginx.conf into directory;
    returns (nginx.conf path, SPKI hash)."""
    cert, key, spki = make_certificate(directory)
    with open(os.path.join(directory, "site.conf"), "w") as f:
        f.write(render_site(listen_port, service_port, app_port, cert, key))
    conf = os.path.join(directory, "nginx.conf")
    with open(conf, "w") as f:
        f.write(MAIN_CONF.format(dir=directory))
    return conf, spki


def listening(proc, port, errors=lambda: ""):
    """Whether proc, still running, accepts connections on port."""
    if proc.poll() is not None:
        raise RuntimeError("%s exited:\n%s" % (proc.args[0], errors()))
    try:
        socket.create_connection(("127.0.0.1", port), 1).close()
        return True
    except OSError:
        return False


def command(directory, conf):
    """nginx in the foreground, with every file it writes in directory."""
    return [NGINX, "-p", directory, "-e", os.path.join(directory, "error.log"),
            "-c", conf, "-g", "daemon off; pid %s/nginx.pid;" % directory]


class PortTaken(Exception):
    """nginx's port was taken by another process."""


class Nginx:
    """A private nginx for one test, on a free port, stopped by stop()."""

    def __init__(self, directory, listen_port, service_port, app_port):
        os.makedirs(directory, exist_ok=True)
        self.directory = directory
        self.port = listen_port
        self.conf, self.spki = write_config(directory, listen_port, service_port, app_port)
        self.proc = None

    def start(self, timeout=10):
        """Starts nginx; PortTaken when another process has its port (a
        free_port() race with a parallel test), so that the caller can
        try another."""
        self.proc = subprocess.Popen(command(self.directory, self.conf),
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.STDOUT,
                                     preexec_fn=_die_with_parent)

        # nginx writes its pid file only once it has bound its port: a
        # connection accepted before that is another process's.
        pid_file = os.path.join(self.directory, "nginx.pid")

        def ready():
            if "Address already in use" in self.errors():
                raise PortTaken(self.port)
            return os.path.exists(pid_file) and listening(self.proc, self.port, self.errors)
        try:
            started = wait_until(ready, timeout)
        except PortTaken:
            self.stop()
            raise
        if not started:
            raise RuntimeError("nginx did not start:\n" + self.errors())
        return self

    def origin(self):
        return "https://127.0.0.1:%d" % self.port

    def errors(self):
        try:
            with open(os.path.join(self.directory, "error.log")) as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        """SIGQUIT (graceful), SIGKILL if that takes too long."""
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGQUIT)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


class App:
    """scripts/demo_app.py: echoes the X-Auth-User it receives."""

    def __init__(self):
        self.port = free_port()
        self.proc = subprocess.Popen([sys.executable, APP_SCRIPT, str(self.port)],
                                     preexec_fn=_die_with_parent)
        if not wait_until(lambda: listening(self.proc, self.port), 10):
            raise RuntimeError("the app did not start")

    def stop(self):
        self.proc.kill()
        self.proc.wait()


class NginxServiceTest(ServiceTest):
    """A service, the app and nginx, started by stack() in each test."""

    def setUp(self):
        super().setUp()
        self.app = None
        self.nginx = None

    def tearDown(self):
        if self.nginx:
            self.nginx.stop()
        if self.app:
            self.app.stop()
        super().tearDown()

    def stack(self, env=None):
        self.svc = self.service(env)
        self.assertTrue(self.wait_healthy(self.svc))
        self.app = App()
        self.nginx = self.start_nginx(free_port)
        self.tls = ssl.create_default_context(cafile=os.path.join(self.nginx.directory, "tls.crt"))

    def start_nginx(self, port, attempts=3):
        """nginx on port(), another one each time one is taken; port() may
        start the service (self.svc) that nginx is to proxy."""
        for attempt in range(attempts):
            directory = os.path.join(self.workdir, "nginx-%d" % attempt)
            try:
                return Nginx(directory, port(), self.svc.port, self.app.port).start()
            except PortTaken:
                if attempt == attempts - 1:
                    raise

    def via_nginx(self, method, path, headers=None, body=None, timeout=15):
        conn = http.client.HTTPSConnection("127.0.0.1", self.nginx.port,
                                           context=self.tls, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read().decode()
        finally:
            conn.close()

    def app_user(self, headers):
        """The user the app saw, after nginx and /auth/verify."""
        status, h, body = self.via_nginx("GET", "/app/", headers)
        self.assertEqual(status, 200, body)
        user = re.search(r'<p id="user" data-user="([^"]*)"', body)
        metadata = re.search(r'<pre id="metadata"[^>]*>([^<]*)</pre>', body)
        self.assertTrue(user and metadata, body)
        return html.unescape(user.group(1)), html.unescape(metadata.group(1))

    def redeem(self, user_id="alice", metadata=None):
        """Creates and validates a session on the service; the embed token."""
        body = {"user_id": user_id} if user_id else {}
        if metadata is not None:
            body["metadata"] = metadata
        r = self.svc.request("POST", "/auth/create-session", body=json.dumps(body))
        self.assertEqual(r.status, 200, r.body)
        sid = r.json()["session_id"]
        r = self.svc.request("POST", "/auth/validate-session",
                             body=json.dumps({"session_id": sid}))
        answer = self.assertJsonResponse(r, 200)
        return answer["embed_token"]

def main(argv):
    if len(argv) != 5:
        sys.exit(__doc__)
    directory = os.path.abspath(argv[1])
    os.makedirs(directory, exist_ok=True)
    conf, spki = write_config(directory, *(int(a) for a in argv[2:]))
    check = subprocess.run(command(directory, conf) + ["-t", "-q"])
    if check.returncode != 0:
        sys.exit(check.returncode)
    print(spki, flush=True)
    os.execv(NGINX, command(directory, conf))


if __name__ == "__main__":
    main(sys.argv)
