"""A systemd unit's Exec*= lines as systemd would run them, for tests that
run the installed units' commands as real processes (systemd need not
run): the unit's Environment= and EnvironmentFile=s, the specifiers %i
and %l, $VAR split into words and ${VAR} as one word, a command without a
'/' found on PATH (as systemd's fixed search path)."""
import os
import re
import shlex
import shutil
import socket


def _env(text, extra, path_map):
    env = {}
    for line in text.splitlines():
        if line.startswith("Environment="):
            env.update(w.split("=", 1) for w in shlex.split(line[len("Environment="):]))
        elif line.startswith("EnvironmentFile="):
            path = mapped(line.split("=", 1)[1].lstrip("-"), path_map)
            if os.path.exists(path):
                for x in open(path).read().splitlines():
                    if x.strip() and not x.lstrip().startswith("#"):
                        k, v = x.split("=", 1)
                        env[k.strip()] = v.strip()
    env.update(extra)
    return env


def mapped(word, path_map):
    """`word` with each absolute path prefix in path_map moved (e.g. the
    unit's /etc/camlogs to a test's own directory)."""
    for old, new in path_map.items():
        word = re.sub(r"(?:^|(?<==))" + re.escape(old) + r"(?=/|$)", new, word)
    return word


def command(unit_path, key, instance, extra_env=None, path_map=None):
    """The argv of the unit's `key=` line (ExecStart, ExecReload ...) for
    `instance`; extra_env: what systemd sets (CREDENTIALS_DIRECTORY,
    STATE_DIRECTORY, MAINPID); path_map: {unit path prefix: test path}."""
    path_map = path_map or {}
    text = open(unit_path).read().replace("\\\n", " ")
    text = text.replace("%i", instance).replace("%l", socket.gethostname().split(".")[0])
    env = _env(text, extra_env or {}, path_map)
    lines = [x for x in text.splitlines() if x.startswith(key + "=")]
    assert len(lines) == 1, (key, lines)
    argv = []
    for w in shlex.split(lines[0][len(key) + 1:]):
        if re.fullmatch(r"\$\w+", w):  # $VAR: split into words
            argv += env.get(w[1:], "").split()
        else:  # ${VAR}: one word
            argv.append(mapped(re.sub(r"\$\{(\w+)\}", lambda m: env.get(m.group(1), ""), w),
                               path_map))
    if "/" not in argv[0]:
        argv[0] = shutil.which(argv[0]) or argv[0]
    return argv
