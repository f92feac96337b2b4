#!/usr/bin/env python3
"""cap_corpus.py CONTROL_FILE OUT_DIR [MAX_FILES]: the greedy set cover of a
libFuzzer merge control file, cut at MAX_FILES: copies into OUT_DIR the
inputs that cover the most features first. Used when -set_cover_merge=1
still keeps more than the 300 files a target may commit (fuzz/README.md)."""
import os
import shutil
import sys


def main():
    ctl, out = sys.argv[1], sys.argv[2]
    cap = int(sys.argv[3]) if len(sys.argv) > 3 else 10**9
    lines = open(ctl).read().split("\n")
    n = int(lines[0])
    files = lines[2:2 + n]
    ft = {}
    for line in lines[2 + n:]:
        p = line.split()
        if p and p[0] == "FT":
            ft[int(p[1])] = set(p[2:])
    every = set().union(*ft.values()) if ft else set()
    left, chosen = set(every), []
    while left and len(chosen) < cap:
        best = max(ft, key=lambda i: (len(ft[i] & left), -os.path.getsize(files[i])))
        if not ft[best] & left:
            break
        chosen.append(best)
        left -= ft[best]
    os.makedirs(out, exist_ok=True)
    for i in chosen:
        shutil.copy(files[i], os.path.join(out, os.path.basename(files[i])))
    print("%d features, %d kept by %d files" % (len(every), len(every) - len(left), len(chosen)))


if __name__ == "__main__":
    main()
