"""`knast layer apply ROOT LAYER...`: raw layer files (plain, gzip) applied in order onto a
directory, whiteouts included; a refused layer exits 1 with the error; the caps and
--no-owners as options."""

import gzip
import io
import os
import subprocess
import tarfile

CLI = os.environ["KNAST_CLI"]


def knast(*args):
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=120)


def layer(path, entries, compress=False):
    """A tar of entries: (name, bytes) for files, (name, None) for folders,
    (name, "->target") for symlinks."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.uid = info.gid = 1234
            if data is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            elif isinstance(data, str):
                info.type, info.linkname = tarfile.SYMTYPE, data[2:]
                tar.addfile(info)
            else:
                info.size, info.mode = len(data), 0o644
                tar.addfile(info, io.BytesIO(data))
    raw = buffer.getvalue()
    path.write_bytes(gzip.compress(raw) if compress else raw)
    return str(path)


def test_layers_in_order_with_whiteouts(tmp_path):
    lower = layer(tmp_path / "l1.tar.gz", [("etc", None), ("etc/a", b"a"), ("etc/b", b"b"), ("bin", "->usr/bin")], True)
    upper = layer(tmp_path / "l2.tar", [("etc/.wh.a", b""), ("etc/c", b"c")])
    root = tmp_path / "root"
    result = knast("layer", "apply", str(root), lower, upper)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "applied 2 layers: 6 entries, 3 bytes, 1 whiteouts, 0 devices skipped, 0 xattrs skipped")
    assert sorted(os.listdir(root / "etc")) == ["b", "c"]
    assert os.readlink(root / "bin") == "usr/bin"
    if os.geteuid() == 0:
        assert os.lstat(root / "etc" / "b").st_uid == 1234


def test_no_owners(tmp_path):
    root = tmp_path / "root"
    result = knast("layer", "apply", "--no-owners", str(root), layer(tmp_path / "l.tar", [("f", b"x")]))
    assert result.returncode == 0, result.stderr
    assert os.lstat(root / "f").st_uid == os.geteuid()


def test_refused_layer_exits_1_naming_the_entry(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    result = knast("layer", "apply", str(root), layer(tmp_path / "evil.tar", [("../escape", b"x")]))
    assert result.returncode == 1
    assert 'entry "../escape"' in result.stderr
    assert not (tmp_path / "escape").exists()


def test_caps(tmp_path):
    files = layer(tmp_path / "many.tar", [(f"f{i}", b"0123456789") for i in range(10)])
    result = knast("layer", "apply", "--max-entries", "5", str(tmp_path / "r1"), files)
    assert result.returncode == 1 and "more than 5 entries" in result.stderr
    result = knast("layer", "apply", "--max-bytes", "50", str(tmp_path / "r2"), files)
    assert result.returncode == 1 and "more than 50 bytes" in result.stderr
    assert knast("layer", "apply", "--max-bytes", "100", str(tmp_path / "r3"), files).returncode == 0


def test_usage_errors(tmp_path):
    assert knast("layer", "apply", str(tmp_path / "root")).returncode == 2  # no layer
    result = knast("layer", "apply", str(tmp_path / "root"), str(tmp_path / "missing.tar"))
    assert result.returncode == 1 and "missing.tar" in result.stderr
