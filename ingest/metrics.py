"""Prometheus metrics of the ingest API, in a registry of each app's own (tests build many apps)."""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Callable, Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.process_collector import ProcessCollector

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class IngestMetrics:
    """Requests by route and status, records acknowledged by type, latency, Kafka state."""

    def __init__(self, queue_length: Callable[[], float], reachable: Callable[[], bool]):
        self.registry = CollectorRegistry()
        self._children: dict[tuple, object] = {}
        ProcessCollector(registry=self.registry)
        self.requests = Counter("pinlake_ingest_requests", "HTTP requests by route and status.",
                                ["route", "status"], registry=self.registry)
        self.records = Counter("pinlake_ingest_records", "Records Kafka acknowledged, by type.",
                               ["type"], registry=self.registry)
        self.latency = Histogram("pinlake_ingest_request_seconds", "Time to answer an ingest request.",
                                 ["route"], buckets=LATENCY_BUCKETS, registry=self.registry)
        queue = Gauge("pinlake_ingest_producer_queue_messages", "Records produced, not yet acknowledged.",
                      registry=self.registry)
        queue.set_function(queue_length)
        up = Gauge("pinlake_ingest_kafka_reachable", "1 when the broker answers.", registry=self.registry)
        up.set_function(lambda: float(reachable()))

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

    def render(self) -> bytes:
        """The Prometheus text exposition."""
        return generate_latest(self.registry)
