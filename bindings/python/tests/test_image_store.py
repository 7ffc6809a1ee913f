"""knast.ImageStore from Python: names, resolution, removal, GC, verify, archives."""

import gzip
import io
import os
import tarfile

import pytest

import knast
from imagebuild import add_image, add_index, layer_tar


@pytest.fixture
def store(tmp_path):
    return knast.ImageStore(str(tmp_path / "store"))


def test_new_store_is_an_oci_layout(store):
    root = store.root
    assert (root / "oci-layout").read_text().strip().startswith("{")
    assert (root / "index.json").exists()
    assert list(store) == []


def test_images_are_listed_as_plain_objects(store):
    add_image(store, "busybox:1", {"bin/sh": b"#!"})
    add_index(store, "multi:2", ["linux/amd64", "linux/arm64"])
    images = store.list()
    assert [i.name for i in images] == ["docker.io/library/busybox:1", "docker.io/library/multi:2"]
    assert [str(p) for p in images[1].platforms] == ["linux/amd64", "linux/arm64"]
    assert images[0].size > 0
    assert images[0].created == "2026-11-01T00:00:00Z"
    assert isinstance(images[0].digest, knast.Digest)
    assert [i.name for i in store] == [i.name for i in images]


def test_resolve_by_name_digest_and_platform(store):
    descriptor = add_image(store, "app:1", {"a": b"1"})
    by_name = store.resolve("app:1")
    assert by_name.digest == descriptor.digest
    assert by_name.config.config.cmd == ["sh"]
    assert store.resolve(str(descriptor.digest)).digest == descriptor.digest
    assert store.resolve(descriptor.digest.hex[:12]).digest == descriptor.digest

    add_index(store, "multi:1", ["linux/amd64", "linux/arm64"])
    arm = store.resolve("multi:1", knast.Platform.parse("linux/arm64"))
    assert arm.config.architecture == "arm64"
    assert arm.index is not None
    with pytest.raises(knast.NotFoundError) as info:
        store.resolve("multi:1", knast.Platform.parse("linux/s390x"))
    assert "linux/amd64" in str(info.value)
    assert '"config"' in arm.to_json()


def test_tag_untag_and_remove(store):
    descriptor = add_image(store, "app:1", {"a": b"1"})
    store.tag(knast.Reference.parse("app:latest"), descriptor)
    assert store.find(knast.Reference.parse("app:latest")).digest == descriptor.digest
    store.untag(knast.Reference.parse("app:latest"))
    assert store.find(knast.Reference.parse("app:latest")) is None
    with pytest.raises(knast.NotFoundError):
        store.untag(knast.Reference.parse("app:latest"))
    report = store.remove(knast.Reference.parse("app:1"))
    assert len(report.removed) == 3  # manifest, config, layer
    assert not store.has_blob(descriptor.digest)


def test_gc_and_verify_find_problems(store):
    keep = add_image(store, "keep:1", {"k": b"keep"})
    add_image(store, None, {"g": b"garbage"})
    dry = store.collect_garbage(dry_run=True)
    assert len(dry.removed) == 3
    assert len(store.collect_garbage().removed) == 3
    assert store.verify().ok

    blob = store.root / "blobs" / "sha256" / keep.digest.hex
    os.chmod(blob, 0o644)
    blob.write_bytes(b"tampered")
    report = store.verify()
    assert not report.ok
    assert report.problems[0].kind == knast.VerifyProblem.Kind.corrupt
    with pytest.raises(knast.IntegrityError):
        store.resolve("keep:1")


def test_blobs_round_trip_and_are_checked(store):
    descriptor = store.put_blob(b"hello", "application/octet-stream")
    assert store.read_blob(descriptor.digest) == b"hello"
    with pytest.raises(knast.LimitExceededError):
        store.read_blob(descriptor.digest, max_bytes=2)
    with pytest.raises(knast.NotFoundError):
        store.read_blob(knast.Digest.of(b"absent"))


def test_not_a_layout_is_refused(tmp_path):
    folder = tmp_path / "not-a-store"
    folder.mkdir()
    (folder / "precious.txt").write_text("mine")
    with pytest.raises(knast.InvalidArgumentError):
        knast.ImageStore(str(folder))
    assert sorted(os.listdir(folder)) == ["precious.txt"]
    with pytest.raises(knast.NotFoundError):
        knast.ImageStore(str(tmp_path / "missing"), create=False)


def test_save_load_and_import(store, tmp_path):
    add_image(store, "app:1", {"bin/app": b"\x7fELF"})
    for fmt in ("docker", "oci"):
        archive = tmp_path / f"app-{fmt}.tar"
        store.save(["app:1"], str(archive), fmt)
        other = knast.ImageStore(str(tmp_path / f"other-{fmt}"))
        loaded = other.load(str(archive))
        assert [str(r) for r in loaded] == ["docker.io/library/app:1"]
        assert other.resolve("app:1").config.config.cmd == ["sh"]

    rootfs = tmp_path / "rootfs.tar.gz"
    rootfs.write_bytes(gzip.compress(layer_tar({"etc/hostname": b"box\n"})))
    image = store.import_rootfs(str(rootfs), knast.Reference.parse("imported:1"),
                                changes=["CMD [\"/bin/sh\"]", "ENV A=b", "WORKDIR /srv"])
    assert image.config.config.cmd == ["/bin/sh"]
    assert "A=b" in image.config.config.env
    assert image.config.config.working_dir == "/srv"
    with pytest.raises(knast.InvalidArgumentError):
        store.save(["app:1"], str(tmp_path / "x.tar"), "zip")
