"""Networks from Python: port mappings, the network plan for each mode (pure), and — in a
network namespace this module enters and leaves, so the machine's own network is never
touched — a bridge network with a container on it: its endpoint, published port, hosts
file, and the refusals."""

import ctypes
import json
import os
import shutil

import pytest

import knast
from test_jail import BUSYBOX_CONFIG, bundle, rootfs, state  # noqa: F401  (fixtures)

CLONE_NEWNET = 0x40000000


def test_port_mappings():
    [m] = knast.parse_port_mappings("8080:80")
    assert (m.host_ip, m.host_port, m.container_port, m.protocol) == ("", 8080, 80, "tcp")
    assert str(m) == "80/tcp -> 0.0.0.0:8080"
    assert json.loads(m.to_json())["host_port"] == 8080
    ranged = knast.parse_port_mappings("127.0.0.1:8000-8001:80-81/udp")
    assert [(r.host_port, r.container_port, r.protocol, r.host_ip) for r in ranged] == [
        (8000, 80, "udp", "127.0.0.1"), (8001, 81, "udp", "127.0.0.1")]
    [any_port] = knast.parse_port_mappings("80/udp")
    assert (any_port.host_port, any_port.container_port, any_port.protocol) == (0, 80, "udp")
    for bad in ["0", "0:80", "70000:80", "8080:80/sctp", "a:b", "8000-8002:80-81", "[::1]:80:80", ""]:
        with pytest.raises(knast.InvalidArgumentError):
            knast.parse_port_mappings(bad)


def test_plans_for_each_mode():
    assert "lo0" in knast.plan_network("freebsd", "none", container_id="c1").to_text()
    assert knast.plan_network("linux", "host", container_id="c1").steps == []
    with pytest.raises(knast.InvalidArgumentError):
        knast.plan_network("linux", "shared")
    with pytest.raises(knast.InvalidArgumentError):
        knast.plan_network("linux", "mesh")
    assert "knast/*" in knast.PF_CONF_LINES


@pytest.fixture
def host_namespace():
    """Moves this thread into a new network namespace (lo down: nothing here sends traffic)
    and back afterwards; interfaces and rules made inside vanish with it."""
    if os.geteuid() != 0:
        pytest.skip("networks need root")
    libc = ctypes.CDLL(None, use_errno=True)
    original = os.open("/proc/self/ns/net", os.O_RDONLY)
    if libc.unshare(CLONE_NEWNET) != 0:
        os.close(original)
        pytest.skip("cannot make a network namespace: errno %d" % ctypes.get_errno())
    try:
        yield
    finally:
        libc.setns(original, CLONE_NEWNET)
        os.close(original)


@pytest.mark.skipif(shutil.which("nft") is None, reason="needs nftables")
def test_network_with_a_container(tmp_path, rootfs, state, host_namespace):  # noqa: F811
    net = knast.Network.create(state, "pynet", subnet="10.67.0.0/24")
    assert net.config.gateway == "10.67.0.1" and net.config.driver == "bridge"
    assert [c.name for c in knast.Network.list(state)] == ["pynet"]
    with pytest.raises(knast.AlreadyExistsError):
        knast.Network.create(state, "pynet", subnet="10.67.1.0/24")
    with pytest.raises(knast.AlreadyExistsError):
        knast.Network.create(state, "overlapping", subnet="10.67.0.128/25")
    extra = knast.PortMapping()
    extra.host_port, extra.container_port, extra.protocol = 5353, 53, "udp"
    with knast.Jail.create(state, bundle(tmp_path, rootfs, "web", ["sleep", "100"]), name="web",
                           stdio="null", network="pynet", ports=["8080:80", extra]) as jail:
        endpoint = knast.find_endpoint(state, jail.id)
        assert endpoint.address == "10.67.0.2" and endpoint.network == "pynet"
        assert [str(p) for p in endpoint.ports] == ["80/tcp -> 0.0.0.0:8080", "53/udp -> 0.0.0.0:5353"]
        assert net.endpoints() == [endpoint]
        with open(state / "network" / "pynet" / "hosts") as hosts:
            assert "10.67.0.2" in hosts.read()
        plan = knast.plan_network("linux", "bridge", network=net.config, endpoint=endpoint)
        assert plan.firewall_anchor == "ip knast_" + net.config.id[:12]
        assert "dnat to 10.67.0.2:80" in plan.firewall_rules and "dnat to 10.67.0.2:53" in plan.firewall_rules
        with pytest.raises(knast.InvalidArgumentError):  # pf's NAT needs the external interface
            knast.plan_network("freebsd", "bridge", network=net.config, endpoint=endpoint)
        with pytest.raises(knast.InvalidArgumentError):
            net.remove()
    assert knast.find_endpoint(state, jail.id) is None
    net.remove()
    assert knast.Network.list(state) == []
    with pytest.raises(knast.NotFoundError):
        knast.Network.open(state, "pynet")
