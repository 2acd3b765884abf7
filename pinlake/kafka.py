"""The local Kafka brokers (KRaft): one, or a replicated cluster of PINLAKE_KAFKA_BROKERS; the contract's topics."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

from pinlake import jvm
from pinlake.settings import TOPICS, Settings
from pinlake.supervisor import Service

# librdkafka's syslog level for probes: connection-refused while a broker starts is expected.
QUIET = 2

LOG4J2 = """\
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.state.name = state.change.logger
logger.state.level = WARN
"""


def kafka_dir(settings: Settings, node: int = 1) -> Path:
    """Where broker `node` keeps its config and its log segments (the first: `kafka/`, then `kafka-<n>/`)."""
    return settings.data_root / ("kafka" if node == 1 else f"kafka-{node}")


def service_name(node: int) -> str:
    """The supervised service of broker `node`: `kafka`, `kafka-2`, `kafka-3`, ..."""
    return "kafka" if node == 1 else f"kafka-{node}"


def java() -> str:
    """The java executable: $JAVA_HOME/bin/java, else the one on PATH."""
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return str(Path(home) / "bin" / "java")
    found = shutil.which("java")
    if not found:
        raise RuntimeError("java not found: pinlake needs Java 17 on PATH or JAVA_HOME")
    return found


def controllers(settings: Settings) -> list[int]:
    """The nodes that are also KRaft controllers: the first three (one for one or two brokers)."""
    return list(range(1, 4)) if settings.kafka_brokers >= 3 else [1]


def server_properties(settings: Settings, node: int = 1) -> str:
    """Broker `node` of the local cluster, listening on loopback only.

    One broker is a combined broker+controller with a dynamic quorum of itself. Several share
    a static quorum of three controllers (one with two brokers), replicate the internal topics
    like the contract's, and refuse a write that fewer than `min.insync.replicas` hold.
    """
    data = kafka_dir(settings, node) / "data"
    port, controller = settings.broker_port(node), settings.controller_port(node)
    voters = controllers(settings)
    if settings.kafka_brokers == 1:
        quorum = [f"controller.quorum.bootstrap.servers=127.0.0.1:{controller}"]
    else:
        quorum = ["controller.quorum.voters=" + ",".join(f"{n}@127.0.0.1:{settings.controller_port(n)}"
                                                         for n in voters)]
    listeners = f"PLAINTEXT://127.0.0.1:{port}" + (f",CONTROLLER://127.0.0.1:{controller}" if node in voters else "")
    replicas, min_isr = settings.replication_factor, settings.min_insync_replicas
    return "\n".join([
        f"process.roles={'broker,controller' if node in voters else 'broker'}",
        f"node.id={node}",
        *quorum,
        f"listeners={listeners}",
        f"advertised.listeners=PLAINTEXT://127.0.0.1:{port}",
        "controller.listener.names=CONTROLLER",
        "inter.broker.listener.name=PLAINTEXT",
        "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        f"log.dirs={data}",
        f"num.partitions={settings.kafka_partitions}",
        "num.network.threads=2",
        "num.io.threads=4",
        f"default.replication.factor={replicas}",
        f"min.insync.replicas={min_isr}",
        "unclean.leader.election.enable=false",
        f"offsets.topic.replication.factor={replicas}",
        "offsets.topic.num.partitions=3",
        f"share.coordinator.state.topic.replication.factor={replicas}",
        f"share.coordinator.state.topic.min.isr={min_isr}",
        f"transaction.state.log.replication.factor={replicas}",
        f"transaction.state.log.min.isr={min_isr}",
        "group.initial.rebalance.delay.ms=0",
        "auto.create.topics.enable=false",
        "log.retention.hours=168",
        "",
    ])


def classpath() -> str:
    """The broker's classpath, from the resolved `broker` set."""
    jvm.jars("broker")  # raises a clear error when `make jvm` has not run
    return str(jvm.set_dir("broker") / "*")


def new_cluster_id() -> str:
    """A random KRaft cluster id: a UUID in URL-safe base64, never starting with '-'.

    The storage tool would read a leading '-' as an option and fail (one id in 64); Kafka's
    own Uuid.randomUuid() draws again for the same reason.
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


class ClusterChanged(RuntimeError):
    """The data root holds a Kafka cluster of another size than the settings ask for."""


def cluster_id(settings: Settings) -> str:
    """The local cluster's id, made once and kept beside the first broker's log (a wiped broker
    is formatted again with it, and rejoins)."""
    path = kafka_dir(settings) / "cluster.json"
    if path.exists():
        record = json.loads(path.read_text())
    elif (kafka_dir(settings) / "data" / "meta.properties").exists():  # formatted before cluster.json
        props = dict(line.split("=", 1) for line in
                     (kafka_dir(settings) / "data" / "meta.properties").read_text().splitlines() if "=" in line)
        record = {"cluster_id": props["cluster.id"], "brokers": 1}
        path.write_text(json.dumps(record))
    else:
        record = {"cluster_id": new_cluster_id(), "brokers": settings.kafka_brokers}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record))
    if record["brokers"] != settings.kafka_brokers:
        raise ClusterChanged(
            f"PINLAKE_KAFKA_BROKERS={settings.kafka_brokers}, but the Kafka cluster under {settings.data_root} "
            f"has {record['brokers']} broker(s); a cluster's size is fixed when it is first started: "
            f"set PINLAKE_KAFKA_BROKERS={record['brokers']}, or use a new data root")
    return record["cluster_id"]


def prepare(settings: Settings, node: int = 1) -> None:
    """Write broker `node`'s config and format its storage when it has none (the first start, or a
    replaced disk: the broker then catches up from its peers)."""
    folder = kafka_dir(settings, node)
    folder.mkdir(parents=True, exist_ok=True)
    ident = cluster_id(settings)
    config = folder / "server.properties"
    config.write_text(server_properties(settings, node))
    (folder / "log4j2.properties").write_text(LOG4J2)
    if (folder / "data" / "meta.properties").exists():
        return
    standalone = ["--standalone"] if settings.kafka_brokers == 1 else []
    subprocess.run(
        [java(), *_jvm_flags(settings, node, heap="256m"), "-cp", classpath(), "kafka.tools.StorageTool",
         "format", *standalone, "--cluster-id", ident, "--config", str(config)],
        check=True, capture_output=True, text=True,
    )


def _jvm_flags(settings: Settings, node: int, heap: str) -> list[str]:
    folder = kafka_dir(settings, node)
    return [
        f"-Xmx{heap}", "-Xms128m", "-XX:+UseG1GC", "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={folder / 'log4j2.properties'}",
        f"-Dkafka.logs.dir={settings.log_dir}",
    ]


def command(settings: Settings, node: int = 1) -> list[str]:
    """Broker `node`'s command line."""
    config = kafka_dir(settings, node) / "server.properties"
    return [java(), *_jvm_flags(settings, node, settings.kafka_heap), "-cp", classpath(), "kafka.Kafka", str(config)]


def healthy(bootstrap: str, timeout: float = 2.0, node: int | None = None) -> bool:
    """True when the broker at `bootstrap` answers a metadata request; with `node`, one that lists
    that broker among the cluster's live ones (registered with the controllers, not fenced)."""
    from confluent_kafka.admin import AdminClient

    try:
        admin = AdminClient({"bootstrap.servers": bootstrap, "socket.timeout.ms": int(timeout * 1000),
                             "log_level": QUIET})
        metadata = admin.list_topics(timeout=timeout)
        return node is None or node in metadata.brokers
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        return False


def create_topics(bootstrap: str, partitions: int, timeout: float = 30.0, replicas: int = 1,
                  min_insync: int = 1) -> list[str]:
    """Create the contract's topics that do not exist yet; returns the names created."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": QUIET})
    existing = set(admin.list_topics(timeout=timeout).topics)
    wanted = [NewTopic(t, num_partitions=partitions, replication_factor=replicas,
                       config={"min.insync.replicas": str(min_insync)})
              for t in TOPICS.values() if t not in existing]
    created = []
    for name, future in admin.create_topics(wanted, request_timeout=timeout).items() if wanted else []:
        try:
            future.result(timeout)
            created.append(name)
        except KafkaException as exc:
            if exc.args[0].name() != "TOPIC_ALREADY_EXISTS":
                raise
    _await_leaders(bootstrap, partitions, timeout)
    return created


def _await_leaders(bootstrap: str, partitions: int, timeout: float) -> None:
    """Wait until every partition of the contract's topics answers an offsets request.

    Fresh topics show a leader in the metadata a moment before the broker serves them, and
    a reader or writer arriving in that moment gets NOT_LEADER_FOR_PARTITION.
    """
    from confluent_kafka import Consumer, KafkaException, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"pinlake-ready-{uuid.uuid4()}",
                         "log_level": QUIET})
    deadline = time.monotonic() + timeout
    waiting = [(t, p) for t in TOPICS.values() for p in range(partitions)]
    try:
        while waiting:
            still = []
            for topic, partition in waiting:
                try:
                    consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=2)
                except KafkaException:
                    still.append((topic, partition))
            waiting = still
            if waiting and time.monotonic() > deadline:
                names = ", ".join(f"{t}[{p}]" for t, p in waiting)
                raise TimeoutError(f"Kafka partitions not served after {timeout:.0f}s: {names}")
            if waiting:
                time.sleep(0.2)
    finally:
        consumer.close()


def partitions(bootstrap: str, timeout: float = 5.0) -> list[dict]:
    """Each contract topic partition's leader (None when it has none), replicas and in-sync replicas."""
    from confluent_kafka.admin import AdminClient

    metadata = AdminClient({"bootstrap.servers": bootstrap, "log_level": QUIET}).list_topics(timeout=timeout)
    found = []
    for topic in TOPICS.values():
        for number, partition in sorted(metadata.topics[topic].partitions.items()) if topic in metadata.topics else []:
            found.append({"topic": topic, "partition": number,
                          "leader": partition.leader if partition.leader >= 0 else None,
                          "replicas": sorted(partition.replicas), "isr": sorted(partition.isrs)})
    return found


def _create_topics(settings: Settings) -> list[str]:
    return create_topics(settings.bootstrap, settings.kafka_partitions, replicas=settings.replication_factor,
                         min_insync=settings.min_insync_replicas)


def _address(settings: Settings, node: int) -> str:
    return f"127.0.0.1:{settings.broker_port(node)}"


def broker(node: int) -> Service:
    """Local broker `node` as a supervised service. The brokers start together (a quorum of
    controllers forms only once most of them run), and each makes sure the topics exist."""
    return Service(
        name=service_name(node),
        command=lambda s: command(s, node),
        address=lambda s: _address(s, node),
        healthy=lambda s: healthy(_address(s, node), node=node),
        prepare=lambda s: prepare(s, node),
        after_start=_create_topics,
        extra=lambda s: {"bootstrap": s.bootstrap, "node": node,
                         "role": "broker, controller" if node in controllers(s) else "broker"},
        group="kafka",
    )


def brokers(settings: Settings) -> list[Service]:
    """The local brokers the settings ask for (PINLAKE_KAFKA_BROKERS)."""
    return [broker(node) for node in settings.broker_nodes]


KAFKA = broker(1)
