"""The registry commands of the CLI against a real registry on 127.0.0.1."""

import io
import json
import os
import subprocess
import sys
import tarfile

import pytest

CLI = os.environ["KNAST_CLI"]
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")


@pytest.fixture(scope="module")
def server():
    process = subprocess.Popen(["/usr/bin/python3", os.path.join(FIXTURES, "registry.py"), "--auth", "basic",
                                "--user", "alice:secret"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    ready = json.loads(process.stdout.readline())
    yield ready
    process.stdin.close()
    process.wait(timeout=30)


def knast(tmp_path, *args, stdin=None):
    env = dict(os.environ, KNAST_DOCKER_CONFIG=str(tmp_path / "config.json"))
    return subprocess.run([CLI, "--root", str(tmp_path / "state"), *args], input=stdin, capture_output=True,
                          text=True, env=env, timeout=120)


def rootfs(tmp_path):
    path = tmp_path / "rootfs.tar"
    with tarfile.open(path, "w") as tar:
        data = b"hello from the registry test\n"
        info = tarfile.TarInfo("hello.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return str(path)


def test_login_push_tags_pull_logout(server, tmp_path):
    host = server["host"]
    denied = knast(tmp_path, "login", "-u", "alice", "--password-stdin", host, stdin="nope\n")
    assert denied.returncode == 1 and "knast: " in denied.stderr
    assert "secret" not in denied.stderr
    assert knast(tmp_path, "login", "-u", "alice", "--password-stdin", host, stdin="secret\n").stdout \
        == "Login Succeeded\n"

    assert knast(tmp_path, "import", rootfs(tmp_path), "hello:1").returncode == 0
    pushed = knast(tmp_path, "push", "hello:1", f"{host}/demo/hello:1")
    assert pushed.returncode == 0, pushed.stderr
    assert "digest: sha256:" in pushed.stdout
    assert knast(tmp_path, "tags", f"{host}/demo/hello").stdout == "1\n"

    other = tmp_path / "other"
    other.mkdir()
    (other / "config.json").write_text((tmp_path / "config.json").read_text())
    pulled = knast(other, "pull", f"{host}/demo/hello:1")
    assert pulled.returncode == 0, pulled.stderr
    assert "Pull complete" in pulled.stdout
    assert "Status: Downloaded newer image for" in pulled.stdout
    assert knast(other, "images", "-q").stdout.split() == [f"{host}/demo/hello:1"]

    assert "Removing login credentials" in knast(tmp_path, "logout", host).stdout
    anonymous = knast(tmp_path, "pull", "-q", f"{host}/demo/hello:1")
    assert anonymous.returncode == 1
    assert "401" in anonymous.stderr or "auth" in anonymous.stderr.lower()


def test_pull_of_missing_image_fails_cleanly(server, tmp_path):
    result = knast(tmp_path, "pull", f"{server['host']}/nothing/here:1")
    assert result.returncode == 1
    assert result.stderr.startswith("knast: ")
