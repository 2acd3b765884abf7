import base64

import pytest

from pinlake import kafka
from pinlake.settings import Settings

pytestmark = pytest.mark.unit


def _props(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line)


def test_broker_listens_on_loopback_only(tmp_path):
    props = _props(kafka.server_properties(Settings(_env_file=None, data_root=tmp_path,
                                                    kafka_port=1111, kafka_controller_port=2222)))
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:1111,CONTROLLER://127.0.0.1:2222"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:1111"
    assert props["process.roles"] == "broker,controller"
    assert props["log.dirs"] == str(tmp_path / "kafka" / "data")
    assert props["auto.create.topics.enable"] == "false"


def test_command_uses_the_heap_setting_and_the_config(tmp_path, monkeypatch):
    monkeypatch.setattr(kafka, "classpath", lambda: "/jars/*")
    cmd = kafka.command(Settings(_env_file=None, data_root=tmp_path, kafka_heap="300m"))
    assert "-Xmx300m" in cmd
    assert cmd[-2:] == ["kafka.Kafka", str(tmp_path / "kafka" / "server.properties")]


def test_cluster_ids_are_16_byte_uuids_that_never_start_with_a_dash():
    # Without the redraw about one id in 64 starts with '-', which the storage tool reads as an option.
    ids = [kafka.new_cluster_id() for _ in range(5000)]
    assert not [i for i in ids if i.startswith("-")]
    assert all(len(base64.urlsafe_b64decode(i + "==")) == 16 for i in ids)
    assert len(set(ids)) == len(ids)
