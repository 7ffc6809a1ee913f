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
    bad = knast(state, "run", "--rm", "-p", "8080-8081:80", "busybox:1", "true")
    assert bad.returncode != 0 and "ranges of equal length" in bad.stderr
    bad = knast(state, "run", "--rm", "--network", "none", "-p", "8080:80", "busybox:1", "true")
    assert bad.returncode != 0 and "bridge network" in bad.stderr
    assert ok(state, "ps", "-aq").strip() == ""
    ok(state, "network", "rm", "knast")


def test_any_free_host_port_and_publish_all(state, tmp_path):  # noqa: F811
    """`-p 80` takes a free host port of 49152-65535; `-P` publishes what the image exposes."""
    serve = "mkdir -p /www && echo served > /www/index.html && exec httpd -f -p 80 -h /www"
    ok(state, "run", "-d", "--name", "any", "-p", "80", "busybox:1", "sh", "-c", serve)
    line = ok(state, "port", "any").strip()
    assert line.startswith("80/tcp -> 0.0.0.0:"), line
    port = int(line.rsplit(":", 1)[1])
    assert 49152 <= port <= 65535
    assert wait_for(["busybox", "wget", "-q", "-O", "-", f"http://127.0.0.1:{port}/"], "served") == "served\n"

    # The same image exposing 80/tcp and 53/udp; -p names 80 itself, so -P adds only 53/udp.
    ok(state, "import", "-c", 'CMD ["/bin/sh"]', "-c", "ENV PATH=/bin", "-c", "EXPOSE 80/tcp 53/udp",
       str(tmp_path / "busybox.tar"), "exposing:1")
    ok(state, "run", "-d", "--name", "all", "-P", "-p", "8081:80", "exposing:1", "sh", "-c", serve)
    lines = ok(state, "port", "all").strip().splitlines()
    assert lines[0] == "80/tcp -> 0.0.0.0:8081", lines
    assert len(lines) == 2 and lines[1].startswith("53/udp -> 0.0.0.0:"), lines
    assert 49152 <= int(lines[1].rsplit(":", 1)[1]) <= 65535
    assert wait_for(["busybox", "wget", "-q", "-O", "-", "http://127.0.0.1:8081/"], "served") == "served\n"
