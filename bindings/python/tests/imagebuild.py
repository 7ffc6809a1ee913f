"""Builds small images inside a knast.ImageStore from bytes, for the tests."""

import gzip
import io
import json
import tarfile

import knast

OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"


def layer_tar(files):
    """An uncompressed tar holding {path: bytes}."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path, data in sorted(files.items()):
            info = tarfile.TarInfo(path)
            info.size = len(data)
            info.mtime = 1700000000
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def descriptor_json(descriptor):
    return {"mediaType": descriptor.media_type, "digest": str(descriptor.digest), "size": descriptor.size}


def add_image(store, name, files, os="linux", architecture="amd64", cmd=("sh",)):
    """Stores a one-layer image holding `files` and names it; returns the manifest descriptor."""
    return add_layered_image(store, name, [files], os=os, architecture=architecture, cmd=cmd)


def add_layered_image(store, name, layers, os="linux", architecture="amd64", cmd=("sh",)):
    """Stores an image whose layers (bottom first) hold the {path: bytes} of `layers`
    (a path named .wh.NAME is a whiteout) and names it; returns the manifest descriptor."""
    tars = [layer_tar(files) for files in layers]
    blobs = [store.put_blob(gzip.compress(tar, mtime=0), OCI_LAYER_GZIP) for tar in tars]
    config = {
        "architecture": architecture, "os": os, "created": "2026-11-01T00:00:00Z",
        "config": {"Cmd": list(cmd)},
        "rootfs": {"type": "layers", "diff_ids": [str(knast.Digest.of(tar)) for tar in tars]},
        "history": [{"created": "2026-11-01T00:00:00Z", "created_by": "ADD files /"} for _ in tars],
    }
    config_descriptor = store.put_blob(json.dumps(config).encode(), OCI_CONFIG)
    manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": descriptor_json(config_descriptor),
                "layers": [descriptor_json(blob) for blob in blobs]}
    manifest_descriptor = store.put_blob(json.dumps(manifest).encode(), OCI_MANIFEST)
    if name is not None:
        store.tag(knast.Reference.parse(name), manifest_descriptor)
    return manifest_descriptor


def add_index(store, name, platforms):
    """Stores one image per "os/arch" and an index over them, named `name`."""
    entries = []
    for platform in platforms:
        os, architecture = platform.split("/")[:2]
        descriptor = add_image(store, None, {"etc/arch": architecture.encode()}, os, architecture)
        entries.append({**descriptor_json(descriptor), "platform": {"os": os, "architecture": architecture}})
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}
    descriptor = store.put_blob(json.dumps(index).encode(), OCI_INDEX)
    store.tag(knast.Reference.parse(name), descriptor)
    return descriptor
