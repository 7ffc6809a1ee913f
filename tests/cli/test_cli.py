"""Tests of the example CLI as a user runs it: exit codes, output, never a crash."""

import json
import os
import subprocess

import pytest

CLI = os.environ["KNAST_CLI"]
EMPTY_SHA256 = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def knast(*args, stdin=None, env=None):
    full_env = dict(os.environ)
    full_env.pop("KNAST_ROOT", None)
    full_env.update(env or {})
    return subprocess.run([CLI, *args], input=stdin, capture_output=True, text=True, env=full_env, timeout=60)


def test_version():
    result = knast("version")
    assert result.returncode == 0
    assert result.stdout.startswith("knast ")


def test_ref_normalize():
    result = knast("ref", "normalize", "alpine", "localhost:5000/x", "index.docker.io/user/app:1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "docker.io/library/alpine:latest",
        "localhost:5000/x:latest",
        "docker.io/user/app:1",
    ]
    familiar = knast("ref", "normalize", "--familiar", "docker.io/library/alpine")
    assert familiar.stdout.strip() == "alpine:latest"


def test_ref_normalize_invalid_exits_1_with_reason():
    result = knast("ref", "normalize", "Alpine")
    assert result.returncode == 1
    assert result.stderr.startswith("knast: ")
    assert "Alpine" in result.stderr


def test_usage_errors_exit_2():
    assert knast().returncode == 2
    assert knast("no-such-command").returncode == 2
    assert knast("validate", "picture", "x").returncode == 2


def test_root_option_and_environment(tmp_path):
    assert f"state root: {tmp_path}" in knast("--root", str(tmp_path), "info").stdout
    assert f"state root: {tmp_path}" in knast("info", env={"KNAST_ROOT": str(tmp_path)}).stdout
    default = knast("info").stdout
    assert "state root: /var/lib/knast" in default or "state root: /var/db/knast" in default


def write(tmp_path, name, document):
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return str(path)


MANIFEST = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
    "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": EMPTY_SHA256, "size": 7},
    "layers": [
        {"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "digest": EMPTY_SHA256, "size": 100},
        {"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "digest": EMPTY_SHA256, "size": 200},
    ],
}

INDEX = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.index.v1+json",
    "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": EMPTY_SHA256, "size": 5,
         "platform": {"os": "linux", "architecture": "amd64"}},
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": EMPTY_SHA256, "size": 5,
         "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
    ],
}

CONFIG = {
    "architecture": "amd64",
    "os": "linux",
    "config": {"Entrypoint": ["/bin/sh", "-c"], "Cmd": ["echo hi"]},
    "rootfs": {"type": "layers", "diff_ids": [EMPTY_SHA256]},
}


@pytest.mark.parametrize("kind,document,expected", [
    ("manifest", MANIFEST, "2 layers, 307 bytes"),
    ("index", INDEX, "2 manifests (linux/amd64, linux/arm64"),
    ("config", CONFIG, "config linux/amd64: 1 layer"),
])
def test_validate_valid_documents(tmp_path, kind, document, expected):
    result = knast("validate", kind, write(tmp_path, kind + ".json", document))
    assert result.returncode == 0, result.stderr
    assert expected in result.stdout
    assert len(result.stdout.splitlines()) == 1


def test_validate_reads_standard_input():
    result = knast("validate", "config", "-", stdin=json.dumps(CONFIG))
    assert result.returncode == 0, result.stderr


BROKEN = [
    ("manifest", "", "empty file"),
    ("manifest", "{", "truncated JSON"),
    ("manifest", "[]", "not an object"),
    ("manifest", {**MANIFEST, "schemaVersion": 1}, "schema 1"),
    ("manifest", {**MANIFEST, "layers": [{**MANIFEST["layers"][0], "size": -5}]}, "negative size"),
    ("manifest", {**MANIFEST, "layers": [{**MANIFEST["layers"][0], "size": "5"}]}, "string size"),
    ("manifest", {**MANIFEST, "layers": [{**MANIFEST["layers"][0], "digest": "sha256:xyz"}]}, "bad digest"),
    ("manifest", {**MANIFEST, "layers": [{**MANIFEST["layers"][0], "mediaType": "text/plain"}]}, "unknown layer"),
    ("manifest", {k: v for k, v in MANIFEST.items() if k != "config"}, "missing config"),
    ("manifest", INDEX, "index given as manifest"),
    ("index", MANIFEST, "manifest given as index"),
    ("index", {**INDEX, "manifests": "nope"}, "manifests not an array"),
    ("config", {**CONFIG, "rootfs": {"type": "layers", "diff_ids": ["nope"]}}, "bad diff id"),
    ("config", {k: v for k, v in CONFIG.items() if k != "os"}, "missing os"),
    ("config", "[" * 100000, "deep nesting"),
]


@pytest.mark.parametrize("kind,document,why", BROKEN, ids=[b[2] for b in BROKEN])
def test_validate_invalid_documents_exit_1(tmp_path, kind, document, why):
    path = write(tmp_path, "doc.json", document)
    result = knast("validate", kind, path)
    assert result.returncode == 1, (why, result.stdout, result.stderr)
    assert result.stderr.startswith("knast: " + path + ": "), result.stderr
    assert result.stdout == ""


def test_validate_oversized_and_missing_files(tmp_path):
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (9 << 20))
    result = knast("validate", "config", str(big))
    assert result.returncode == 1
    assert "limit" in result.stderr or "large" in result.stderr
    missing = knast("validate", "manifest", str(tmp_path / "missing.json"))
    assert missing.returncode == 1
    assert "No such file" in missing.stderr
    directory = knast("validate", "manifest", str(tmp_path))
    assert directory.returncode == 1


def test_digest_command(tmp_path):
    path = write(tmp_path, "empty", "")
    result = knast("digest", path)
    assert result.returncode == 0
    assert result.stdout == f"{EMPTY_SHA256}  {path}\n"
    assert knast("digest", "--algorithm", "sha512", path).stdout.startswith("sha512:cf83e1357eefb8bd")
