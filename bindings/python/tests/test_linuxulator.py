"""The Linuxulator through the Python module: run decisions, branding a real tree, the
plan (equal to the golden file), preparing a root."""

import os
import shutil
import subprocess
import tarfile

import pytest

import knast

GOLDEN = os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "testdata", "linuxulator")
FREEBSD_DEFAULTS = knast.KernelFacts(-1, -1)


def osabi(path):
    with open(path, "rb") as f:
        return f.read(8)[7]


def set_osabi(path, value):
    with open(path, "r+b") as f:
        f.seek(7)
        f.write(bytes([value]))


def test_decide_run_on_a_freebsd_host():
    d = knast.decide_run("linux/amd64", knast.HostFacts.freebsd())
    assert d.method == knast.RunMethod.linuxulator_jail
    assert d.method.name == "linuxulator_jail"
    assert d.abi_module == "linux64"
    assert d.branding_needed
    d = knast.decide_run(knast.Platform.parse("linux/amd64"), knast.HostFacts("freebsd/amd64", knast.KernelFacts(3, 3)))
    assert not d.branding_needed


def test_refusals_name_both_platforms():
    with pytest.raises(knast.UnsupportedError) as e:
        knast.decide_run("freebsd/amd64", knast.HostFacts("linux/amd64"))
    assert str(e.value).startswith("cannot run a freebsd/amd64 image on a linux/amd64 host:")
    with pytest.raises(knast.UnsupportedError):
        knast.decide_run("linux/arm64", knast.HostFacts.freebsd("amd64"))


def test_choose_image_platform():
    available = [knast.Platform.parse("linux/arm64"), knast.Platform.parse("linux/amd64")]
    assert str(knast.choose_image_platform(available, knast.HostFacts.freebsd())) == "linux/amd64"
    assert knast.choose_image_platform([knast.Platform.parse("windows/amd64")], knast.HostFacts.freebsd()) is None


def test_plan_matches_the_golden_file():
    options = knast.LinuxEmulationOptions()
    options.hostname = "web1"
    options.resolv_conf = "nameserver 192.0.2.53\nsearch example.org"
    plan = knast.make_linux_emulation_plan("linux/amd64", options)
    with open(os.path.join(GOLDEN, "plan-linux-amd64.json.golden")) as f:
        assert plan.to_json() == f.read()
    assert [m.file for m in plan.kernel_modules][0] == "linux64"
    assert [(m.fstype, m.target) for m in plan.mounts][:2] == [("devfs", "/dev"), ("fdescfs", "/dev/fd")]
    assert plan.mounts[1].options == [("linrdlnk", "")]
    assert plan.mounts[4].flags == ["nosuid", "noexec"]
    assert plan.jail_params["linux.osrelease"] == "5.15.0"
    assert plan.jail_params["devfs_ruleset"] == 40
    assert plan.devfs_ruleset.include == 4


def test_plan_refuses_bad_options():
    options = knast.LinuxEmulationOptions()
    options.osrelease = "latest"
    with pytest.raises(knast.InvalidArgumentError):
        knast.make_linux_emulation_plan("linux/amd64", options)


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "tree"
    (root / "bin").mkdir(parents=True)
    shutil.copy("/bin/ls", root / "bin" / "ls")
    static = root / "bin" / "static"
    subprocess.run(["objcopy", "-R", ".note.ABI-tag", "/bin/busybox", str(static)], check=True)
    set_osabi(static, 0)
    os.symlink("/bin/busybox", root / "bin" / "outside")
    return root


def test_brand_scan_undo(tree):
    report = knast.brand_tree(tree, "auto", scan=True, kernel=FREEBSD_DEFAULTS)
    assert (report.scanned, report.elf, report.needs_brand, report.branded) == (2, 2, 1, 0)
    assert osabi(tree / "bin" / "static") == 0

    report = knast.brand_tree(tree, kernel=FREEBSD_DEFAULTS)
    assert report.branded == 1
    assert osabi(tree / "bin" / "static") == 3
    assert osabi(tree / "bin" / "ls") == 0
    assert str(report.record) == str(knast.default_brand_record(tree))
    assert '"branded": 1' in report.to_json()

    report = knast.brand_tree(tree, "all", kernel=FREEBSD_DEFAULTS)
    assert (report.branded, report.already_branded) == (1, 1)

    report = knast.brand_tree(tree, undo=True)
    assert report.restored == 2
    assert osabi(tree / "bin" / "static") == 0
    assert osabi(tree / "bin" / "ls") == 0
    with pytest.raises(knast.NotFoundError):
        knast.brand_tree(tree, undo=True)
    with pytest.raises(knast.InvalidArgumentError):
        knast.brand_tree(tree, "Linux")


def test_brand_with_the_elf_index_of_an_unpacked_tree(tree, tmp_path):
    (tree / "motd").write_text("welcome\n")
    layer = tmp_path / "layer.tar"
    with tarfile.open(layer, "w") as t:
        t.add(tree, arcname=".")
    root, index = tmp_path / "unpacked", tmp_path / "unpacked.elf-index"
    root.mkdir()
    knast.apply_layer(str(root), str(layer), knast.ApplyOptions(elf_index=str(index)))

    report = knast.brand_tree(root, "all", scan=True, kernel=FREEBSD_DEFAULTS, elf_index=index)
    assert (report.scanned, report.known_not_elf, report.elf) == (3, 1, 2)

    # A file swapped for an ELF binary after the unpack is not the one the index saw.
    os.remove(root / "motd")
    shutil.copy("/bin/ls", root / "motd")
    report = knast.brand_tree(root, "all", kernel=FREEBSD_DEFAULTS, elf_index=index)
    assert (report.known_not_elf, report.branded) == (0, 3)
    assert osabi(root / "motd") == 3


def test_prepare_root_and_preflight(tmp_path):
    plan = knast.make_linux_emulation_plan("linux/amd64")
    report = knast.prepare_linux_root(plan, tmp_path)
    assert report.created == ["/dev", "/proc", "/sys", "/etc"]
    assert (tmp_path / "etc" / "hostname").read_text() == "knast\n"
    if knast.Platform.host().os != "freebsd":
        with pytest.raises(knast.UnsupportedError):
            knast.preflight(plan, tmp_path)
