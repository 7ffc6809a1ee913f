#!/usr/bin/env python3
"""Writes a `docker save` archive of one image (classic layout: <id>/layer.tar) with
LAYERS uncompressed layers of incompressible files, about SIZE_MB in all."""
import hashlib, io, json, os, sys, tarfile

out, size_mb, layer_count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
files_per_layer = 10
file_bytes = size_mb * 1024 * 1024 // layer_count // files_per_layer

def tar_member(t, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = 1700000000
    t.addfile(info, io.BytesIO(data))

layers = []
for i in range(layer_count):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for j in range(files_per_layer):
            tar_member(t, f"layer{i}/file{j}.bin", os.urandom(file_bytes))
    layers.append(buf.getvalue())
diff_ids = ["sha256:" + hashlib.sha256(layer).hexdigest() for layer in layers]
config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                     "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
config_name = hashlib.sha256(config).hexdigest() + ".json"
with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
    tar_member(t, config_name, config)
    names = []
    for layer, diff_id in zip(layers, diff_ids):
        names.append(diff_id[7:] + "/layer.tar")
        tar_member(t, names[-1], layer)
    manifest = [{"Config": config_name, "RepoTags": ["bench/archive:1"], "Layers": names}]
    tar_member(t, "manifest.json", json.dumps(manifest).encode())
