"""`cmake --install` and the deployment files (docs/DEPLOY.md): what lands
where, at two prefixes (every installed unit, script and manual page names
only paths under its own prefix or the documented system ones),
`systemd-analyze verify` and `security` on the units offline (systemd need
not run: they get a root of their own holding the installed tree and a copy
of the system's units), the api unit's ExecStart= and ExecReload= run as
written (a rotated operator token, a camera revoked by a file that did not
exist at start) and the camera unit's ExecStart= (its store in its
StateDirectory=), the nginx configuration generator run from the installed
tree (its output passes `nginx -t`; bad node lists and flags are refused
with one line), and camlogs-rebalance against a real api."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import unitfile  # noqa: E402
from harness import (Api, Proc, Skip, bearer, cam_token, get_json, hold_poll,  # noqa: E402
                     http, private_file, wait_until)
from frontdoor import REBALANCE, nginx_bin, write_private  # noqa: E402

TMP = tempfile.mkdtemp(prefix="test_install.")
ROOT = os.path.join(TMP, "root")
PREFIX = "/usr/local"


def run(*argv, **kw):
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=120, **kw)


def installed(root=ROOT, prefix=PREFIX):
    """The tree `DESTDIR=root cmake --install BUILD --prefix prefix` makes (once)."""
    if not os.path.exists(os.path.join(root, prefix[1:], "bin", "camlogs-api")):
        build = os.path.dirname(os.path.abspath(harness.BIN))
        p = run("cmake", "--install", build, "--prefix", prefix,
                env=dict(os.environ, DESTDIR=root))
        assert p.returncode == 0, p.stdout + p.stderr
    return os.path.join(root, prefix[1:])


# The system paths the installed files may name besides their prefix
# (docs/DEPLOY.md): CAMLOGS_CONFDIR, the camera's StateDirectory=, nginx's
# own, and what every Debian system has.
SYSTEM_PATHS = ("/etc/camlogs", "/var/lib/camlogs", "/etc/nginx", "/usr/lib/nginx/modules",
                "/var/log/nginx/", "/var/log/camera/", "/bin/sh", "/bin/kill", "/dev/", "/tmp")


def test_two_prefixes_name_only_their_own_paths():
    for prefix in ("/usr/local", "/opt/camlogs"):
        root = os.path.join(TMP, "p" + prefix.replace("/", "-"))
        top = installed(root, prefix)
        units = os.path.join(top, "lib/systemd/system")
        assert sorted(os.listdir(units)) == [
            "camlogs-api@.service", "camlogs-camera@.service", "nginx.service.d"], prefix
        for unit in ("camlogs-api@.service", "camlogs-camera@.service"):
            text = open(os.path.join(units, unit)).read()
            assert "ExecStart=%s/bin/camlogs-" % prefix in text, (prefix, unit)
            assert "Documentation=file://%s/share/doc/camlogs/DEPLOY.md" % prefix in text, unit
        named = {}
        for d in ("lib/systemd/system", "bin", "share/man/man1", "share/camlogs"):
            for dirpath, _, files in os.walk(os.path.join(top, d)):
                for f in files:
                    path = os.path.join(dirpath, f)
                    if f.startswith("camlogs-api") and d == "bin" or f == "camlogs-camera":
                        continue  # the programs: their --help is in the manual pages
                    text = open(path, errors="replace").read()
                    assert "@CAMLOGS" not in text and "@CONFDIR@" not in text, path
                    for m in re.finditer(r"(?:^|(?<=[\s=\"'(]))(/(?:usr|opt|etc|var|lib|bin|"
                                         r"srv|home|tmp|dev)\b[\w./@%+-]*)", text):
                        named.setdefault(m.group(1), path)
        bad = {p: f for p, f in named.items()
               if not p.startswith(prefix + "/") and not p.startswith(SYSTEM_PATHS)}
        assert not bad, (prefix, bad)
        assert any(p.startswith(prefix + "/share/doc/camlogs") for p in named), prefix


def test_install_puts_everything_in_the_usual_places():
    top = installed()
    for f in ("bin/camlogs-api", "bin/camlogs-camera", "bin/camlogs-nginx-conf",
              "bin/camlogs-rebalance"):
        assert os.access(os.path.join(top, f), os.X_OK), f
    for f in ("share/camlogs/nginx/nginx.conf.in", "share/camlogs/nginx/camlogs.conf.in",
              "share/camlogs/nginx/camlogs.js", "share/camlogs/examples/nodes.example",
              "lib/systemd/system/camlogs-api@.service",
              "lib/systemd/system/camlogs-camera@.service", "share/doc/camlogs/DEPLOY.md",
              "lib/systemd/system/nginx.service.d/camlogs.conf"):
        assert os.path.isfile(os.path.join(top, f)), f
    unit = open(os.path.join(top, "lib/systemd/system/camlogs-api@.service")).read()
    assert "ExecStart=%s/bin/camlogs-api " % PREFIX in unit, unit
    assert "@CAMLOGS" not in unit and "/etc/camlogs/nodes" in unit, unit
    p = run(os.path.join(top, "bin/camlogs-api"), "--help")
    assert p.returncode == 0 and "--node" in p.stdout, p
    # Nothing from the build or the tests besides the programs.
    assert sorted(os.listdir(os.path.join(top, "bin"))) == [
        "camlogs-api", "camlogs-camera", "camlogs-nginx-conf", "camlogs-rebalance"]


def systemd_root():
    """ROOT with the system's own units beside ours, for --root."""
    if shutil.which("systemd-analyze") is None:
        raise Skip("systemd-analyze not installed (scripts/deps.sh: systemd)")
    installed()
    units = os.path.join(ROOT, "usr/lib/systemd/system")
    if not os.path.isdir(units):
        shutil.copytree("/usr/lib/systemd/system", units, symlinks=True)
        for d in ("lib", "bin", "sbin"):
            if not os.path.lexists(os.path.join(ROOT, d)):
                os.symlink("usr/" + d, os.path.join(ROOT, d))
        os.makedirs(os.path.join(ROOT, "usr/bin"), exist_ok=True)  # ExecReload=/bin/kill
        shutil.copy("/bin/kill", os.path.join(ROOT, "usr/bin/kill"))
        os.makedirs(os.path.join(ROOT, "etc/systemd/system"), exist_ok=True)
    return ROOT


def test_units_pass_systemd_analyze_verify():
    root = systemd_root()
    for unit in ("camlogs-api@8081.service", "camlogs-camera@cam-17.service"):
        p = run("systemd-analyze", "verify", "--root=" + root, unit)
        assert p.returncode == 0 and p.stdout + p.stderr == "", (unit, p.stdout, p.stderr)
        # Hardened: systemd's own exposure score, 0 (locked down) to 10.
        p = run("systemd-analyze", "security", "--offline=yes", "--root=" + root,
                "--threshold=20", unit)
        assert p.returncode == 0, (unit, p.stdout[-600:], p.stderr)
        line = [x for x in p.stdout.splitlines() if "Overall exposure level" in x][0]
        print("     %s" % line.strip())
    # The check itself can fail: a unit with an unknown key does not pass.
    bad = os.path.join(root, "etc/systemd/system/camlogs-bad@.service")
    with open(os.path.join(root, PREFIX[1:], "lib/systemd/system/camlogs-api@.service")) as f:
        text = f.read()
    with open(bad, "w") as f:
        f.write(text.replace("[Service]\n", "[Service]\nProtectSystm=strict\n"))
    p = run("systemd-analyze", "verify", "--root=" + root, "camlogs-bad@1.service")
    os.unlink(bad)
    assert "ProtectSystm" in p.stdout + p.stderr, (p.stdout, p.stderr)


OP_OLD, OP_NEW = "unit-operator-token-old-0123", "unit-operator-token-new-4567"
SECRET = b"unit-test-camera-secret-0123456789"


class Running:
    """The api started by its unit's ExecStart= (what hold_poll needs)."""

    def __init__(self, proc, url):
        self.proc, self.url = proc, url

    def reload(self, unit, conf, want):
        """Runs the unit's ExecReload= with MAINPID; returns the api's log line."""
        n = len(self.proc.err_lines)
        argv = unitfile.command(unit, "ExecReload", "0", {"MAINPID": str(self.proc.p.pid)},
                                {"/etc/camlogs": conf})
        assert argv == ["/bin/kill", "-HUP", str(self.proc.p.pid)], argv
        p = run(*argv)
        assert p.returncode == 0, p
        lines = wait_until(lambda: [x for x in self.proc.err_lines[n:] if "reload" in x], 10,
                           "the reload's line")
        assert len(lines) == 1 and want in lines[0], (want, lines)
        return lines[0]


def test_api_unit_rotates_and_revokes_on_reload_as_written():
    unit = os.path.join(installed(), "lib/systemd/system/camlogs-api@.service")
    conf = os.path.join(TMP, "etc-camlogs")  # the unit's /etc/camlogs
    os.makedirs(conf)
    private_file(conf, "camera-secret", SECRET + b"\n")
    private_file(conf, "operators", "# ops\n%s\n" % OP_OLD)
    with open(os.path.join(conf, "api.env"), "w") as f:
        f.write("CAMLOGS_ARGS=--poll-timeout 0 --quiet\n")
    # No revoked file yet: the unit names it, the api starts without it.
    # The unit's paths moved: /etc/camlogs to conf, the prefix to ROOT's.
    argv = unitfile.command(unit, "ExecStart", "0", {},
                            {"/etc/camlogs": conf, PREFIX: installed()})
    assert argv[0] == os.path.join(installed(), "bin/camlogs-api"), argv
    i = argv.index("--camera-revoked-file")
    assert argv[i + 1] == conf + "/revoked" and argv[-3:] == ["--poll-timeout", "0", "--quiet"]
    with Proc(argv) as proc:
        line = harness._readline_deadline(proc.p, 10)
        assert line.startswith("listening on "), (line, proc.stderr)
        api = Running(proc, "http://" + line.split()[-1].strip())
        wait_until(lambda: any(" started " in x for x in proc.err_lines), 10, "started line")
        started = [x for x in proc.err_lines if " started " in x][0]
        assert "revoked=absent" in started, started
        assert http("GET", api.url + "/cameras", headers=bearer(OP_OLD))[0] == 200
        # Rotation: the new token in, the old one out, by `systemctl reload`.
        private_file(conf, "operators", "# ops\n%s\n" % OP_NEW)
        api.reload(unit, conf, "reloaded credentials camera_secret=same operator_tokens=1")
        assert http("GET", api.url + "/cameras", headers=bearer(OP_NEW))[0] == 200
        assert http("GET", api.url + "/cameras", headers=bearer(OP_OLD))[0] == 401
        # Revocation: the file appears (0644: not a secret) with a camera
        # that holds a poll; the poll ends 401 and so does the next.
        cam = bearer(cam_token(SECRET, "cam1"))
        held = hold_poll(api, "cam1", 1, headers=cam, token=OP_NEW)
        private_file(conf, "revoked", "# stolen\ncam1\n", 0o644)
        api.reload(unit, conf, "revoked=1 polls_ended=1")
        s, _, b = held.result()
        assert s == 401 and json.loads(b)["error"] == "camera revoked", (s, b)
        s, _, b = http("GET", api.url + "/control-channel?camera=cam1", headers=cam)
        assert s == 401 and json.loads(b)["error"] == "camera revoked", (s, b)
        api.reload(unit, conf, "reload: nothing changed camera_secret=same operator_tokens=1 "
                   "revoked=1")
        # Others may not write the list: refused, the previous one kept.
        os.chmod(os.path.join(conf, "revoked"), 0o666)
        api.reload(unit, conf, "reload failed, previous settings kept: --camera-revoked-file: "
                   "%s/revoked: mode 0666 lets anyone write it; chmod o-w it" % conf)
        assert http("GET", api.url + "/control-channel?camera=cam1", headers=cam)[0] == 401
        run_camera_unit(conf, api.url)
        assert proc.stop() == 0, proc.stderr


def run_camera_unit(conf, url):
    """The camera unit's ExecStart= with what systemd sets: its token as a
    credential, its StateDirectory=: the store is there by default."""
    unit = os.path.join(installed(), "lib/systemd/system/camlogs-camera@.service")
    creds, state = os.path.join(TMP, "creds"), os.path.join(TMP, "state-cam2")
    os.makedirs(creds)
    os.makedirs(state, mode=0o700)
    private_file(creds, "token", cam_token(SECRET, "cam2") + "\n")
    with open(os.path.join(conf, "camera.env"), "w") as f:
        f.write("CAMLOGS_SERVER=%s\nCAMLOGS_ARGS=--interval 0.05\n" % url)
    argv = unitfile.command(unit, "ExecStart", "cam2",
                            {"CREDENTIALS_DIRECTORY": creds, "STATE_DIRECTORY": state},
                            {"/etc/camlogs": conf, PREFIX: installed()})
    assert argv[argv.index("--store") + 1] == state, argv
    with Proc(argv) as cam:
        def some():
            st, recs = get_json(url + "/logs?camera=cam2&timeout=10", headers=bearer(OP_NEW),
                                timeout=20)
            return st == 200 and len(recs) > 0
        wait_until(some, 30, "/logs from the camera unit")
        assert cam.stop() == 0, cam.stderr
    assert os.listdir(state), "no store in the StateDirectory"


def generator():
    return os.path.join(installed(), "bin", "camlogs-nginx-conf")


def test_installed_generator_writes_a_config_nginx_accepts():
    nginx = nginx_bin()
    nodes = os.path.join(TMP, "nodes")
    with open(nodes, "w") as f:
        f.write("# three on one host\nr1-8081 127.0.0.1:8081\nr1-8082 127.0.0.1:8082\n"
                "r2-8081 [::1]:8081  # and one on v6\n")
    out, prefix = os.path.join(TMP, "conf"), os.path.join(TMP, "run")
    p = run("sh", generator(), "--nodes", nodes, "--out", out, "--prefix", prefix,
            "--user", "-", "--workers", "2", "--worker-connections", "4096",
            "--listen", "127.0.0.1:18099")
    assert p.returncode == 0, p.stderr
    assert "r1-8081 r1-8082 r2-8081" in p.stdout, p.stdout
    p = run(nginx, "-t", "-p", prefix, "-c", os.path.join(out, "nginx.conf"))
    assert p.returncode == 0, p.stderr
    conf = open(os.path.join(out, "camlogs.conf")).read()
    assert conf.count("max_fails=0;") == 12 and "camlogs_o_r2-8081" in conf, conf
    assert "@" not in open(os.path.join(out, "nginx.conf")).read().split("\n", 3)[3]


def test_generator_refuses_bad_node_lists_and_flags():
    cases = [("", "no node"), ("a 127.0.0.1:1\na 127.0.0.1:2\n", "twice"),
             ("a 127.0.0.1:1\nA 127.0.0.1:2\n", "twice"),
             ("a 127.0.0.1:1\nb 127.0.0.1:1\n", "twice"), ("a.b 127.0.0.1:1\n", "node name"),
             ("a 127.0.0.1\n", "HOST:PORT"), ("a 127.0.0.1:1 extra\n", "NAME HOST:PORT"),
             ("x" * 33 + " h:1\n", "node name")]
    for text, want in cases:
        nodes = write_private(os.path.join(TMP, "bad-nodes"), text)
        p = run("sh", generator(), "--nodes", nodes, "--out", os.path.join(TMP, "bad"),
                "--listen", "127.0.0.1:1")
        assert p.returncode == 1 and p.stderr.count("\n") == 1 and want in p.stderr, (text, p)
    for argv in (["--bogus"], ["--nodes"], ["--listen", "x", "--tls-listen", "y"],
                 ["--workers", "0", "--listen", "x"], []):
        p = run("sh", generator(), *argv)
        assert p.returncode == 2 and p.stderr.count("\n") == 1, (argv, p)
    p = run("sh", generator(), "--help")
    assert p.returncode == 0 and "--nodes FILE" in p.stdout, p


def test_rebalance_script_asks_every_node_but_one():
    ops = write_private(os.path.join(TMP, "ops"), "# ops\n  rebalance-operator-token-01 \n")
    with Api("--operator-token-file", ops, "--node", "a") as a, \
            Api("--operator-token-file", ops, "--node", "b") as b:
        nodes = write_private(os.path.join(TMP, "nodes-rb"),
                              "a 127.0.0.1:%d\nb 127.0.0.1:%d\nc 127.0.0.1:1\n"
                              % (a.port, b.port))
        p = run("sh", REBALANCE, "--nodes", nodes, "--except", "b", "--token-file", ops)
        assert p.returncode == 0, p
        lines = p.stdout.splitlines()
        assert len(lines) == 2 and '"polls":0' in lines[0] and "not reached" in lines[1], lines
        assert "rebalance (POST /rebalance)" in a.stderr and "rebalance" not in b.stderr
        # Without the token the api says 401, and the script says so.
        p = run("sh", REBALANCE, "--nodes", nodes, "--except", "c", "--token-file", "/dev/null")
        assert p.returncode == 0 and p.stdout.count("missing or wrong operator token") == 2, p
    for argv in (["--bogus"], ["--nodes"], ["--nodes", "/nonexistent"]):
        p = run("sh", REBALANCE, *argv)
        assert p.returncode in (1, 2) and p.stderr.count("\n") == 1, (argv, p)


if __name__ == "__main__":
    harness.run(globals())
