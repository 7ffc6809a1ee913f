#!/usr/bin/python3
"""Runs a command with a test registry up: KNAST_TEST_REGISTRY=host:port in its environment.

Usage: with_registry.py COMMAND [ARG...]
"""
import json
import os
import subprocess
import sys

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")

launcher = subprocess.Popen([sys.executable, os.path.join(FIXTURES, "registry.py")],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
try:
    ready = json.loads(launcher.stdout.readline())
    status = subprocess.run(sys.argv[1:], env=dict(os.environ, KNAST_TEST_REGISTRY=ready["host"])).returncode
finally:
    launcher.stdin.close()
    launcher.wait(timeout=30)
sys.exit(status)
