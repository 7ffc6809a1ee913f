"""The container commands of the CLI as a user sees them: run (foreground, -d, --rm, -e,
-w, -u, --hostname, -v, --entrypoint, --dry-run), create/start, ps, logs, exec, stop,
kill, wait, inspect, rm and run-bundle, each a separate process, on a busybox image made
from Debian's busybox-static. Needs root (namespaces, overlay mounts)."""

import io
import json
import os
import shutil
import subprocess
import tarfile

import pytest

CLI = os.environ["KNAST_CLI"]
APPLETS = ["sh", "echo", "cat", "hostname", "id", "ls", "pwd", "sleep", "true", "ps", "mkdir", "httpd"]

def root_is_a_mount_point():
    """False in a chroot, where knast refuses to make containers (and says why)."""
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == "/" for line in f if len(line.split()) > 4)


pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not os.path.exists("/bin/busybox") or not root_is_a_mount_point(),
                                reason="containers need root, busybox-static and a root that is a mount point (no chroot)")


def knast(root, *args, timeout=60):
    return subprocess.run([CLI, "--root", str(root), *args], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def ok(root, *args):
    result = knast(root, *args)
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result.stdout


def mountinfo():
    with open("/proc/self/mountinfo") as f:
        return f.read()


@pytest.fixture
def state(tmp_path):
    """A state root whose store has busybox:1 (busybox-static, applet links, /etc/passwd)."""
    path = tmp_path / "busybox.tar"
    with tarfile.open(path, "w") as tar:
        tar.add("/bin/busybox", arcname="bin/busybox")
        for applet in APPLETS:
            link = tarfile.TarInfo(f"bin/{applet}")
            link.type = tarfile.SYMTYPE
            link.linkname = "busybox"
            tar.addfile(link)
        for name, data in [("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n"),
                           ("etc/group", b"root:x:0:\napp:x:1000:\n")]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for directory in ["tmp", "home/app"]:
            info = tarfile.TarInfo(directory)
            info.type = tarfile.DIRTYPE
            info.mode = 0o1777 if directory == "tmp" else 0o755
            tar.addfile(info)
    root = tmp_path / "state"
    ok(root, "import", "-c", 'CMD ["/bin/sh"]', "-c", "ENV PATH=/bin", str(path), "busybox:1")
    before = mountinfo()
    yield root
    for container in ok(root, "ps", "-aq").split():
        knast(root, "rm", "-f", container)
    # `run` made the default network in this session's namespace (conftest.py): one per test.
    for network in ok(root, "network", "ls", "-q").split():
        knast(root, "network", "rm", network)
    assert mountinfo() == before, "a mount was left behind"


def test_run_output_exit_codes_and_overrides(state, tmp_path):
    result = knast(state, "run", "--rm", "busybox:1", "sh", "-c", "echo out; echo err >&2; exit 3")
    assert (result.returncode, result.stdout, result.stderr.splitlines()[-1]) == (3, "out\n", "err")
    (tmp_path / "vol").mkdir()
    (tmp_path / "vol" / "data").write_text("from the host\n")
    out = ok(state, "run", "--rm", "-e", "GREETING=hi", "-w", "/tmp", "-u", "app", "--hostname", "box",
             "-v", f"{tmp_path / 'vol'}:/vol:ro", "busybox:1",
             "sh", "-c", "echo $GREETING; pwd; id -u; hostname; echo pid $$; cat /vol/data; touch /vol/x || echo ro")
    assert out == "hi\n/tmp\n1000\nbox\npid 1\nfrom the host\nro\n"
    assert ok(state, "ps", "-aq") == "", "--rm removed the container"


def test_missing_command_fails_cleanly(state):
    result = knast(state, "run", "busybox:1", "no-such-command")
    assert result.returncode == 1
    assert "no-such-command" in result.stderr and "not found" in result.stderr
    assert ok(state, "ps", "-aq") == ""


def test_detached_ps_logs_exec_stop_wait_inspect_rm(state):
    cid = ok(state, "run", "-d", "--name", "web", "busybox:1", "sh", "-c", "echo started; exec sleep 1000").strip()
    assert len(cid) == 64
    assert cid[:12] in ok(state, "ps")
    for _ in range(100):
        if ok(state, "logs", "web") == "started\n":
            break
    assert ok(state, "logs", "web") == "started\n"
    result = knast(state, "exec", "web", "sh", "-c", "ps; exit 4")
    assert result.returncode == 4 and "sleep 1000" in result.stdout
    assert ok(state, "stop", "-t", "1", "web") == "web\n"
    # sleep is PID 1 without a TERM handler, so TERM does nothing: SIGKILL after the grace.
    assert ok(state, "wait", "web") == "137\n"
    info = json.loads(ok(state, "inspect", "web"))
    assert info["state"]["status"] == "stopped" and info["state"]["id"] == cid
    assert info["config"]["process"]["args"] == ["sh", "-c", "echo started; exec sleep 1000"]
    assert "Exited" in ok(state, "ps", "-a")
    ok(state, "rm", "web")
    assert ok(state, "ps", "-aq") == ""


def test_create_start_kill_and_rm_force(state):
    cid = ok(state, "create", "busybox:1", "sleep", "1000").strip()
    assert "Created" in ok(state, "ps", "-a")
    ok(state, "start", cid[:12])
    result = knast(state, "rm", cid)
    assert result.returncode != 0 and "running" in result.stderr
    ok(state, "kill", "-s", "KILL", cid)
    assert ok(state, "wait", cid) == "137\n"
    ok(state, "rm", "-f", cid)


def test_detached_container_outlives_the_cli_and_rm_on_exit(state):
    cid = ok(state, "run", "-d", "--rm", "busybox:1", "sh", "-c", "sleep 0.2; exit 6").strip()
    assert ok(state, "wait", cid) == "6\n"


def test_dry_run_prints_the_freebsd_plan(state):
    out = ok(state, "run", "--dry-run", "--memory", "64m", "busybox:1", "echo", "hi")
    assert "jail_set" in out and "memoryuse:deny=67108864" in out
    assert "exec.start" in out or "jail.conf" in out
    assert ok(state, "ps", "-aq") == ""
    # The network part: the default bridge network, planned without being made.
    out = ok(state, "run", "--dry-run", "-p", "8080:80", "busybox:1", "true")
    assert "epair" in out and "SIOCSIFVNET" in out and "rdr pass" in out and "10.88.0.2 port 80" in out, out
    assert ok(state, "network", "ls", "-q") == "", "a dry run made the default network"
    out = ok(state, "run", "--dry-run", "--network", "none", "busybox:1", "true")
    assert "lo0" in out and "epair" not in out


@pytest.mark.skipif(shutil.which("crun") is None, reason="crun is not installed")
def test_run_bundle_runs_what_crun_spec_makes(tmp_path):
    bundle = tmp_path / "bundle"
    (bundle / "rootfs" / "bin").mkdir(parents=True)
    shutil.copy("/bin/busybox", bundle / "rootfs" / "bin" / "busybox")
    os.symlink("busybox", bundle / "rootfs" / "bin" / "sh")
    subprocess.run(["crun", "spec"], cwd=bundle, check=True)
    config = json.loads((bundle / "config.json").read_text())
    config["process"]["terminal"] = False
    config["process"]["args"] = ["sh", "-c", "echo from a crun bundle; exit 2"]
    (bundle / "config.json").write_text(json.dumps(config))
    result = knast(tmp_path / "state", "run-bundle", str(bundle))
    assert (result.returncode, result.stdout) == (2, "from a crun bundle\n"), result.stderr
