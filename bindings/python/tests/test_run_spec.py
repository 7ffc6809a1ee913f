"""knast.RunSpec from Python: made from an image config with docker's rules and
overrides (an object or keyword arguments), parsed from text or a dict, bundles written
and read back, and clear errors."""

import json

import pytest

import knast

IMAGE_CONFIG = json.dumps({
    "architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []},
    "config": {"Env": ["PATH=/bin", "FROM_IMAGE=1"], "Cmd": ["sh"], "WorkingDir": "/srv"},
})


@pytest.fixture
def rootfs(tmp_path):
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\nweb:x:33:44:web:/home/web:/bin/sh\n")
    (root / "etc" / "group").write_text("root:x:0:\n")
    return root


def test_the_image_as_it_is(rootfs):
    spec = knast.make_run_spec(IMAGE_CONFIG, rootfs)
    assert isinstance(spec, knast.RunSpec)
    assert spec.args == ["sh"]
    assert spec.cwd == "/srv"
    assert "FROM_IMAGE=1" in spec.env
    assert spec.root_path == str(rootfs)


def test_overrides_as_keywords_and_as_an_object(rootfs):
    config = knast.ImageConfig.parse(IMAGE_CONFIG)
    by_keywords = knast.make_run_spec(config, rootfs, container_id="0123456789abcdef", host_os="linux",
                                      args=["echo", "hi"], env=["A=b", "FROM_IMAGE"], user="web", memory="64m",
                                      rlimits=[("RLIMIT_NOFILE", 2048, 1024)], annotations={"org.example.k": "v"})
    overrides = knast.RunOverrides(container_id="0123456789abcdef", host_os="linux", args=["echo", "hi"])
    overrides.env = ["A=b", "FROM_IMAGE"]
    overrides.user = "web"
    overrides.memory = "64m"
    overrides.rlimits = [("RLIMIT_NOFILE", 2048, 1024)]
    overrides.annotations = {"org.example.k": "v"}
    assert overrides.rlimits == [("RLIMIT_NOFILE", 2048, 1024)]
    by_object = knast.make_run_spec(config, rootfs, overrides)
    assert by_keywords == by_object

    spec = by_keywords
    assert spec.args == ["echo", "hi"]
    assert spec.hostname == "0123456789ab"
    assert "A=b" in spec.env and "HOME=/home/web" in spec.env
    assert not any(e.startswith("FROM_IMAGE") for e in spec.env)
    assert (spec.process.user.uid, spec.process.user.gid) == (33, 44)
    assert spec.annotations["org.example.k"] == "v"
    d = spec.to_dict()
    assert d["linux"]["resources"]["memory"]["limit"] == 64 * 1024 * 1024
    assert d["process"]["rlimits"] == [{"type": "RLIMIT_NOFILE", "hard": 2048, "soft": 1024}]


def test_bad_overrides_are_refused(rootfs):
    with pytest.raises(knast.InvalidArgumentError, match="lots"):
        knast.make_run_spec(IMAGE_CONFIG, rootfs, memory="lots")
    with pytest.raises(knast.InvalidArgumentError, match="no_such_option"):
        knast.make_run_spec(IMAGE_CONFIG, rootfs, no_such_option=1)
    with pytest.raises(knast.NotFoundError):
        knast.make_run_spec(IMAGE_CONFIG, rootfs, user="nobody-here")
    with pytest.raises(knast.InvalidArgumentError):
        knast.make_run_spec(IMAGE_CONFIG, rootfs, entrypoint=[""])
    with pytest.raises(knast.InvalidArgumentError):
        knast.make_run_spec("{not json", rootfs)
    with pytest.raises(knast.InvalidArgumentError):
        knast.make_run_spec(42, rootfs)


def test_parse_from_text_and_dict_and_report_ignored_fields():
    config = {"ociVersion": "1.1.0", "process": {"args": ["sh"], "cwd": "/", "user": {"uid": 0, "gid": 0}}, "root": {"path": "rootfs"},
              "linux": {"seccomp": {"defaultAction": "SCMP_ACT_ALLOW"}}}
    from_dict = knast.RunSpec.parse(config)
    from_text = knast.RunSpec.parse(json.dumps(config))
    assert from_dict == from_text
    assert from_dict.root_path == "rootfs"
    assert "seccomp" not in from_dict.to_json()
    spec, ignored = knast.RunSpec.parse_reporting(json.dumps(config))
    assert spec == from_dict and ignored == ["linux.seccomp"]
    assert knast.RunSpec.parse(spec.to_json()) == spec
    with pytest.raises(knast.InvalidArgumentError, match="process.args"):
        knast.RunSpec.parse({"ociVersion": "1.1.0", "process": {"args": [], "cwd": "/", "user": {"uid": 0, "gid": 0}}, "root": {"path": "r"}})
    with pytest.raises(knast.UnsupportedError):
        knast.RunSpec.parse({"ociVersion": "2.0.0", "process": {"args": ["a"], "cwd": "/", "user": {"uid": 0, "gid": 0}}, "root": {"path": "r"}})


def test_bundles_round_trip(tmp_path, rootfs):
    spec = knast.make_run_spec(IMAGE_CONFIG, rootfs, args=["true"])
    assert spec.args == ["true"]
    spec.process.args = ["echo", "edited"]  # spec.process is the spec's own, not a copy
    spec.hostname = "edited"
    knast.write_bundle(tmp_path / "bundle", spec)
    back = knast.read_bundle(tmp_path / "bundle")
    assert back == spec and back.args == ["echo", "edited"] and back.hostname == "edited"
    knast.write_bundle(str(tmp_path / "b2"), spec.to_dict())
    assert knast.read_bundle(tmp_path / "b2") == spec
    with pytest.raises(knast.NotFoundError):
        knast.read_bundle(tmp_path / "nothing")
    with pytest.raises(knast.InvalidArgumentError):
        knast.write_bundle(tmp_path / "b3", {})
