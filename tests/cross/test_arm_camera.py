"""The ARM camera end to end (docs/ARM.md): the camera cross-built for
arm64, run under qemu-user, against the native api on loopback. Its events
reach /logs, and its --store brings them back after a restart.

Run by scripts/cross.sh (`make cross`), which names the camera:
    CAMLOGS_CROSS_CAMERA="qemu-aarch64 build-arm64/bin/camera" \
        python3 tests/cross/test_arm_camera.py --bin build/bin
"""
import os
import re
import shlex
import shutil
import signal
import sys
import tempfile
import urllib.parse

sys.path.insert(
    0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "it"))
import harness  # noqa: E402
from harness import Api, Proc, get_json, wait_until  # noqa: E402

RECOVERED_RE = re.compile(r"store \S+: (\d+) events recovered")
ELF_MACHINES = {183: "aarch64", 40: "arm"}  # e_machine of an ELF header


def camera_argv():
    """The emulator and the cross-built camera, from CAMLOGS_CROSS_CAMERA."""
    argv = shlex.split(os.environ.get("CAMLOGS_CROSS_CAMERA", ""))
    assert len(argv) == 2, "CAMLOGS_CROSS_CAMERA must name the emulator and the camera"
    with open(argv[1], "rb") as f:
        head = f.read(20)
    assert head[:4] == b"\x7fELF", argv[1]
    machine = ELF_MACHINES.get(int.from_bytes(head[18:20], "little"))
    assert machine and machine in argv[0], (argv, machine)  # really an ARM program
    return argv


def camera(api, store):
    return Proc(camera_argv() + ["--server", api.url, "--id", "arm1", "--source", "stdin",
                                 "--store", store], stdin=True)


def feed(c, lines):
    c.p.stdin.write("".join(s + "\n" for s in lines).encode())
    c.p.stdin.flush()


def descriptions(api):
    q = urllib.parse.urlencode(dict(camera="arm1", timeout=10))
    status, recs = get_json("%s/logs?%s" % (api.url, q), timeout=30)
    return [r["description"] for r in recs] if status == 200 else None


def wait_descriptions(api, want, timeout=30):
    return wait_until(lambda: descriptions(api) == want, timeout, "/logs to return %s" % want)


def stop(c):
    rc = c.stop(signal.SIGTERM, timeout=10)
    c.join_stderr()
    assert rc == 0, (rc, c.stderr)


def test_arm_camera_events_logs_and_store_across_a_restart():
    store = os.path.join(tempfile.mkdtemp(prefix="test_arm_camera."), "store")
    try:
        with Api() as api:
            c = camera(api, store)
            try:
                wait_until(lambda: RECOVERED_RE.search(c.stderr), 30, "the recovery line")
                feed(c, ["arm event %d" % i for i in range(5)])
                wait_descriptions(api, ["arm event %d" % i for i in range(5)])
            finally:
                stop(c)
            # A new process on the same store: the events come back without input.
            c = camera(api, store)
            try:
                m = wait_until(lambda: RECOVERED_RE.search(c.stderr), 30, "the recovery line")
                assert int(m.group(1)) == 5, c.stderr
                wait_descriptions(api, ["arm event %d" % i for i in range(5)])
                feed(c, ["arm event 5"])
                wait_descriptions(api, ["arm event %d" % i for i in range(6)])
            finally:
                stop(c)
    finally:
        shutil.rmtree(os.path.dirname(store))


if __name__ == "__main__":
    harness.run(globals())
