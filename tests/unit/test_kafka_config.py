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


def test_three_brokers_share_a_static_quorum_and_replicate_every_topic_three_times(tmp_path):
    settings = Settings(_env_file=None, data_root=tmp_path, kafka_brokers=3, kafka_port=1000,
                        kafka_controller_port=1001)
    assert settings.bootstrap == "127.0.0.1:1000,127.0.0.1:1002,127.0.0.1:1004"
    props = {node: _props(kafka.server_properties(settings, node)) for node in (1, 2, 3)}
    for node, p in props.items():
        assert p["node.id"] == str(node)
        assert p["controller.quorum.voters"] == "1@127.0.0.1:1001,2@127.0.0.1:1003,3@127.0.0.1:1005"
        assert "controller.quorum.bootstrap.servers" not in p
        assert p["listeners"] == f"PLAINTEXT://127.0.0.1:{998 + 2 * node},CONTROLLER://127.0.0.1:{999 + 2 * node}"
        assert p["log.dirs"] == str(kafka.kafka_dir(settings, node) / "data")
        assert (p["default.replication.factor"], p["min.insync.replicas"]) == ("3", "2")
        assert (p["offsets.topic.replication.factor"], p["transaction.state.log.min.isr"]) == ("3", "2")
        assert p["unclean.leader.election.enable"] == "false"
    assert len({p["log.dirs"] for p in props.values()}) == 3
    assert [s.name for s in kafka.brokers(settings)] == ["kafka", "kafka-2", "kafka-3"]
    assert {s.group for s in kafka.brokers(settings)} == {"kafka"}


def test_brokers_past_the_third_are_brokers_only_and_two_brokers_keep_one_controller(tmp_path):
    four = Settings(_env_file=None, data_root=tmp_path, kafka_brokers=4)
    assert _props(kafka.server_properties(four, 4))["process.roles"] == "broker"
    assert "CONTROLLER" not in _props(kafka.server_properties(four, 4))["listeners"]
    two = Settings(_env_file=None, data_root=tmp_path, kafka_brokers=2)
    assert _props(kafka.server_properties(two, 1))["controller.quorum.voters"] == "1@127.0.0.1:9093"
    assert (two.replication_factor, two.min_insync_replicas) == (2, 1)
    one = Settings(_env_file=None, data_root=tmp_path)
    assert (one.replication_factor, one.min_insync_replicas, one.bootstrap) == (1, 1, "127.0.0.1:9092")


def test_ports_that_collide_across_brokers_are_refused_naming_both_settings(tmp_path):
    with pytest.raises(ValueError, match="kafka_port .* and kafka_controller_port"):
        Settings(_env_file=None, data_root=tmp_path, kafka_brokers=3, kafka_port=9092, kafka_controller_port=9094)


def test_a_cluster_started_with_one_size_refuses_another(tmp_path):
    first = Settings(_env_file=None, data_root=tmp_path, kafka_brokers=3)
    ident = kafka.cluster_id(first)
    assert kafka.cluster_id(first) == ident  # kept: a wiped broker is formatted with it again
    with pytest.raises(kafka.ClusterChanged, match="PINLAKE_KAFKA_BROKERS=1.*has 3 broker"):
        kafka.cluster_id(Settings(_env_file=None, data_root=tmp_path))
