"""meson install, as a packager and an admin use it (SPEC §12): the files
land where they should, the installed binary runs on the installed files
alone from any directory, and the systemd unit passes systemd's own checks.
No root: everything goes under temporary directories."""

import json
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import REPO, ServiceTest, main  # noqa: E402

BUILD_ROOT = os.environ.get("IFRAME_AUTH_BUILD_ROOT", os.path.join(REPO, "build"))
MESON = os.environ.get("MESON", "meson")
MAX_EXPOSURE = 2.0


def run(args, **kw):
    """Runs a command; its output goes into the failure message."""
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, **kw)
    if p.returncode != 0:
        raise AssertionError("%s exited %d:\n%s%s" % (" ".join(args), p.returncode,
                                                      p.stdout, p.stderr))
    return p


def staged(destdir, path):
    """Where an absolute install path lands under DESTDIR."""
    return os.path.join(destdir, path.lstrip("/"))


def source_static_files():
    root = os.path.join(REPO, "static")
    for dirpath, _, names in os.walk(root):
        for name in names:
            yield os.path.relpath(os.path.join(dirpath, name), root)


def config_from_example(example, path, settings):
    """config.env as an admin makes it: the example with a few values
    changed."""
    with open(example) as f:
        text = f.read()
    for key, value in settings.items():
        text, n = re.subn(r"(?m)^#? ?%s=.*$" % key, "%s=%s" % (key, value), text)
        assert n == 1, key
    with open(path, "w") as f:
        f.write(text)


class Install(ServiceTest):
    def setUp(self):
        super().setUp()
        self.outside = os.path.join(self.workdir, "elsewhere")
        os.mkdir(self.outside)

    def install_staged(self):
        """meson install of the build under test into a DESTDIR; returns
        the DESTDIR and the install paths meson reports."""
        destdir = os.path.join(self.workdir, "destdir")
        run([MESON, "install", "-C", BUILD_ROOT, "--no-rebuild", "--quiet",
             "--destdir", destdir])
        installed = json.loads(run([MESON, "introspect", "--installed",
                                    BUILD_ROOT]).stdout)
        return destdir, {os.path.basename(src): dst for src, dst in installed.items()}

    def start_installed(self, binary, env=None, args=(), unset=()):
        """The installed binary, run from a directory that holds nothing of
        the project, with no STATIC_DIR unless env names one, and without
        the variables in unset."""
        svc = self.service(start=False)
        svc.bin = binary
        svc.workdir = self.outside
        for key in ("STATIC_DIR",) + tuple(unset):
            del svc.env[key]
        svc.env.update(env or {})
        svc.start(args)
        return svc

    def assert_serves(self, svc):
        r = svc.get("/client/iframe.html")
        self.assertEqual(r.status, 200, r.body)
        self.assertTrue(r.header("content-type").startswith("text/html"))
        with open(os.path.join(REPO, "static", "client", "iframe.html"), "rb") as f:
            self.assertEqual(r.body, f.read())
        self.assertEqual(svc.get("/healthz").status, 200)
        self.assertTrue(self.wait_healthy(svc), svc.logs())

    def test_destdir_install_has_every_file_and_runs_on_them_alone(self):
        destdir, installed = self.install_staged()
        binary = staged(destdir, installed["iframe-auth"])
        static_dir = installed["static"]
        config_dir = os.path.dirname(installed["config.env.example"])
        prefix = os.path.dirname(os.path.dirname(installed["iframe-auth"]))
        self.assertTrue(static_dir.endswith("/iframe-auth/static"), static_dir)
        self.assertTrue(static_dir.startswith(prefix + "/"), static_dir)
        self.assertTrue(config_dir.endswith("/iframe-auth"), config_dir)
        self.assertTrue(os.access(binary, os.X_OK))
        for rel in source_static_files():
            with open(os.path.join(REPO, "static", rel), "rb") as a, \
                    open(staged(destdir, os.path.join(static_dir, rel)), "rb") as b:
                self.assertEqual(a.read(), b.read(), rel)
        self.assertTrue(os.path.isfile(staged(destdir, installed["iframe-auth.service"])))
        site = os.path.join(os.path.dirname(static_dir), "nginx", "iframe-auth.conf")
        with open(os.path.join(REPO, "deploy", "nginx", "iframe-auth.conf"), "rb") as a, \
                open(staged(destdir, site), "rb") as b:
            self.assertEqual(a.read(), b.read(), site)

        # The binary's defaults are the install locations.
        help_text = run([binary, "--help"], cwd=self.outside).stdout
        self.assertRegex(help_text, r"STATIC_DIR +%s " % re.escape(static_dir))
        self.assertIn(os.path.join(config_dir, "config.env"), help_text)

        # Staged, those locations are under DESTDIR: name them.
        config = os.path.join(staged(destdir, config_dir), "config.env")
        config_from_example(staged(destdir, installed["config.env.example"]), config,
                            {"REDIS_PORT": self.redis.port, "REDIS_HOST": "127.0.0.1"})
        svc = self.start_installed(binary, {"STATIC_DIR": staged(destdir, static_dir)},
                                   ["--config", config])
        self.assert_serves(svc)

    def test_prefix_install_finds_its_files_by_default(self):
        """A build configured for a prefix under the temp dir, installed
        there: no STATIC_DIR, no --config, and the config file it reads
        by default names the Redis."""
        build = os.path.join(self.workdir, "build")
        prefix = os.path.join(self.workdir, "prefix")
        run([MESON, "setup", build, REPO, "--prefix", prefix,
             "-Dsystemdsystemunitdir=" + os.path.join(prefix, "lib/systemd/system")])
        run(["ninja", "-C", build, "iframe-auth"])
        run([MESON, "install", "-C", build, "--no-rebuild", "--quiet"])
        config_dir = os.path.join(prefix, "etc", "iframe-auth")
        config_from_example(os.path.join(config_dir, "config.env.example"),
                            os.path.join(config_dir, "config.env"),
                            {"REDIS_PORT": self.redis.port, "REDIS_HOST": "127.0.0.1"})
        svc = self.start_installed(os.path.join(prefix, "bin", "iframe-auth"),
                                   unset=("REDIS_HOST", "REDIS_PORT"))
        self.assert_serves(svc)
        self.assertIn("dir=%s" % os.path.join(prefix, "share", "iframe-auth", "static"),
                      svc.logs())

    def test_unit_passes_systemd_analyze(self):
        if shutil.which("systemd-analyze") is None:
            self.skipTest("systemd-analyze is not installed "
                          "(scripts/setup.sh installs systemd)")
        destdir, installed = self.install_staged()
        unit = staged(destdir, installed["iframe-auth.service"])
        with open(unit) as f:
            text = f.read()
        self.assertIn("\nType=notify\n", text)
        self.assertIn("\nDynamicUser=yes\n", text)
        self.assertIn("\nEnvironmentFile=-%s\n" % os.path.join(
            os.path.dirname(installed["config.env.example"]), "config.env"), text)
        self.assertIn("\nExecStart=%s " % installed["iframe-auth"], text)

        # verify wants ExecStart's binary to exist: the same unit, its
        # paths pointed into DESTDIR.
        prefix = os.path.dirname(os.path.dirname(installed["iframe-auth"]))
        check_dir = os.path.join(self.workdir, "unit")
        os.mkdir(check_dir)
        check_unit = os.path.join(check_dir, "iframe-auth.service")
        with open(check_unit, "w") as f:
            f.write(text.replace(prefix + "/", staged(destdir, prefix) + "/"))
        p = run(["systemd-analyze", "verify", check_unit])
        self.assertEqual(p.stderr + p.stdout, "", "warnings from verify")

        p = run(["systemd-analyze", "security", "--offline=true",
                 "--root=" + destdir, unit])
        m = re.search(r"Overall exposure level for iframe-auth\.service: "
                      r"([0-9.]+)", p.stdout)
        self.assertIsNotNone(m, p.stdout)
        self.assertLessEqual(float(m.group(1)), MAX_EXPOSURE, p.stdout)


if __name__ == "__main__":
    main()
