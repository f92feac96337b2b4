"""The nginx front door for integration tests (docs/DEPLOY.md).

Front renders the shipped configuration with deploy/camlogs-nginx-conf (the
templates in deploy/nginx/, the same files `cmake --install` ships) into a
temporary directory, and runs nginx from there with its own prefix, in the
foreground, on ports picked here. Nodes are real api processes started with
--node NAME.
"""
import hashlib
import hmac
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile

import harness
from harness import Api, Proc, Skip, http, wait_until

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GEN = os.path.join(REPO, "deploy", "camlogs-nginx-conf")
REBALANCE = os.path.join(REPO, "deploy", "camlogs-rebalance")
NJS = "/usr/lib/nginx/modules/ngx_http_js_module.so"


def nginx_bin():
    """The nginx binary, or Skip when nginx or its njs module is missing
    (scripts/deps.sh installs both)."""
    path = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx")
                                     else None)
    if path is None or not os.path.exists(NJS):
        raise Skip("nginx with njs not installed (scripts/deps.sh: nginx libnginx-mod-http-js)")
    return path


def free_ports(n):
    """n distinct loopback ports that were free a moment ago."""
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def write_private(path, data):
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    os.chmod(path, 0o600)
    return path


def cam_token(secret, cam_id):
    return hmac.new(secret, cam_id.encode(), hashlib.sha256).hexdigest()


def bearer(tok):
    return {"Authorization": "Bearer " + tok}


class Node:
    """One api process of the deployment: a name, a fixed port, restartable."""

    def __init__(self, name, port, args=()):
        self.name, self.port, self.args = name, port, list(args)
        self.api = None
        self.url = "http://127.0.0.1:%d" % port

    def start(self, timeout=None):
        timeout = timeout or (30 if harness.sanitized() else 10)
        self.api = Api("--node", self.name, *self.args, port=self.port, ready_timeout=timeout)
        return self

    def kill9(self):
        self.api.p.send_signal(signal.SIGKILL)
        self.api.p.wait(timeout=10)

    def stop(self):
        if self.api is not None:
            self.api.kill()

    def metric(self, name, headers=None):
        s, _, b = http("GET", self.url + "/metrics", headers=headers or {})
        assert s == 200, (self.name, s, b)
        for line in b.decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[-1])
        return 0.0


class Front:
    """nginx with the shipped configuration in front of `nodes` (Node list)."""

    def __init__(self, nodes, tmp=None, tls=None, extra_nodes=()):
        self.nginx = nginx_bin()
        self.tmp = tmp or tempfile.mkdtemp(prefix="frontdoor.")
        self.port, self.tls_port = free_ports(2)
        self.url = "http://127.0.0.1:%d" % self.port
        self.tls_url = "https://127.0.0.1:%d" % self.tls_port
        self.nodes_file = os.path.join(self.tmp, "nodes")
        self.tls = tls  # (cert, key) or None
        self.proc = None
        self.write_nodes([(n.name, n.port) for n in nodes] + list(extra_nodes))
        self.generate()
        self.start()

    def write_nodes(self, pairs):
        with open(self.nodes_file, "w") as f:
            f.write("# written by the test\n")
            for name, port in pairs:
                f.write("%s 127.0.0.1:%d\n" % (name, port))

    def generate(self):
        argv = ["sh", GEN, "--nodes", self.nodes_file, "--out", os.path.join(self.tmp, "conf"),
                "--prefix", os.path.join(self.tmp, "run"), "--workers", "1",
                "--worker-connections", "8192", "--listen", "127.0.0.1:%d" % self.port,
                "--user", "root" if os.geteuid() == 0 else "-"]
        if self.tls:
            argv += ["--tls-listen", "127.0.0.1:%d" % self.tls_port, "--tls-cert", self.tls[0],
                     "--tls-key", self.tls[1]]
        p = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        assert p.returncode == 0, p.stderr

    @property
    def conf(self):
        return os.path.join(self.tmp, "conf", "nginx.conf")

    @property
    def prefix(self):
        return os.path.join(self.tmp, "run")

    def start(self):
        self.proc = Proc([self.nginx, "-p", self.prefix, "-c", self.conf, "-g", "daemon off;"])

        def up():
            if not self.proc.alive():
                raise AssertionError("nginx exited: %s %s" % (self.proc.stderr, self.error_log()))
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return True
            except OSError:
                return False
        wait_until(up, 15, "nginx listening")

    def reload(self, pairs):
        """A new node list: regenerate, then SIGHUP (a graceful reload).
        Returns once the new configuration alone accepts: a new worker holds
        the listening sockets and no old one does (an old worker closes them
        when told to quit, then finishes the requests it has)."""
        self.write_nodes(pairs)
        self.generate()
        old = set(_family(self.proc.p.pid)[1:])
        self.proc.send_signal(signal.SIGHUP)

        def new_alone():
            listening = _listening_inodes()
            holders = {pid for pid in _family(self.proc.p.pid)[1:]
                       if _socket_inodes(pid) & listening}
            return holders and not holders & old
        wait_until(new_alone, 15, "nginx's new workers alone accepting")

    def error_log(self):
        try:
            with open(os.path.join(self.prefix, "error.log")) as f:
                return f.read()
        except OSError:
            return ""

    def access_log(self):
        """Every access-log line so far. The log is buffered (flush=1s), so
        it is rotated as logrotate does: renamed, then SIGUSR1 (reopen). Each
        nginx process writes its buffer out before it reopens the log, so the
        renamed file is complete once no process holds it any more."""
        path = os.path.join(self.prefix, "access.log")
        self.rotations = getattr(self, "rotations", 0) + 1
        old = "%s.%d" % (path, self.rotations)
        os.rename(path, old)
        self.proc.send_signal(signal.SIGUSR1)
        wait_until(lambda: not _holding(self.proc.p.pid, old), 10, "nginx reopening its logs")
        with open(old) as f:
            self.logged = getattr(self, "logged", []) + f.read().splitlines()
        return list(self.logged)

    def stop(self):
        if self.proc is not None:
            try:
                self.proc.stop(signal.SIGTERM, timeout=10)
            finally:
                self.proc.kill()


def _family(master):
    """nginx's master (pid) and its children (workers), master first."""
    pids = [master]
    for d in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/stat" % d) as f:
                if int(f.read().rsplit(")", 1)[1].split()[1]) == master:  # its parent
                    pids.append(int(d))
        except (OSError, ValueError, IndexError):
            pass
    return pids


def _open_files(pid):
    """What the process's descriptors point to (readlink), none if it is gone."""
    fds = "/proc/%d/fd" % pid
    out = set()
    try:
        for fd in os.listdir(fds):
            out.add(os.readlink(os.path.join(fds, fd)))
    except OSError:  # the process (or that descriptor) is gone
        pass
    return out


def _socket_inodes(pid):
    return {int(x[8:-1]) for x in _open_files(pid) if x.startswith("socket:[")}


def _listening_inodes():
    """The inodes of the listening TCP sockets (IPv4 and IPv6) here."""
    out = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                rows = f.readlines()[1:]
        except OSError:
            continue
        out |= {int(r.split()[9]) for r in rows if r.split()[3] == "0A"}
    return out


def _holding(master, path):
    """Whether nginx's master (pid) or a process of its has path open."""
    return any(path in _open_files(pid) for pid in _family(master))


def rebalance(nodes_file, except_name=None, token_file=None):
    """Runs the shipped deploy/camlogs-rebalance; returns its stdout."""
    argv = ["sh", REBALANCE, "--nodes", nodes_file]
    if except_name:
        argv += ["--except", except_name]
    if token_file:
        argv += ["--token-file", token_file]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
    return p.stdout


def access_fields(line):
    """The fields of one access-log line (camlogs.conf's log_format):
    request ("GET /logs"), camera, rid_node, status, upstream (a list: one
    address per server tried), upstream_status (a list), time."""
    out = {"request": line.split('"')[1] if '"' in line else ""}
    for k, v in re.findall(r'(\w+)=("[^"]*"|\S*)', line):
        out[k] = v.strip('"')
    for k in ("upstream", "upstream_status"):
        out[k] = [x.strip() for x in out.get(k, "").replace(" : ", ", ").split(",") if x.strip()]
    return out
