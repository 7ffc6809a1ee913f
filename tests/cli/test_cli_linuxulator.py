"""The Linuxulator commands of the CLI: `knast brand DIR` (with --scan, --undo, --mode)
and `knast platform IMAGE`, with output and exit codes as a user sees them."""

import io
import json
import os
import shutil
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


def osabi(path):
    with open(path, "rb") as f:
        return f.read(8)[7]


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "tree"
    (root / "bin").mkdir(parents=True)
    shutil.copy("/bin/ls", root / "bin" / "ls")
    static = root / "bin" / "static"
    subprocess.run(["objcopy", "-R", ".note.ABI-tag", "/bin/busybox", str(static)], check=True)
    with open(static, "r+b") as f:  # as musl and Go static binaries are: EI_OSABI 0, no note
        f.seek(7)
        f.write(b"\0")
    (root / "etc").mkdir()
    (root / "etc" / "passwd").write_text("root:x:0:0::/root:/bin/sh\n")
    return root


def test_brand_scan_then_brand_then_undo(tmp_path, tree):
    state = tmp_path / "state"
    out = ok(state, "brand", str(tree), "--scan", "--freebsd-defaults")
    assert out.splitlines()[0] == ("scanned 3, ELF 2 (0 32-bit), needs brand 1, branded 0, already branded 0, "
                                   "skipped 0")
    assert osabi(tree / "bin" / "static") == 0

    out = ok(state, "brand", str(tree), "--freebsd-defaults")
    assert "branded 1," in out
    assert f"record: {tmp_path}/tree.knast-brand.json" in out
    assert osabi(tree / "bin" / "static") == 3
    assert osabi(tree / "bin" / "ls") == 0

    report = json.loads(ok(state, "brand", str(tree), "--mode", "all", "--json", "--freebsd-defaults"))
    assert (report["branded"], report["already_branded"]) == (1, 1)

    out = ok(state, "brand", str(tree), "--undo")
    assert out.splitlines()[0] == "restored 2, skipped 0"
    assert osabi(tree / "bin" / "static") == 0 and osabi(tree / "bin" / "ls") == 0


def test_brand_errors(tmp_path, tree):
    state = tmp_path / "state"
    result = knast(state, "brand", str(tree), "--undo")
    assert result.returncode == 1
    assert "no brand record at" in result.stderr
    result = knast(state, "brand", str(tree), "--mode", "linux")
    assert result.returncode == 2
    result = knast(state, "brand", str(tree), "--scan", "--undo")
    assert result.returncode == 2
    result = knast(state, "brand", str(tmp_path / "missing"))
    assert result.returncode == 1
    assert "brand " in result.stderr and "No such file or directory" in result.stderr


def rootfs_tar(path):
    with tarfile.open(path, "w") as tar:
        info = tarfile.TarInfo("bin/hello")
        data = b"#!/bin/sh\necho hi\n"
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return path


def test_platform_of_a_linux_and_a_freebsd_image(tmp_path):
    state = tmp_path / "state"
    tar = rootfs_tar(tmp_path / "rootfs.tar")
    ok(state, "import", "--platform", "linux/amd64", str(tar), "lin:1")
    ok(state, "import", "--platform", "freebsd/amd64", str(tar), "bsd:1")
    ok(state, "import", "--platform", "linux/arm64", str(tar), "arm:1")

    out = ok(state, "platform", "lin:1").splitlines()
    assert out[0] == "image lin:1 offers linux/amd64"
    assert out[1].startswith("this host (")
    if out[1].startswith("this host (linux/amd64)"):
        assert out[1].endswith("linux/amd64 image on linux/amd64 host: namespaces")
        assert out[2] == ("a FreeBSD host (freebsd/amd64): linux/amd64 image on freebsd/amd64 host: jail through the "
                          "Linuxulator (linux64); static binaries get branded")
        assert out[3] == "  kernel modules: linux64 linprocfs linsysfs fdescfs tmpfs"

        out = ok(state, "platform", "bsd:1").splitlines()
        assert out[1] == ("this host (linux/amd64): cannot run a freebsd/amd64 image on a linux/amd64 host: FreeBSD "
                          "binaries need a FreeBSD kernel; run it on a FreeBSD host")
        assert out[2] == "a FreeBSD host (freebsd/amd64): freebsd/amd64 image on freebsd/amd64 host: native jail"

        out = ok(state, "platform", "arm:1").splitlines()
        assert out[2] == ("a FreeBSD host (freebsd/amd64): cannot run a linux/arm64 image on a freebsd/amd64 host: "
                          "the Linuxulator runs amd64 and 386 Linux binaries on an amd64 host and arm64 ones on an "
                          "arm64 host")

    result = knast(state, "platform", "nothing:here")
    assert result.returncode == 1
