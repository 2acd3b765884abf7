"""Prometheus metrics of the bronze stream, served by its driver (`pinlake bronze`) at
http://<bronze_metrics_host>:<bronze_metrics_port>/metrics.

- `pinlake_bronze_lag_messages{topic,partition}`: Kafka's end offset minus the next offset
  bronze holds, read when scraped (the same figures as `pinlake status`, per partition);
- `pinlake_bronze_batch_seconds` and `pinlake_bronze_batch_rows`: each micro-batch's duration
  (Spark's trigger execution) and Kafka records, as histograms, from the query's progress;
- `pinlake_bronze_last_commit_timestamp_seconds`: when the last micro-batch's Delta commits ended;
- `pinlake_bronze_kafka_reachable`: 1 when the scrape could read Kafka's end offsets.
"""

from __future__ import annotations

import logging
from datetime import datetime

from prometheus_client import CollectorRegistry, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from lakehouse.bronze.status import partition_lags, positions
from pinlake.settings import Settings

log = logging.getLogger("pinlake.bronze")
SECONDS_BUCKETS = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
ROWS_BUCKETS = (0, 10, 100, 1_000, 10_000, 100_000, 500_000)


def metrics_url(settings: Settings) -> str:
    """Where this machine reaches the driver's /metrics (a wildcard bind is reached on loopback)."""
    host = "127.0.0.1" if settings.bronze_metrics_host in ("0.0.0.0", "::", "") else settings.bronze_metrics_host
    return f"http://{host}:{settings.bronze_metrics_port}/metrics"


class PositionCollector(Collector):
    """Lag per partition, the last commit's time and Kafka's reachability, computed per scrape."""

    def __init__(self, settings: Settings):
        self.settings = settings

    def collect(self):
        progress, held, ends = positions(self.settings)
        lag = GaugeMetricFamily("pinlake_bronze_lag_messages",
                                "Kafka's end offset minus the next offset bronze holds.", labels=["topic", "partition"])
        for topic, partitions in partition_lags(held, ends or {}).items():
            for partition, messages in partitions.items():
                lag.add_metric([topic, partition], messages)
        yield lag
        reachable = GaugeMetricFamily("pinlake_bronze_kafka_reachable", "1 when the scrape read Kafka's end offsets.")
        reachable.add_metric([], float(ends is not None))
        yield reachable
        commit = GaugeMetricFamily("pinlake_bronze_last_commit_timestamp_seconds",
                                   "When the last micro-batch's Delta commits ended (Unix time).")
        if progress and progress.get("batch_at"):
            commit.add_metric([], datetime.fromisoformat(progress["batch_at"]).timestamp())
        yield commit


class BronzeMetrics:
    """The registry the driver serves; `observe` takes the query's progress reports."""

    def __init__(self, settings: Settings):
        self.registry = CollectorRegistry()
        self.registry.register(PositionCollector(settings))
        self.seconds = Histogram("pinlake_bronze_batch_seconds", "Duration of a micro-batch (trigger execution).",
                                 buckets=SECONDS_BUCKETS, registry=self.registry)
        self.rows = Histogram("pinlake_bronze_batch_rows", "Kafka records read by a micro-batch.",
                              buckets=ROWS_BUCKETS, registry=self.registry)
        self.last_batch: int | None = None

    def observe(self, progresses: list[dict]) -> None:
        """Count each micro-batch once, from StreamingQuery.recentProgress."""
        for progress in progresses:
            batch = progress.get("batchId")
            if batch is None or (self.last_batch is not None and batch <= self.last_batch):
                continue
            self.last_batch = batch
            self.seconds.observe(progress.get("durationMs", {}).get("triggerExecution", 0) / 1000)
            self.rows.observe(progress.get("numInputRows", 0))

    def serve(self, host: str, port: int) -> bool:
        """Serve /metrics; a port that is taken is logged, and the stream goes on without."""
        try:
            start_http_server(port, addr=host, registry=self.registry)
        except OSError as exc:
            log.error("bronze: metrics not served on %s:%s (%s)", host, port, exc)
            return False
        log.info("bronze: metrics at http://%s:%s/metrics", host, port)
        return True
