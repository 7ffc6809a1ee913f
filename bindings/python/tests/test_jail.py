"""The FreeBSD jail plan and containers from Python: a plan made from a RunSpec (text,
JSON, jail.conf and its parts) and its refusals."""

import json
import shutil

import pytest

import knast

ID = "0123456789abcdef0123456789abcdef"
BUSYBOX_CONFIG = json.dumps({
    "architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []},
    "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": ["sh"]},
})


@pytest.fixture
def rootfs(tmp_path):
    """A busybox root: /bin/busybox (static), its sh link, and a passwd of root."""
    root = tmp_path / "rootfs"
    for folder in ("etc", "bin", "tmp"):
        (root / folder).mkdir(parents=True)
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (root / "etc" / "group").write_text("root:x:0:\n")
    shutil.copy("/bin/busybox", root / "bin" / "busybox")
    (root / "bin" / "sh").symlink_to("busybox")
    return root


def freebsd_spec(rootfs, **overrides):
    return knast.make_run_spec(BUSYBOX_CONFIG, rootfs, host_os="freebsd", container_id=ID, **overrides)


def test_plan_of_a_linux_image_on_freebsd(rootfs):
    spec = freebsd_spec(rootfs, args=["sh", "-c", "echo hi"])
    plan = knast.plan_freebsd_jail(spec, ID, root_path="/var/db/knast/rootfs/c1")
    assert isinstance(plan, knast.JailPlan)
    assert plan.name == knast.jail_name(ID) == "knast-0123456789ab"
    assert plan.path == "/var/db/knast/rootfs/c1"
    params = dict(plan.params)
    assert params["name"] == plan.name and params["path"] == plan.path
    assert "linux64" in [m.file for m in plan.kernel_modules]
    assert plan.process.args == ["sh", "-c", "echo hi"]
    actions = [s.action for s in plan.steps]
    assert "mount" in actions and "kldload" in actions
    assert all(isinstance(s, knast.JailPlanStep) and s.detail for s in plan.steps)
    assert json.loads(plan.to_json())["name"] == plan.name
    conf = plan.to_jail_conf()
    assert conf.startswith("knast-0123456789ab {") or "\nknast-0123456789ab {" in conf
    assert plan.to_text().endswith(conf)


def test_a_memory_limit_becomes_an_rctl_rule(rootfs):
    plan = knast.plan_freebsd_jail(freebsd_spec(rootfs, memory="512m"), ID)
    assert plan.rctl_rules == ["jail:knast-0123456789ab:memoryuse:deny=536870912"]
    assert "rctl" in [s.action for s in plan.steps]


def test_plan_takes_the_spec_as_text_or_dict_and_an_explicit_platform(rootfs):
    spec = freebsd_spec(rootfs)
    plan = knast.plan_freebsd_jail(spec, ID)
    assert knast.plan_freebsd_jail(spec.to_json(), ID) == plan
    assert knast.plan_freebsd_jail(spec.to_dict(), ID) == plan
    assert plan.path == str(rootfs)
    i386 = knast.plan_freebsd_jail(spec, ID, image="linux/386")
    assert [m.file for m in i386.kernel_modules][0] == "linux"
    assert knast.plan_freebsd_jail(spec, ID, image=knast.Platform.parse("linux/386")) == i386


def test_plan_refusals(rootfs):
    spec = freebsd_spec(rootfs)
    with pytest.raises(knast.UnsupportedError):
        knast.plan_freebsd_jail(spec, ID, image="windows/amd64")
    with pytest.raises(knast.InvalidArgumentError):
        knast.plan_freebsd_jail(spec, "bad.id")
    with pytest.raises(knast.InvalidArgumentError):
        knast.jail_name("bad.id")
    linux = knast.make_run_spec(BUSYBOX_CONFIG, rootfs, host_os="linux", container_id=ID)
    with pytest.raises(knast.InvalidArgumentError):  # Linux mounts (proc, sysfs, ...) a jail cannot make
        knast.plan_freebsd_jail(linux, ID)
    with pytest.raises(knast.InvalidArgumentError):
        knast.plan_freebsd_jail("{", ID)
