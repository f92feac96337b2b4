#!/usr/bin/env python3
# Writes every tests/cases/http1/*.txt vector (format: README.md). Usage,
# from the repo root: python3 tests/cases/http1/gen_vectors.py
# The cases live in gen_head.py (request line, fields, limits of form) and
# gen_body.py (Content-Length, Transfer-Encoding, chunked, pipelining).
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vec  # noqa: E402
import gen_head  # noqa: E402,F401
import gen_body  # noqa: E402,F401

vec.write_all()
