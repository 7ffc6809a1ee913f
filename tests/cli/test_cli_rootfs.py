"""The rootfs commands of the CLI: unpack IMAGE DIR (with each driver this host has),
rootfs ls, containers, diff, rm and prune — exit codes and output as a user sees them."""

import io
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


def has_overlay():
    with open("/proc/filesystems") as f:
        return os.geteuid() == 0 and any(line.split()[-1] == "overlay" for line in f if line.strip())


@pytest.fixture
def image(tmp_path):
    """A one-layer image imported into the store of tmp_path/state, named hello:1."""
    path = tmp_path / "rootfs.tar"
    with tarfile.open(path, "w") as tar:
        for name, data, mode in [("bin/hello", b"#!/bin/sh\necho hi\n", 0o755), ("etc/os-release", b"ID=test\n", 0o644)]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = mode
            tar.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("bin/sh")
        link.type = tarfile.SYMTYPE
        link.linkname = "hello"
        tar.addfile(link)
    root = tmp_path / "state"
    ok(root, "import", str(path), "hello:1")
    return root


@pytest.mark.parametrize("driver", ["directory", "overlay"])
def test_unpack_ls_containers_rm_prune(tmp_path, image, driver):
    if driver == "overlay" and not has_overlay():
        pytest.skip("overlay needs root and the overlay file system")
    out = tmp_path / "out"
    text = ok(image, "unpack", "--driver", driver, "hello:1", str(out))
    lines = text.splitlines()
    assert lines[0].startswith("layer 1/1 sha256:") and lines[0].endswith("applying")
    chain = lines[-2].split()[1]
    assert lines[-2].startswith("chain sha256:")
    container_id = lines[-1].split()[1]
    assert lines[-1] == f"container {container_id} ({driver}) at {out}"
    assert (out / "bin" / "hello").read_text() == "#!/bin/sh\necho hi\n"
    assert os.readlink(out / "bin" / "sh") == "hello"

    listing = ok(image, "rootfs", "ls").splitlines()
    assert listing[0].split() == ["CHAIN", "ID", "LAYERS", "SIZE", "CREATED", "CONTAINERS"]
    assert len(listing) == 2
    assert listing[1].split()[0] == chain[:19] and listing[1].split()[1] == "1"
    assert listing[1].split()[-1] == container_id
    assert ok(image, "rootfs", "ls", "-q").split() == [chain]
    assert container_id in ok(image, "rootfs", "containers")

    # A chain in use is kept.
    assert "Would remove" not in ok(image, "rootfs", "prune", "--dry-run")
    (out / "etc" / "added").write_text("new\n")
    diff = ok(image, "rootfs", "diff", container_id, str(tmp_path / "changes.tar.gz"))
    assert "application/vnd.oci.image.layer.v1.tar+gzip" in diff
    with tarfile.open(tmp_path / "changes.tar.gz") as tar:
        assert "etc/added" in tar.getnames()

    # A second unpack of the same image reuses the chain.
    second = ok(image, "unpack", "--driver", driver, "hello:1", str(tmp_path / "second"))
    assert "layer 1/1" in second and second.splitlines()[0].endswith("cached")

    ok(image, "rootfs", "rm", container_id, second.splitlines()[-1].split()[1])
    assert not out.exists()
    assert ok(image, "rootfs", "prune", "--dry-run").splitlines()[0] == f"Would remove: {chain}"
    assert ok(image, "rootfs", "prune").splitlines()[0] == f"Removed: {chain}"
    assert ok(image, "rootfs", "ls", "-q") == ""


def test_errors(tmp_path, image):
    nonempty = tmp_path / "full"
    nonempty.mkdir()
    (nonempty / "file").write_text("x")
    result = knast(image, "unpack", "hello:1", str(nonempty))
    assert result.returncode == 1 and "not an empty directory" in result.stderr
    result = knast(image, "unpack", "nope:1", str(tmp_path / "x"))
    assert result.returncode == 1 and "nope" in result.stderr
    result = knast(image, "unpack", "--driver", "btrfs", "hello:1", str(tmp_path / "x"))
    assert result.returncode == 1 and "directory, overlay or zfs" in result.stderr
    result = knast(image, "unpack", "--driver", "zfs", "hello:1", str(tmp_path / "x"))
    assert result.returncode == 1 and "dataset" in result.stderr
    result = knast(image, "rootfs", "rm", "no-such-container")
    assert result.returncode == 1 and "no container root" in result.stderr
    assert knast(image, "rootfs").returncode == 2
