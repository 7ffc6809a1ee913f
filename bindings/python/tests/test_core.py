"""Tests of the core value types through the Python module."""

import hashlib
import json

import pytest

import knast

EMPTY_SHA256 = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_reference_parse_normalises_like_docker():
    ref = knast.Reference.parse("alpine")
    assert ref.name == "docker.io/library/alpine"
    assert ref.domain == "docker.io"
    assert ref.path == "library/alpine"
    assert ref.tag == "latest"
    assert ref.digest is None
    assert str(ref) == "docker.io/library/alpine:latest"
    assert ref.familiar == "alpine:latest"


def test_reference_with_port_and_digest():
    ref = knast.Reference.parse("localhost:5000/team/app:1.2@" + EMPTY_SHA256)
    assert ref.domain == "localhost:5000"
    assert ref.tag == "1.2"
    assert str(ref.digest) == EMPTY_SHA256
    assert ref.without_tag().tag is None
    assert knast.Reference.parse(str(ref)) == ref


def test_invalid_reference_raises_invalid_argument():
    with pytest.raises(knast.InvalidArgumentError) as info:
        knast.Reference.parse("Alpine")
    assert info.value.code == "invalid_argument"
    assert "lowercase" in str(info.value)
    assert isinstance(info.value, knast.Error)
    assert isinstance(info.value, ValueError)
    assert knast.Reference.try_parse("a//b") is None


def test_digest_of_matches_hashlib():
    data = b"knast" * 1000
    for algorithm in ("sha256", "sha512"):
        digest = knast.Digest.of(data, algorithm)
        assert digest.algorithm == algorithm
        assert digest.hex == hashlib.new(algorithm, data).hexdigest()
        assert knast.Digest.parse(str(digest)) == digest


def test_hasher_streams_and_verifier_checks():
    hasher = knast.Hasher()
    for chunk in (b"ab", bytearray(b"c"), memoryview(b"")):
        hasher.update(chunk)
    assert hasher.bytes == 3
    digest = hasher.finish()
    assert digest == knast.Digest.of(b"abc")

    ok = knast.DigestVerifier(digest, 3)
    ok.update(b"abc")
    ok.close()

    bad = knast.DigestVerifier(digest, 3)
    bad.update(b"abd")
    with pytest.raises(knast.IntegrityError):
        bad.close()

    too_long = knast.DigestVerifier(digest, 3)
    with pytest.raises(knast.IntegrityError):
        too_long.update(b"abcd")


def test_bad_digests():
    with pytest.raises(knast.InvalidArgumentError):
        knast.Digest.parse("sha256:abc")
    with pytest.raises(knast.UnsupportedError):
        knast.Digest.parse("md5:d41d8cd98f00b204e9800998ecf8427e")
    with pytest.raises(knast.InvalidArgumentError):
        knast.Digest.of(b"", "md5")


def test_platform_normalisation_and_matching():
    assert str(knast.Platform.parse("Linux/x86_64")) == "linux/amd64"
    assert str(knast.Platform.parse("linux/aarch64/v8")) == "linux/arm64"
    host = knast.Platform.host()
    assert host.os in ("linux", "freebsd")
    assert host.architecture
    matcher = knast.PlatformMatcher(knast.Platform.parse("linux/arm64"))
    candidates = [knast.Platform.parse(p) for p in ("linux/amd64", "linux/arm/v7", "linux/arm64/v8")]
    assert matcher.matches(candidates[1])
    assert not matcher.matches(candidates[0])
    assert matcher.best(candidates) == 2
    assert knast.PlatformMatcher(knast.Platform("freebsd", "amd64")).best(candidates) is None


def manifest_json():
    return json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": EMPTY_SHA256, "size": 2},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": EMPTY_SHA256, "size": 10}],
    })


def test_manifest_parse_round_trip_and_errors():
    manifest = knast.Manifest.parse(manifest_json())
    assert manifest.total_size == 12
    assert len(manifest.layers) == 1
    assert manifest.layers[0].digest == knast.Digest.parse(EMPTY_SHA256)
    assert knast.Manifest.parse(manifest.to_json()) == manifest
    assert knast.Manifest.parse(manifest_json().encode()) == manifest

    broken = json.loads(manifest_json())
    broken["layers"][0]["size"] = -1
    with pytest.raises(knast.InvalidArgumentError) as info:
        knast.Manifest.parse(json.dumps(broken))
    assert "size" in str(info.value)

    with pytest.raises(knast.LimitExceededError):
        knast.Manifest.parse(" " * (5 << 20))


def test_config_and_validate_document():
    config = json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"Cmd": ["sh"], "Env": ["PATH=/bin"]},
        "rootfs": {"type": "layers", "diff_ids": [EMPTY_SHA256]},
        "history": [{"created_by": "ADD rootfs"}],
    })
    parsed = knast.ImageConfig.parse(config)
    assert parsed.config.cmd == ["sh"]
    assert parsed.config.entrypoint is None
    assert str(parsed.platform) == "linux/amd64"
    summary = knast.validate_document("config", config)
    assert summary.startswith("config linux/amd64: 1 layer")
    with pytest.raises(knast.InvalidArgumentError):
        knast.validate_document("index", "{}")
    with pytest.raises(knast.InvalidArgumentError):
        knast.validate_document("picture", "{}")


@pytest.mark.parametrize("code", [
    "invalid_argument", "not_found", "already_exists", "permission_denied", "unsupported",
    "network", "auth", "integrity", "cancelled", "busy", "limit_exceeded", "io", "internal",
])
def test_every_error_code_has_its_class(code):
    with pytest.raises(knast.Error) as info:
        knast._knast._raise_for_test(code, "boom")
    assert info.value.code == code
    assert type(info.value).code == code
    assert str(info.value) == "boom"


def test_version_and_state_root():
    assert knast.__version__.count(".") == 2
    assert knast.default_state_root() in ("/var/lib/knast", "/var/db/knast")
