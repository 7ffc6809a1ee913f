"""The FreeBSD jail plan and containers from Python: a plan made from a RunSpec (text,
JSON, jail.conf and its parts) and its refusals; containers of a busybox root (root and
knast-shim needed): a run with stdout on a pipe, wait with a timeout, exec, stop, logs,
the context manager's removal even after an exception, and refusals."""

import json
import os
import shutil
import signal
import threading
import time

import pytest

import knast

ID = "0123456789abcdef0123456789abcdef"
BUSYBOX_CONFIG = json.dumps({
    "architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []},
    "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": ["sh"]},
})


@pytest.fixture
def rootfs(tmp_path):
    """A busybox root: /bin/busybox (static) with a few applet links, the mount points, and
    a passwd of root."""
    root = tmp_path / "rootfs"
    for folder in ("etc", "bin", "tmp", "proc", "dev", "sys"):
        (root / folder).mkdir(parents=True)
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (root / "etc" / "group").write_text("root:x:0:\n")
    shutil.copy("/bin/busybox", root / "bin" / "busybox")
    for applet in ("sh", "true", "sleep", "pwd", "test"):
        (root / "bin" / applet).symlink_to("busybox")
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


# ---- Containers (need root and the supervisor, knast-shim) --------------------------------


@pytest.fixture
def state(tmp_path, rootfs):
    """A state root, once this host has a container executor (a build without one is skipped)."""
    try:
        knast.Jail.create(tmp_path / "probe-state", bundle(tmp_path, rootfs, "probe", ["true"]),
                          stdio="null").remove(force=True)
    except knast.UnsupportedError as e:
        if "no container executor" not in str(e) and "cannot make a container here" not in str(e):
            raise
        pytest.skip(str(e))
    return tmp_path / "state"


def bundle(tmp_path, rootfs, name, args):
    path = tmp_path / name
    knast.write_bundle(path, knast.make_run_spec(BUSYBOX_CONFIG, rootfs, args=args))
    return path


def test_run_to_a_pipe(tmp_path, rootfs, state):
    r, w = os.pipe()
    try:
        with knast.Jail.create(state, bundle(tmp_path, rootfs, "hi", ["sh", "-c", "echo hi; exit 3"]),
                               id="pyhi0", name="hi", image="busybox", stdio=(None, w, w)) as jail:
            os.close(w)
            w = -1
            assert jail.id == "pyhi0" and repr(jail) == "knast.Jail('pyhi0')"
            assert jail.state().status == "created"
            assert [s.id for s in knast.Jail.list(state)] == ["pyhi0"]
            assert knast.Jail.open(state, "hi").id == "pyhi0"
            assert jail.spec().args == ["sh", "-c", "echo hi; exit 3"]
            jail.start()
            assert jail.wait(timeout=20) == 3
            assert os.read(r, 64) == b"hi\n"
            st = jail.state()
            assert (st.status, st.exit_code, st.name, st.image) == ("stopped", 3, "hi", "busybox")
            assert json.loads(st.to_json())["id"] == "pyhi0"
        with pytest.raises(knast.NotFoundError):
            knast.Jail.open(state, "pyhi0")
    finally:
        os.close(r)
        if w >= 0:
            os.close(w)


def test_wait_times_out_exec_and_stop(tmp_path, rootfs, state):
    with knast.Jail.create(state, bundle(tmp_path, rootfs, "sleeper", ["sleep", "60"]), stdio="null") as jail:
        assert len(jail.id) == 64
        with pytest.raises(knast.InvalidArgumentError):
            jail.exec(["true"])  # not running yet
        jail.start()
        ticks = []
        done = threading.Event()

        def tick():
            while not done.is_set():
                ticks.append(1)
                time.sleep(0.001)

        ticker = threading.Thread(target=tick)
        ticker.start()
        try:
            assert jail.wait(timeout=0.5) is None
        finally:
            done.set()
            ticker.join()
        assert len(ticks) > 20  # the wait released the GIL
        assert jail.exec(["sh", "-c", 'test "$PATH" && test "$A" = b && exit 7'], env=["A=b"], stdio="null") == 7
        assert jail.exec(["sh", "-c", 'test "$(pwd)" = /tmp && exit 8'], cwd="/tmp", stdio="null") == 8
        process = knast.RunProcess(["sh", "-c", "exit 9"], env=["PATH=/bin"])
        assert jail.exec(process, stdio="null") == 9
        with pytest.raises(knast.NotFoundError):
            jail.exec(["no-such-program"], stdio="null")
        with pytest.raises(knast.InvalidArgumentError):
            jail.exec(["true"], stdio="log")
        with pytest.raises(knast.BusyError):
            jail.remove()  # running: only with force
        assert jail.stop(grace=2) in (128 + 15, 128 + 9)
        jail.kill(signal.SIGTERM, all=True)  # not an error once stopped
        with pytest.raises(ValueError):
            jail.wait(timeout=-1)


def test_logs_and_a_callback_that_raises(tmp_path, rootfs, state):
    with knast.Jail.create(state, bundle(tmp_path, rootfs, "log", ["sh", "-c", "echo out; echo err >&2"]),
                           stdio="log") as jail:
        jail.start()
        assert jail.wait(timeout=20) == 0
        chunks = jail.logs(follow=True)
        assert b"".join(d for s, d in chunks if s == 1) == b"out\n"
        assert b"".join(d for s, d in chunks if s == 2) == b"err\n"
        seen = []
        jail.read_logs(lambda stream, data: seen.append((stream, data)))
        assert seen == chunks

        class Stop(Exception):
            pass

        def stop(stream, data):
            raise Stop()

        with pytest.raises(Stop):
            jail.read_logs(stop)


def test_context_manager_removes_a_running_container_after_an_exception(tmp_path, rootfs, state):
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        with knast.Jail.create(state, bundle(tmp_path, rootfs, "boom", ["sleep", "60"]), id="pyboom",
                               stdio="null") as jail:
            jail.start()
            raise Boom()
    assert knast.Jail.list(state) == []
    with pytest.raises(knast.NotFoundError):
        knast.Jail.open(state, "pyboom")


def test_create_refusals(tmp_path, rootfs, state):
    with pytest.raises(knast.NotFoundError):
        knast.Jail.create(state, tmp_path / "no-bundle")
    with pytest.raises(knast.InvalidArgumentError):
        knast.Jail.create(state, bundle(tmp_path, rootfs, "b", ["true"]), stdio="tty")
    with pytest.raises(knast.InvalidArgumentError):
        knast.Jail.create(state, bundle(tmp_path, rootfs, "b2", ["true"]), stdio=(0, 1))
    with pytest.raises(knast.NotFoundError):
        knast.Jail.open(state, "nothing-here")


def test_context_manager_accepts_a_container_already_gone(tmp_path, rootfs, state):
    with knast.Jail.create(state, bundle(tmp_path, rootfs, "rm", ["sh", "-c", "exit 5"]), stdio="null",
                           remove_on_exit=True) as jail:
        jail.start()
        assert jail.wait(timeout=20) == 5
    assert knast.Jail.list(state) == []
