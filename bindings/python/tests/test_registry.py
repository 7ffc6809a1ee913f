"""knast.Registry from Python against a real registry on 127.0.0.1: push, pull with
progress and cancellation, tags, login and logout, and clear errors."""

import json
import os

import pytest

import knast
from imagebuild import add_image
from registryserver import registry


@pytest.fixture(scope="module")
def server():
    with registry() as ready:
        yield ready


@pytest.fixture
def client(tmp_path):
    return knast.Registry(docker_config=str(tmp_path / "config.json"), retries=1)


def test_push_then_pull_round_trip_with_progress(server, client, tmp_path):
    source = knast.ImageStore(str(tmp_path / "source"))
    descriptor = add_image(source, "app:1", {"bin/app": b"x" * 50000})
    remote = f"{server['host']}/team/app:1"
    pushed = client.push(source, "app:1", remote)
    assert pushed.target.digest == descriptor.digest
    assert client.tags(f"{server['host']}/team/app") == ["1"]

    target = knast.ImageStore(str(tmp_path / "target"))
    reports = []
    result = client.pull(remote, target, progress=lambda p: reports.append((p.state, p.bytes_done)))
    assert result.target.digest == descriptor.digest
    assert result.blobs_downloaded == 2  # config and layer
    assert target.resolve(remote).config.config.cmd == ["sh"]
    assert any(state == knast.TransferState.done for state, _ in reports)

    again = client.pull(remote, target)
    assert again.blobs_downloaded == 0 and again.blobs_skipped == 2


def test_cancel_from_progress_names_nothing(server, client, tmp_path):
    source = knast.ImageStore(str(tmp_path / "source"))
    add_image(source, "cancel:1", {"data": os.urandom(200000)})
    remote = f"{server['host']}/cancel:1"
    client.push(source, "cancel:1", remote)
    target = knast.ImageStore(str(tmp_path / "target"))
    with pytest.raises(knast.CancelledError):
        client.pull(remote, target, progress=lambda p: False)
    assert target.list() == []


def test_exception_in_progress_is_raised_as_is(server, client, tmp_path):
    source = knast.ImageStore(str(tmp_path / "source"))
    add_image(source, "boom:1", {"f": b"1"})
    remote = f"{server['host']}/boom:1"
    client.push(source, "boom:1", remote)

    def explode(progress):
        raise ZeroDivisionError("from the callback")

    with pytest.raises(ZeroDivisionError):
        client.pull(remote, knast.ImageStore(str(tmp_path / "target")), progress=explode)


def test_resolve_and_missing_things(server, client, tmp_path):
    source = knast.ImageStore(str(tmp_path / "source"))
    descriptor = add_image(source, "res:1", {"f": b"1"})
    client.push(source, "res:1", f"{server['host']}/res:1")
    resolved = client.resolve(f"{server['host']}/res:1")
    assert resolved.descriptor.digest == descriptor.digest
    assert json.loads(resolved.bytes)["schemaVersion"] == 2
    with pytest.raises(knast.NotFoundError):
        client.resolve(f"{server['host']}/res:absent")
    with pytest.raises(knast.NotFoundError):
        client.push(source, "not-in-store:1", f"{server['host']}/x:1")


def test_login_and_logout_with_basic_auth(tmp_path):
    config = tmp_path / "config.json"
    with registry("--auth", "basic", "--user", "alice:secret") as ready:
        client = knast.Registry(docker_config=str(config), retries=0)
        with pytest.raises(knast.AuthError):
            client.login(ready["host"], knast.Credentials("alice", "wrong"))
        assert not config.exists() or ready["host"] not in config.read_text()
        client.login(ready["host"], knast.Credentials("alice", "secret"))
        assert ready["host"] in json.loads(config.read_text())["auths"]
        assert oct(config.stat().st_mode & 0o777) == "0o600"

        source = knast.ImageStore(str(tmp_path / "source"))
        add_image(source, "private:1", {"f": b"secret"})
        fresh = knast.Registry(docker_config=str(config))  # reads what login stored
        fresh.push(source, "private:1", f"{ready['host']}/private:1")
        assert fresh.logout(ready["host"])
        assert not knast.Registry(docker_config=str(config)).logout(ready["host"])
        with pytest.raises(knast.AuthError):
            knast.Registry(docker_config=str(config), retries=0).tags(f"{ready['host']}/private")
