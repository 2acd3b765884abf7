"""A replicated Kafka (PINLAKE_KAFKA_BROKERS=3) under load: brokers killed, nothing acknowledged lost.

One stack for the module, as `pinlake up` starts it with three brokers, minus Airflow: three
KRaft nodes (each a broker and one of the three controllers), the API (with a key) and the
bronze stream. Topics are replicated three times with `min.insync.replicas=2`, so a 200 from
the API means at least two brokers hold the record. Events go in through the API while the
faults land, every 200 into a ledger (tests/integration/test_reliability.py's `Ingest`), and
each test ends with the bronze stream caught up, a silver run and `pinlake audit --ledger` clean.

1. the leader of a partition SIGKILLed, then started again as `pinlake up` starts it;
2. two brokers SIGKILLed: no record posted while they are down gets a 200; then both back;
3. one broker stopped, its log directory wiped (a replaced disk), started again: it formats a
   fresh log with the cluster's id and catches up from the others, back in every partition's
   in-sync replicas with segments of its own.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from collections import Counter

import httpx
import psutil
import pytest

from ingest.emulator import generate
from ingest.service import api_url
from pinlake.kafka import kafka_dir, partitions, service_name
from pinlake.supervisor import wait_until
from tests.conftest import free_block
from tests.integration.test_reliability import KEY, Ingest, Stack, audit_clean, running_stack

pytestmark = [pytest.mark.integration, pytest.mark.replicated, pytest.mark.timeout(1500)]

BROKERS = 3


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    base = free_block(2 * BROKERS)
    with running_stack(tmp_path_factory.mktemp("replicated") / "var", kafka_brokers=BROKERS, kafka_port=base,
                       kafka_controller_port=base + 1) as running:
        yield running


def fully_replicated(stack: Stack) -> bool:
    """Every contract partition has a leader and all three brokers in sync."""
    try:
        found = partitions(stack.settings.bootstrap)
    except Exception:  # noqa: BLE001 - no broker answering yet
        return False
    return len(found) == 3 * stack.settings.kafka_partitions and \
        all(p["leader"] is not None and len(p["isr"]) == BROKERS for p in found)


def sigkill(stack: Stack, node: int) -> None:
    proc = stack.supervisor.process(service_name(node))
    assert proc is not None, f"broker {node} is not running"
    os.killpg(proc.pid, signal.SIGKILL)
    psutil.wait_procs([proc], timeout=30)


def restart(stack: Stack) -> list[str]:
    """What `pinlake up` does: start what is not running (the brokers together), wait until healthy."""
    started = []
    stack.supervisor.up(on_event=lambda name, what: started.append(name) if what == "started" else None)
    return started


def test_topics_are_replicated_three_times_with_two_in_sync_required(stack):
    from confluent_kafka.admin import AdminClient, ConfigResource

    found = partitions(stack.settings.bootstrap)
    assert {p["topic"] for p in found} == {"pinterest.pin", "pinterest.geo", "pinterest.user"}
    assert all(len(p["replicas"]) == BROKERS for p in found), found
    assert {p["leader"] for p in found} == {1, 2, 3}, "leadership is spread over the brokers"
    admin = AdminClient({"bootstrap.servers": stack.settings.bootstrap})
    resources = [ConfigResource("TOPIC", "pinterest.pin")]
    config = next(iter(admin.describe_configs(resources).values())).result(30)
    assert config["min.insync.replicas"].value == "2"
    status = {name: entry for name, entry in stack.supervisor.status().items() if name.startswith("kafka")}
    assert sorted(status) == ["kafka", "kafka-2", "kafka-3"] and all(e["healthy"] for e in status.values())


def test_leader_sigkilled_under_load_then_restarted_loses_nothing(stack, spark):
    with Ingest(stack, start_posting=300_000) as ingest:
        assert ingest.more_than(300)
        leader = partitions(stack.settings.bootstrap)[0]["leader"]
        led = [(p["topic"], p["partition"]) for p in partitions(stack.settings.bootstrap) if p["leader"] == leader]
        sigkill(stack, leader)
        killed_at = time.monotonic()
        # The controller moves leadership off the dead broker; the API answers 200 again without it.
        assert wait_until(lambda: all(p["leader"] not in (None, leader) for p in partitions(stack.settings.bootstrap)
                                      if (p["topic"], p["partition"]) in led), 60)
        moved = time.monotonic() - killed_at
        assert wait_until(lambda: any(sent > killed_at and status == 200 for sent, _, status in ingest.answers), 60)
        back = min(answered for sent, answered, status in ingest.answers if sent > killed_at and status == 200)
        print(f"broker {leader} (leader of {len(led)} partitions) SIGKILLed: leaders moved in {moved:.1f}s, "
              f"first 200 of a request sent after the kill {back - killed_at:.1f}s after it")
        assert ingest.more_than(ingest.acknowledged + 150)
        assert restart(stack) == [service_name(leader)]
        assert wait_until(lambda: fully_replicated(stack), 120), partitions(stack.settings.bootstrap)
        assert ingest.more_than(ingest.acknowledged + 150)
    assert not ingest.failures and set(ingest.statuses) <= {200, 503}, (ingest.statuses, ingest.failures[:3])
    audit_clean(stack, spark)


def test_two_brokers_sigkilled_no_record_sent_meanwhile_is_acknowledged(stack, spark):
    with Ingest(stack, start_posting=400_000) as ingest:
        assert ingest.more_than(300)
        for node in (2, 3):
            sigkill(stack, node)
        both_dead = time.monotonic()
        # Every partition is now below min.insync.replicas: requests get 503 with Retry-After.
        assert wait_until(lambda: sum(1 for sent, _, status in ingest.answers
                                      if sent > both_dead and status == 503) >= 5, 120), ingest.statuses
        answer = httpx.post(f"{api_url(stack.settings)}/events", headers={"X-API-Key": KEY}, timeout=30,
                            json=list(generate(1, seed=7, start=900_000)))
        assert answer.status_code == 503 and int(answer.headers["Retry-After"]) >= 1, answer.text
        restarted_at = time.monotonic()
        assert restart(stack) == [service_name(2), service_name(3)]
        during = [status for sent, _, status in ingest.answers if both_dead < sent < restarted_at]
        assert during and set(during) == {503}, Counter(during)
        assert wait_until(lambda: fully_replicated(stack), 180), partitions(stack.settings.bootstrap)
        assert ingest.more_than(ingest.acknowledged + 150)
        print(f"two brokers down {restarted_at - both_dead:.0f}s: {len(during)} requests sent meanwhile, "
              f"every one answered 503")
    assert not ingest.failures and set(ingest.statuses) == {200, 503}, (ingest.statuses, ingest.failures[:3])
    audit_clean(stack, spark)


def test_a_wiped_broker_catches_up_from_the_others(stack, spark):
    node = 3
    with Ingest(stack, start_posting=500_000) as ingest:
        assert ingest.more_than(300)
        assert stack.supervisor.stop(next(s for s in stack.supervisor.services if s.name == service_name(node)))
        data = kafka_dir(stack.settings, node) / "data"
        shutil.rmtree(data)  # a replaced disk: no segments, no metadata log, no meta.properties
        assert ingest.more_than(ingest.acknowledged + 150)  # two in sync: writes go on meanwhile
        assert restart(stack) == [service_name(node)]
        assert wait_until(lambda: fully_replicated(stack), 180), partitions(stack.settings.bootstrap)
        assert ingest.more_than(ingest.acknowledged + 150)
    assert not ingest.failures and set(ingest.statuses) <= {200, 503}, (ingest.statuses, ingest.failures[:3])
    # Back in sync means its log reached each leader's high watermark: it holds segments of every partition.
    held = {folder.name for folder in data.iterdir() if folder.is_dir() and folder.name.startswith("pinterest.")}
    assert held == {f"{t}-{p}" for t in ("pinterest.pin", "pinterest.geo", "pinterest.user")
                    for p in range(stack.settings.kafka_partitions)}
    assert all(sum(f.stat().st_size for f in (data / name).glob("*.log")) > 0 for name in held)
    audit_clean(stack, spark)
