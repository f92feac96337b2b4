"""The amd64 packages as installed (docs/PACKAGES.md), on the machine the
test runs on (root): dpkg -i camlogs-api and camlogs-camera, check what
landed where, run the installed api and camera by their units' ExecStart=
lines (not systemd: tests/it/unitfile.py expands the unit's own
Environment=, EnvironmentFile=, specifiers; the test sets what systemd
would: the camera's credential and state directory; the api's secrets in
/etc/camlogs, owned by camlogs), fetch /logs, upgrade to a
rebuilt package with a higher version (the edited conffile kept), purge,
and find nothing of camlogs left but the system user (which Debian leaves).

Run by scripts/deb-test.sh (`make deb` then this):
    python3 tests/deb/test_deb_install.py --bin build-deb  # the .deb files
"""
import glob
import os
import pwd
import re
import subprocess
import sys
import tempfile

sys.path.insert(
    0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "it"))
import harness  # noqa: E402
import unitfile  # noqa: E402
from harness import Proc, Skip, bearer, get_json, private_file, wait_until  # noqa: E402

PKGS = ["camlogs-api", "camlogs-camera"]
UNITS = "/usr/lib/systemd/system"
TMP = tempfile.mkdtemp(prefix="test_deb.")
OPERATOR = "deb-test-operator-token-0123456789"


def sh(*argv, ok=True):
    p = subprocess.run(list(argv), capture_output=True, text=True, timeout=300)
    assert p.returncode == 0 or not ok, (argv, p.stdout[-2000:], p.stderr[-2000:])
    return p


def dpkg(*args):
    """dpkg under the lock every helper's apt-get takes (/tmp/apt.lock)."""
    return sh("flock", "/tmp/apt.lock", "dpkg", *args)


def debs(version):
    out = [glob.glob(os.path.join(harness.BIN, "%s_%s_amd64.deb" % (p, version))) for p in PKGS]
    assert all(len(x) == 1 for x in out), (version, out)
    return [x[0] for x in out]


def versions():
    """The two versions in the directory: the project's and the rebuilt higher one."""
    vs = {os.path.basename(f).split("_")[1]
          for f in glob.glob(os.path.join(harness.BIN, "camlogs-api_*_amd64.deb"))}
    assert len(vs) == 2, vs
    lo, hi = sorted(vs, key=lambda v: [int(x) if x.isdigit() else x
                                       for x in re.split(r"[.+]", v)])
    sh("dpkg", "--compare-versions", hi, "gt", lo)
    return lo, hi


def status(pkg):
    p = sh("dpkg-query", "-W", "-f=${Version} ${db:Status-Status}", pkg, ok=False)
    return p.stdout.strip() if p.returncode == 0 else ""


def exec_start(unit, instance, env):
    """The argv of the unit's ExecStart= as systemd would run it for
    `instance` (tests/it/unitfile.py), with what systemd sets in env."""
    return unitfile.command(os.path.join(UNITS, unit), "ExecStart", instance, env)


def install(version):
    dpkg("-i", *debs(version))
    for p in PKGS:
        assert status(p) == version + " installed", (p, status(p))


def test_install_run_upgrade_purge():
    if os.getuid() != 0:
        raise Skip("installs packages: root only")
    lo, hi = versions()
    for p in PKGS:  # a run that died half-way left them: ours to remove
        if status(p):
            dpkg("--purge", p)
    install(lo)
    check_installed_tree()
    check_runs_by_exec_start()
    check_upgrade_keeps_config(hi)
    files = [f for p in PKGS for f in sh("dpkg", "-L", p).stdout.split("\n") if f]
    dpkg("--purge", *PKGS)
    check_nothing_left(files)


def check_installed_tree():
    for f in ("/usr/bin/camlogs-api", "/usr/bin/camlogs-camera", "/usr/bin/camlogs-nginx-conf",
              "/usr/bin/camlogs-rebalance"):
        assert os.access(f, os.X_OK), f
    for f in (UNITS + "/camlogs-api@.service", UNITS + "/camlogs-camera@.service",
              "/usr/share/camlogs/nginx/nginx.conf.in", "/usr/share/man/man1/camlogs-api.1.gz",
              "/usr/share/man/man1/camlogs-camera.1.gz", "/usr/share/doc/camlogs-api/copyright"):
        assert os.path.isfile(f), f
    conf = sh("dpkg-query", "-W", "-f=${Conffiles}\n", *PKGS).stdout
    for f in ("/etc/camlogs/api.env", "/etc/camlogs/nodes", "/etc/camlogs/camera.env"):
        assert f in conf, (f, conf)
        assert all(x.startswith("#") for x in open(f).read().splitlines() if x), f
    user = pwd.getpwnam("camlogs")
    assert user.pw_uid < 1000 and user.pw_shell == "/usr/sbin/nologin", user
    st = os.stat("/var/lib/camlogs")
    assert st.st_uid == user.pw_uid and st.st_mode & 0o777 == 0o750, st
    p = sh("man", "-l", "/usr/share/man/man1/camlogs-camera.1.gz")
    assert "--store DIR" in p.stdout.replace("\u2010", "-"), p.stdout[:500]


def check_runs_by_exec_start():
    """The api reads its secrets by path as the user camlogs (written here
    as an operator would, removed before the purge); the camera gets its
    token as a credential and stores in its StateDirectory=."""
    user = pwd.getpwnam("camlogs")
    secret = private_file("/etc/camlogs", "camera-secret",
                          "deb-test-camera-secret-0123456789abcdef\n")
    private_file("/etc/camlogs", "operators", OPERATOR + "\n")
    for f in ("camera-secret", "operators"):
        os.chown(os.path.join("/etc/camlogs", f), user.pw_uid, user.pw_gid)
    creds = os.path.join(TMP, "creds")
    os.makedirs(creds)
    token = sh("/usr/bin/camlogs-api", "--camera-token", "debcam", "--camera-secret-file",
               secret).stdout.strip()
    private_file(creds, "token", token + "\n")
    state = "/var/lib/camlogs/debcam"  # StateDirectory=camlogs/%i
    os.makedirs(state, mode=0o700)
    os.chown(state, user.pw_uid, user.pw_gid)
    try:
        with Proc(exec_start("camlogs-api@.service", "0", {})) as api:  # port 0: any
            line = harness._readline_deadline(api.p, 10)
            assert line.startswith("listening on "), (line, api.stderr)
            url = "http://" + line.split()[-1]
            with open("/etc/camlogs/camera.env", "a") as f:  # the operator's edit
                f.write("CAMLOGS_SERVER=%s\nCAMLOGS_ARGS=--interval 0.05\n" % url)
            argv = exec_start("camlogs-camera@.service", "debcam",
                              {"CREDENTIALS_DIRECTORY": creds, "STATE_DIRECTORY": state})
            assert argv[:3] == ["/usr/bin/camlogs-camera", "--server", url], argv
            assert argv[argv.index("--store") + 1] == state, argv
            with Proc(argv) as cam:
                def some():
                    st, recs = get_json(url + "/logs?camera=debcam&timeout=10",
                                        headers=bearer(OPERATOR), timeout=20)
                    return st == 200 and len(recs) > 0
                wait_until(some, 30, "/logs from the installed camera")
                assert cam.stop() == 0, cam.stderr
            assert os.listdir(state), "the camera's store is empty"
            assert api.stop() == 0, api.stderr
    finally:  # the operator's secrets: no package removes them
        for f in ("camera-secret", "operators"):
            os.unlink(os.path.join("/etc/camlogs", f))


def check_upgrade_keeps_config(hi):
    edited = open("/etc/camlogs/camera.env").read()
    assert "CAMLOGS_SERVER=http" in edited
    keep = os.path.join("/var/lib/camlogs", "kept")
    open(keep, "w").close()
    install(hi)
    assert open("/etc/camlogs/camera.env").read() == edited
    assert os.path.exists(keep) and pwd.getpwnam("camlogs")
    p = sh("/usr/bin/camlogs-camera", "--version")
    assert p.stdout.startswith("camera "), p.stdout


def check_nothing_left(files):
    for p in PKGS:
        assert status(p) in ("", "not-installed"), (p, status(p))
    left = [f for f in files if os.path.lexists(f) and not os.path.isdir(f)]
    assert not left, left
    left = []
    for top in ("/etc", "/usr", "/var", "/opt", "/srv"):
        p = sh("find", top, "-xdev", "-path", "/usr/local", "-prune", "-o", "-path", "/var/tmp",
               "-prune", "-o", "-name", "*camlogs*", "-print", ok=False)
        left += p.stdout.split()
    assert not left, left
    # Debian leaves a package's system user (files it owned may remain).
    assert pwd.getpwnam("camlogs")


if __name__ == "__main__":
    harness.run(globals())
