"""The camera --store tests' helpers (test_store*.py): a camera on a store,
its recovery and closing lines, the store's segments and lines, /logs
until it matches, the camera run to its exit, a tmpfs to fill, a disk that
fails on demand (test_store_damage.py, test_numbers.py)."""
import os
import re
import signal
import subprocess
import urllib.parse

import harness
from harness import Camera, get_json, wait_until

NOWHERE = "http://127.0.0.1:1"  # no api: the camera backs off, the store still works
RECOVERED_RE = re.compile(r"store \S+: (\d+) events recovered")
CLOSED_RE = re.compile(r"closed; (\d+) events appended, (\d+) writes, (\d+) syncs, (\d+) failed "
                       r"attempts, (\d+) never stored")
CORRUPT_RE = re.compile(r"store \S+/(\d{20})\.eol line (\d+) offset (\d+): (.*); line skipped")
TORN_RE = re.compile(r"torn last line \((\d+) bytes at offset (\d+), line (\d+)\) cut off")


def cam(store, *args, server=NOWHERE, cam_id="s1", source="stdin"):
    return Camera(server, "--id", cam_id, "--source", source, "--store", store, *args,
                  stdin=source == "stdin")


def recovered(c, timeout=10):
    """Waits for the camera's recovery line; returns the number of events."""
    m = wait_until(lambda: RECOVERED_RE.search(c.stderr), timeout, "the recovery line")
    return int(m.group(1))


def stop(c):
    """SIGTERM; returns the numbers of the store's closing line."""
    rc = c.stop(signal.SIGTERM, timeout=harness.signal_limit() + 5)
    c.join_stderr()
    assert rc == 0, (rc, c.stderr)
    m = CLOSED_RE.search(c.stderr)
    assert m, c.stderr
    return [int(x) for x in m.groups()]


def logs(api, cam_id, **params):
    q = urllib.parse.urlencode(dict(camera=cam_id, timeout=10, **params))
    return get_json("%s/logs?%s" % (api.url, q), timeout=20)


def wait_logs(api, cam_id, pred, timeout=15, **params):
    def ok():
        status, recs = logs(api, cam_id, **params)
        return [recs] if status == 200 and pred(recs) else None
    return wait_until(ok, timeout, "/logs matching for %s" % cam_id)[0]


def segments(store):
    return sorted(n for n in os.listdir(store) if re.fullmatch(r"\d{20}\.eol", n))


def stored_lines(store):
    out = []
    for n in segments(store):
        with open(os.path.join(store, n), "rb") as f:
            out += f.read().splitlines(keepends=True)
    return out


def run_exit(args, timeout=10, preexec=None):
    """Runs the camera to its exit: (exit code, stderr lines)."""
    p = subprocess.run([os.path.join(harness.BIN, "camera")] + args, capture_output=True,
                       timeout=timeout, preexec_fn=preexec, stdin=subprocess.DEVNULL)
    return p.returncode, p.stderr.decode(errors="replace").splitlines()


def mount_tmpfs(path, opts):
    """Mounts a tmpfs with opts at path (made if need be); False if it could not."""
    os.makedirs(path, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "none", path], capture_output=True)
    return r.returncode == 0


def umount(path):
    subprocess.run(["umount", "-l", path], capture_output=True)


# An LD_PRELOAD shim (harness.preloaded) that makes the store's disk fail on demand.
FAIL_SHIM_C = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static int marked(const char *var)
{
    const char *m = getenv(var);
    return m && access(m, F_OK) == 0;
}

/* One byte appended to $FAIL_COUNT_FILE per call refused: the count of attempts. */
static void refused(ssize_t (*real_write)(int, const void *, size_t))
{
    const char *f = getenv("FAIL_COUNT_FILE");
    int fd = f ? open(f, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600) : -1;
    if (fd >= 0) {
        real_write(fd, "x", 1);
        close(fd);
    }
}

int fdatasync(int fd)
{
    static int (*real)(int);
    if (!real)
        real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    if (marked("FAIL_SYNC_MARK")) {
        refused((ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write"));
        errno = EIO;
        return -1;
    }
    return real(fd);
}

ssize_t write(int fd, const void *p, size_t n)
{
    static ssize_t (*real)(int, const void *, size_t);
    struct stat st;
    if (!real)
        real = (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
    if (fd > 2 && marked("FAIL_WRITE_MARK") && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        refused(real);
        if (n > 10)
            return real(fd, p, n / 2); /* a short write first, as a filling disk does */
        errno = ENOSPC;
        return -1;
    }
    return real(fd, p, n);
}
"""


def shimmed(d, *args, server):
    """A camera on the store d/store under FAIL_SHIM_C: fdatasync fails with
    EIO while d/sync exists, writes to files fail (short, then ENOSPC)
    while d/write exists; each call so refused adds a byte to d/refused
    (refused(d))."""
    return harness.preloaded(d, FAIL_SHIM_C, lambda: cam(os.path.join(d, "store"), *args,
                                                         server=server),
                             FAIL_SYNC_MARK=os.path.join(d, "sync"),
                             FAIL_WRITE_MARK=os.path.join(d, "write"),
                             FAIL_COUNT_FILE=os.path.join(d, "refused"))


def refused(d):
    """The calls the shim of shimmed(d, ...) has refused so far."""
    try:
        return os.path.getsize(os.path.join(d, "refused"))
    except FileNotFoundError:
        return 0
