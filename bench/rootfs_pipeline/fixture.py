"""The multi-layer fixture of the rootfs benchmarks, written as an OCI image layout
without knast: 3 gzip layers (30 MB of random bytes, 20,000 small files, 24 MB of random
bytes) — the same layers as bench/registry_pull. Usage: fixture.py LAYOUT_DIR TAG"""

import gzip
import hashlib
import io
import json
import os
import random
import sys
import tarfile


def tar_of(entries):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1700000000
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def fixture_layers():
    rng = random.Random(42)
    small_files = [(f"usr/share/many/{i // 1000:02d}/file{i:05d}.txt", f"file {i}\n".encode() * 8)
                   for i in range(20000)]
    return [tar_of([("opt/blob-a", rng.randbytes(30 << 20))]), tar_of(small_files),
            tar_of([("opt/blob-b", rng.randbytes(24 << 20))])]


def put(layout, data, media_type):
    digest = hashlib.sha256(data).hexdigest()
    with open(os.path.join(layout, "blobs", "sha256", digest), "wb") as f:
        f.write(data)
    return {"mediaType": media_type, "digest": "sha256:" + digest, "size": len(data)}


def main():
    layout, tag = sys.argv[1], sys.argv[2]
    os.makedirs(os.path.join(layout, "blobs", "sha256"))
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    layers, diff_ids = [], []
    for tar in fixture_layers():
        layers.append(put(layout, gzip.compress(tar, compresslevel=1, mtime=0), "application/vnd.oci.image.layer.v1.tar+gzip"))
        diff_ids.append("sha256:" + hashlib.sha256(tar).hexdigest())
    config = {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": diff_ids}}
    config_d = put(layout, json.dumps(config).encode(), "application/vnd.oci.image.config.v1+json")
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": config_d,
                "layers": layers}
    manifest_d = put(layout, json.dumps(manifest).encode(), "application/vnd.oci.image.manifest.v1+json")
    manifest_d["annotations"] = {"org.opencontainers.image.ref.name": tag}
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [manifest_d]}, f)
    print(sum(d["size"] for d in layers + [config_d]))


if __name__ == "__main__":
    main()
