"""The network commands for real (network create/ls/inspect/rm, run --network -p, port),
inside the network namespace conftest.py put this test process into."""

import json
import os
import shutil
import subprocess
import time

import pytest

from test_cli_run import knast, ok, root_is_a_mount_point, state  # noqa: F401  (the busybox:1 store fixture)

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("nft") is None or not root_is_a_mount_point(),
                                reason="networks need root, nftables and a root that is a mount point (no chroot)")


def wait_for(command, expected, tries=50):
    out = ""
    for _ in range(tries):
        out = subprocess.run(command, capture_output=True, text=True).stdout
        if expected in out:
            return out
        time.sleep(0.1)
    return out


def test_network_lifecycle_published_port_and_port_command(state):  # noqa: F811
    ok(state, "network", "create", "--subnet", "10.77.0.0/24", "web")
    assert "web" in ok(state, "network", "ls", "-q").split()
    config = json.loads(ok(state, "network", "inspect", "web"))["network"]
    assert config["subnet"] == "10.77.0.0/24" and config["gateway"] == "10.77.0.1"

    cid = ok(state, "run", "-d", "--name", "srv", "--network", "web", "-p", "8080:80", "busybox:1",
             "sh", "-c", "mkdir -p /www && echo served > /www/index.html && exec httpd -f -p 80 -h /www").strip()
    assert ok(state, "port", "srv").strip() == "80/tcp -> 0.0.0.0:8080"
    endpoints = json.loads(ok(state, "network", "inspect", "web"))["endpoints"]
    assert [e["container_id"] for e in endpoints] == [cid]
    # From this namespace (the host), to the bridge's own address: the DNAT of the port.
    assert wait_for(["busybox", "wget", "-q", "-O", "-", "http://10.77.0.1:8080/"], "served") == "served\n"

    busy = knast(state, "network", "rm", "web")
    assert busy.returncode != 0 and "srv" in busy.stderr + busy.stdout
    ok(state, "rm", "-f", "srv")
    ok(state, "network", "rm", "web")
    assert "knast_" not in subprocess.run(["nft", "list", "ruleset"], capture_output=True, text=True).stdout
    assert "web" not in ok(state, "network", "ls", "-q").split()


def test_default_network_none_and_bad_ports(state):  # noqa: F811
    out = ok(state, "run", "--rm", "busybox:1", "cat", "/etc/hosts", "/proc/net/dev")
    assert "eth0" in out and "10.88." in out  # the default bridge network "knast"
    assert "knast" in ok(state, "network", "ls", "-q").split()
    alone = ok(state, "run", "--rm", "--network", "none", "busybox:1", "cat", "/proc/net/dev")
    assert "lo:" in alone and "eth0" not in alone
    bad = knast(state, "run", "--rm", "-p", "80", "busybox:1", "true")
    assert bad.returncode != 0 and "host port" in bad.stderr
    bad = knast(state, "run", "--rm", "--network", "none", "-p", "8080:80", "busybox:1", "true")
    assert bad.returncode != 0 and "bridge network" in bad.stderr
    assert ok(state, "ps", "-aq").strip() == ""
    ok(state, "network", "rm", "knast")
