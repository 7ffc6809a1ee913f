"""knast.Rootfs and knast.apply_layer from Python: layers with whiteouts, the chain cache,
container roots, diffs, pipelined pull + unpack, progress callables and clear errors."""

import gzip
import os
import tarfile

import pytest

import knast
from imagebuild import add_image, add_layered_image, layer_tar
from registryserver import registry


@pytest.fixture
def store(tmp_path):
    return knast.ImageStore(str(tmp_path / "state" / "store"))


@pytest.fixture
def rootfs(tmp_path):
    return knast.Rootfs(str(tmp_path / "state"))


def tree(root):
    """{relative path: bytes or "dir" or "-> target"} of a tree, never following links."""
    found = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(folder, name)
            relative = os.path.relpath(path, root)
            if os.path.islink(path):
                found[relative] = "-> " + os.readlink(path)
            elif os.path.isdir(path):
                found[relative] = "dir"
            else:
                with open(path, "rb") as f:
                    found[relative] = f.read()
    return found


def test_apply_layer_with_whiteouts(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    lower = tmp_path / "lower.tar.gz"
    lower.write_bytes(gzip.compress(layer_tar({"etc/a": b"1", "etc/b": b"2", "opt/x/y": b"3"})))
    upper = tmp_path / "upper.tar"
    upper.write_bytes(layer_tar({"etc/.wh.a": b"", "opt/x/.wh..wh..opq": b"", "opt/x/z": b"4"}))

    first = knast.apply_layer(str(root), str(lower))
    assert first.bytes == 3 and first.entries >= 3
    second = knast.apply_layer(str(root), str(upper), media_type="application/vnd.oci.image.layer.v1.tar")
    assert second.whiteouts == 2
    assert tree(root) == {"etc": "dir", "etc/b": b"2", "opt": "dir", "opt/x": "dir", "opt/x/z": b"4"}


def test_apply_layer_refuses_bad_input_clearly(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    layer = tmp_path / "layer.tar"
    layer.write_bytes(layer_tar({"a": b"x" * 100}))
    with pytest.raises(knast.IntegrityError):
        knast.apply_layer(str(root), str(layer), media_type="application/vnd.oci.image.layer.v1.tar+zstd")
    with pytest.raises(knast.LimitExceededError):
        knast.apply_layer(str(root), str(layer), knast.ApplyOptions(max_bytes=10))
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(gzip.compress(layer_tar({"a": b"x" * 5000}))[:-30])
    with pytest.raises(knast.Error):
        knast.apply_layer(str(root), str(truncated))
    with pytest.raises(knast.NotFoundError):
        knast.apply_layer(str(root), str(tmp_path / "missing.tar"))


def test_chain_id_follows_the_oci_definition():
    a = knast.Digest.of(b"a")
    b = knast.Digest.of(b"b")
    assert knast.chain_id([a]) == a
    assert knast.chain_id([a, b]) == knast.Digest.of(f"{a} {b}".encode())
    with pytest.raises(knast.InvalidArgumentError):
        knast.chain_id([])


def test_unpack_reuses_cached_chains_and_reports_progress(store, rootfs):
    add_layered_image(store, "base:1", [{"etc/os": b"base"}])
    add_layered_image(store, "app:1", [{"etc/os": b"base"}, {"srv/app": b"app", "etc/.wh.os": b""}])
    seen = []
    base = rootfs.unpack(store, "base:1", progress=lambda i, n, d, cached: seen.append((i, n, cached)))
    assert seen == [(0, 1, False)] and base.layers_applied == 1 and not base.reused
    seen.clear()
    app = rootfs.unpack(store, "app:1", progress=lambda i, n, d, cached: seen.append((i, n, cached)))
    assert seen == [(0, 2, True), (1, 2, False)] and app.layers_applied == 1
    assert tree(app.chain.path) == {"etc": "dir", "srv": "dir", "srv/app": b"app"}
    again = rootfs.unpack(store, "app:1")
    assert again.reused and again.layers_applied == 0
    assert sorted(str(c.chain_id) for c in rootfs.list()) == sorted([str(base.chain.chain_id), str(app.chain.chain_id)])


def test_progress_exception_stops_unpack_and_caches_nothing(store, rootfs):
    add_image(store, "app:1", {"a": b"1"})

    def boom(*args):
        raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        rootfs.unpack(store, "app:1", progress=boom)
    assert rootfs.list() == []


def test_containers_diff_and_prune(store, rootfs, tmp_path):
    add_image(store, "app:1", {"etc/conf": b"old", "etc/gone": b"x"})
    chain = rootfs.unpack(store, "app:1").chain
    container = rootfs.create(chain.chain_id, "web")
    assert container.driver == knast.SnapshotDriver.directory
    # A copy: its own ELF index, which brand_tree() can use on it.
    assert container.elf_index.name == "elf-index" and container.elf_index.parent.name == "web"
    report = knast.brand_tree(container.path, "all", scan=True, elf_index=container.elf_index)
    assert report.known_not_elf == report.scanned == 2
    (container.path / "etc" / "conf").write_bytes(b"new")
    (container.path / "etc" / "gone").unlink()
    assert [c.id for c in rootfs.containers()] == ["web"]
    assert rootfs.find(chain.chain_id).containers == ["web"]

    diff = rootfs.diff("web", str(tmp_path / "diff.tar"), knast.LayerCompression.none)
    with tarfile.open(tmp_path / "diff.tar") as tar:
        names = sorted(tar.getnames())
    assert "etc/conf" in names and "etc/.wh.gone" in names
    assert diff.descriptor.digest == diff.diff_id  # uncompressed: the same bytes

    with pytest.raises(knast.AlreadyExistsError):
        rootfs.create(chain.chain_id, "web")
    with pytest.raises(knast.InvalidArgumentError):
        rootfs.create(chain.chain_id, "../escape")
    assert rootfs.prune().removed == []
    assert rootfs.remove("web") and not rootfs.remove("web")
    assert not container.path.exists()
    assert rootfs.prune().removed == [chain.chain_id]
    assert rootfs.list() == []


def test_write_layer_diff_round_trips(tmp_path):
    base = tmp_path / "base"
    changed = tmp_path / "changed"
    for folder in (base, changed):
        (folder / "etc").mkdir(parents=True)
        (folder / "etc" / "keep").write_bytes(b"same")
    (base / "etc" / "old").write_bytes(b"old")
    (changed / "etc" / "new").write_bytes(b"new")
    diff = knast.write_layer_diff(str(base), str(changed), str(tmp_path / "d.tar.gz"))
    assert diff.descriptor.media_type == "application/vnd.oci.image.layer.v1.tar+gzip"
    knast.apply_layer(str(base), str(tmp_path / "d.tar.gz"))
    assert tree(base) == tree(changed)


def test_unknown_driver_is_refused(tmp_path):
    with pytest.raises(knast.InvalidArgumentError, match="directory"):
        knast.Rootfs(str(tmp_path), driver="floppy")


def test_pull_and_unpack_pipelined(store, rootfs, tmp_path):
    with registry() as server:
        source = knast.ImageStore(str(tmp_path / "source"))
        add_layered_image(source, "app:1", [{"bin/a": os.urandom(100000)}, {"bin/b": os.urandom(100000)}])
        client = knast.Registry(docker_config=str(tmp_path / "config.json"), retries=1)
        remote = f"{server['host']}/pipe/app:1"
        client.push(source, "app:1", remote)
        layers = []
        result = knast.pull_and_unpack(client, remote, store, rootfs,
                                       unpack_progress=lambda i, n, d, cached: layers.append(i))
        assert layers == [0, 1]
        assert result.pull.blobs_downloaded == 3
        assert sorted(tree(result.unpack.chain.path)) == ["bin", "bin/a", "bin/b"]
        assert store.resolve(remote).manifest_descriptor.digest == result.pull.target.digest
