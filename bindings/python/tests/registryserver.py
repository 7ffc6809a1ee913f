"""Starts the test registry (tests/fixtures/registry.py) for the Python tests."""

import contextlib
import json
import os
import subprocess
import sys

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tests", "fixtures")


@contextlib.contextmanager
def registry(*args):
    """Yields the ready line (url, host, users, ...) of a running registry; stops it after."""
    process = subprocess.Popen([sys.executable, os.path.join(FIXTURES, "registry.py"), *args],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError("the test registry did not start")
        yield json.loads(line)
    finally:
        process.stdin.close()  # the launcher stops when its stdin closes
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
