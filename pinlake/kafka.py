"""The local single-node Kafka broker (KRaft) and the contract's topics."""

from __future__ import annotations

import base64
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


def kafka_dir(settings: Settings) -> Path:
    """Where the broker keeps its config and its log segments."""
    return settings.data_root / "kafka"


def java() -> str:
    """The java executable: $JAVA_HOME/bin/java, else the one on PATH."""
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return str(Path(home) / "bin" / "java")
    found = shutil.which("java")
    if not found:
        raise RuntimeError("java not found: pinlake needs Java 17 on PATH or JAVA_HOME")
    return found


def server_properties(settings: Settings) -> str:
    """A KRaft combined broker+controller listening on loopback only."""
    data = kafka_dir(settings) / "data"
    return "\n".join([
        "process.roles=broker,controller",
        "node.id=1",
        f"controller.quorum.bootstrap.servers=127.0.0.1:{settings.kafka_controller_port}",
        f"listeners=PLAINTEXT://127.0.0.1:{settings.kafka_port},"
        f"CONTROLLER://127.0.0.1:{settings.kafka_controller_port}",
        f"advertised.listeners=PLAINTEXT://127.0.0.1:{settings.kafka_port}",
        "controller.listener.names=CONTROLLER",
        "inter.broker.listener.name=PLAINTEXT",
        "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        f"log.dirs={data}",
        f"num.partitions={settings.kafka_partitions}",
        "num.network.threads=2",
        "num.io.threads=4",
        "offsets.topic.replication.factor=1",
        "offsets.topic.num.partitions=3",
        "share.coordinator.state.topic.replication.factor=1",
        "share.coordinator.state.topic.min.isr=1",
        "transaction.state.log.replication.factor=1",
        "transaction.state.log.min.isr=1",
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


def prepare(settings: Settings) -> None:
    """Write the broker's config and format its storage the first time."""
    folder = kafka_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "server.properties"
    config.write_text(server_properties(settings))
    (folder / "log4j2.properties").write_text(LOG4J2)
    if (folder / "data" / "meta.properties").exists():
        return
    cluster_id = new_cluster_id()
    subprocess.run(
        [java(), *_jvm_flags(settings, heap="256m"), "-cp", classpath(), "kafka.tools.StorageTool",
         "format", "--standalone", "--cluster-id", cluster_id, "--config", str(config)],
        check=True, capture_output=True, text=True,
    )


def _jvm_flags(settings: Settings, heap: str) -> list[str]:
    folder = kafka_dir(settings)
    return [
        f"-Xmx{heap}", "-Xms128m", "-XX:+UseG1GC", "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={folder / 'log4j2.properties'}",
        f"-Dkafka.logs.dir={settings.log_dir}",
    ]


def command(settings: Settings) -> list[str]:
    """The broker's command line."""
    config = kafka_dir(settings) / "server.properties"
    return [java(), *_jvm_flags(settings, settings.kafka_heap), "-cp", classpath(), "kafka.Kafka", str(config)]


def healthy(bootstrap: str, timeout: float = 2.0) -> bool:
    """True when the broker answers a metadata request."""
    from confluent_kafka.admin import AdminClient

    try:
        admin = AdminClient({"bootstrap.servers": bootstrap, "socket.timeout.ms": int(timeout * 1000),
                             "log_level": QUIET})
        admin.list_topics(timeout=timeout)
        return True
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        return False


def create_topics(bootstrap: str, partitions: int, timeout: float = 30.0) -> list[str]:
    """Create the contract's topics that do not exist yet; returns the names created."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": QUIET})
    existing = set(admin.list_topics(timeout=timeout).topics)
    wanted = [NewTopic(t, num_partitions=partitions, replication_factor=1)
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


KAFKA = Service(
    name="kafka",
    command=command,
    address=lambda s: s.bootstrap,
    healthy=lambda s: healthy(s.bootstrap),
    prepare=prepare,
    after_start=lambda s: create_topics(s.bootstrap, s.kafka_partitions),
    extra=lambda s: {"bootstrap": s.bootstrap},
)
