"""Prometheus metrics of the ingest API, in a registry of each app's own (tests build many apps).

With several uvicorn workers (`pinlake api --workers N`), prometheus_client's multiprocess mode
holds every worker's values in files of one folder (PROMETHEUS_MULTIPROC_DIR, set before the
workers start), and /metrics, whichever worker answers, adds them up: requests and records are
sums over the workers, the producer queue is their sum, Kafka reachable their minimum.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter as Tally
from collections.abc import Callable, Sequence
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess
from prometheus_client.process_collector import ProcessCollector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def share_between_processes(folder: Path) -> None:
    """Start the multiprocess mode for the workers about to start: an empty folder, named in the
    environment they inherit (values left from an earlier run would be counted again)."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    os.environ[MULTIPROC_ENV] = str(folder)

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class IngestMetrics:
    """Requests by route and status, records acknowledged by type, latency, Kafka state."""

    def __init__(self, queue_length: Callable[[], float], reachable: Callable[[], bool]):
        self.registry = CollectorRegistry()
        self.shared = os.environ.get(MULTIPROC_ENV)
        self._children: dict[tuple, object] = {}
        self._queue_length, self._reachable = queue_length, reachable
        if not self.shared:  # per process only: the multiprocess mode has no process metrics
            ProcessCollector(registry=self.registry)
        self.requests = Counter("pinlake_ingest_requests", "HTTP requests by route and status.",
                                ["route", "status"], registry=self.registry)
        self.records = Counter("pinlake_ingest_records", "Records Kafka acknowledged, by type.",
                               ["type"], registry=self.registry)
        self.latency = Histogram("pinlake_ingest_request_seconds", "Time to answer an ingest request.",
                                 ["route"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.queue = Gauge("pinlake_ingest_producer_queue_messages", "Records produced, not yet acknowledged.",
                           registry=self.registry, multiprocess_mode="livesum")
        self.up = Gauge("pinlake_ingest_kafka_reachable", "1 when the broker answers.", registry=self.registry,
                        multiprocess_mode="livemin")
        if not self.shared:
            self.queue.set_function(queue_length)
            self.up.set_function(lambda: float(reachable()))

    def observe(self, route: str, status: int, seconds: float, kinds: Sequence[str] = ()) -> None:
        """Count one answered request, and its records when Kafka took them."""
        self._child(self.requests, route, str(status)).inc()
        self._child(self.latency, route).observe(seconds)
        if len(kinds) == 1:
            self._child(self.records, kinds[0]).inc()
        elif kinds:
            for kind, count in Tally(kinds).items():
                self._child(self.records, kind).inc(count)

    def _child(self, metric, *labels):
        # labels() takes a lock and builds a key on every call; the children are few, keep them.
        key = (id(metric), *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def refresh(self) -> None:
        """Write this process's gauges to its file (multiprocess mode; a function gauge otherwise)."""
        if self.shared:
            self.queue.set(self._queue_length())
            self.up.set(float(self._reachable()))

    def retire(self) -> None:
        """This worker stops: its live gauges leave the sums."""
        if self.shared:
            multiprocess.mark_process_dead(os.getpid(), self.shared)

    def render(self) -> bytes:
        """The Prometheus text exposition: of every worker in multiprocess mode, else this process's."""
        if not self.shared:
            return generate_latest(self.registry)
        self.refresh()
        merged = CollectorRegistry()
        multiprocess.MultiProcessCollector(merged, self.shared)
        return generate_latest(merged)
