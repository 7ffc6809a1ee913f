"""The image store commands of the CLI: import, images, tag, inspect, history, save, load,
rmi, prune, verify — with exit codes and output as a user sees them."""

import io
import json
import os
import subprocess
import tarfile

import pytest

CLI = os.environ["KNAST_CLI"]


def knast(root, *args):
    return subprocess.run([CLI, "--root", str(root), *args], capture_output=True, text=True, timeout=120)


def ok(root, *args):
    result = knast(root, *args)
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result.stdout


@pytest.fixture
def rootfs(tmp_path):
    path = tmp_path / "rootfs.tar"
    with tarfile.open(path, "w") as tar:
        for name, data in {"bin/hello": b"#!/bin/sh\necho hi\n", "etc/os-release": b"ID=test\n"}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o755
            tar.addfile(info, io.BytesIO(data))
    return path


def test_import_list_tag_inspect_history(tmp_path, rootfs):
    root = tmp_path / "state"
    digest = ok(root, "import", "-c", "CMD [\"/bin/hello\"]", "-c", "ENV GREETING=hi", "-m", "from a tarball",
                str(rootfs), "hello:1").strip()
    assert digest.startswith("sha256:")
    assert (root / "store" / "oci-layout").exists()

    ok(root, "tag", "hello:1", "hello:latest")
    names = ok(root, "images", "-q").split()
    assert names == ["docker.io/library/hello:1", "docker.io/library/hello:latest"]
    table = ok(root, "images")
    assert table.splitlines()[0].split()[:2] == ["NAME", "DIGEST"]
    assert "hello:1" in table

    inspected = json.loads(ok(root, "inspect", "hello:latest"))
    assert inspected["digest"] == digest
    assert inspected["config"]["config"]["Cmd"] == ["/bin/hello"]
    assert "GREETING=hi" in inspected["config"]["config"]["Env"]
    assert json.loads(ok(root, "inspect", digest))["digest"] == digest

    history = ok(root, "history", "hello:1")
    assert "from a tarball" in history or "import" in history


def test_save_load_rmi_prune_verify(tmp_path, rootfs):
    root = tmp_path / "state"
    ok(root, "import", str(rootfs), "hello:1")
    archive = tmp_path / "hello.tar"
    ok(root, "save", "-o", str(archive), "hello:1")
    other = tmp_path / "other"
    assert "Loaded image: hello:1" in ok(other, "load", "-i", str(archive))
    assert ok(other, "images", "-q").split() == ["docker.io/library/hello:1"]

    removed = ok(root, "rmi", "hello:1")
    assert "Untagged: hello:1" in removed
    assert "Deleted: sha256:" in removed
    assert ok(root, "images", "-q") == ""
    assert "Total reclaimed space" in ok(root, "prune")
    assert "0 problems" in ok(other, "verify")


def test_errors_are_clear_and_exit_1(tmp_path, rootfs):
    root = tmp_path / "state"
    missing = knast(root, "inspect", "nothing:here")
    assert missing.returncode == 1
    assert missing.stderr.startswith("knast: ")
    assert knast(root, "rmi", "nothing:here").returncode == 1
    assert knast(root, "load", "-i", str(tmp_path / "absent.tar")).returncode == 1
    assert knast(root, "import", "-c", "FROBNICATE x", str(rootfs), "x:1").returncode == 1
    assert knast(root, "images", "-q").stdout == ""

    ok(root, "import", str(rootfs), "hello:1")
    blobs = root / "store" / "blobs" / "sha256"
    victim = max(blobs.iterdir(), key=lambda p: p.stat().st_size)
    os.chmod(victim, 0o644)
    victim.write_bytes(b"corrupt")
    result = knast(root, "verify")
    assert result.returncode == 1
    assert "1 problem" in result.stdout
