"""The local stack's services, in start order: what `pinlake up` starts and `down` stops (in reverse)."""

from __future__ import annotations

from pinlake.settings import Settings
from pinlake.supervisor import Service


def all_services(settings: Settings | None = None) -> list[Service]:
    """The local object store (when the lakehouse root is s3:// and no endpoint is configured),
    Kafka's brokers (PINLAKE_KAFKA_BROKERS of them), the ingest API, the bronze stream, the Spark
    job server, the exporter of Airflow's metrics and Airflow; each area defines its own Service."""
    from ingest.service import API
    from lakehouse.bronze.service import BRONZE
    from lakehouse.jobserver import SPARK_SERVER
    from orchestration.metrics import AIRFLOW_METRICS
    from orchestration.service import AIRFLOW
    from pinlake.kafka import brokers
    from pinlake.objectstore import OBJECT_STORE
    from pinlake.settings import get_settings

    settings = settings or get_settings()
    store = [OBJECT_STORE] if settings.local_object_store else []
    return [*store, *brokers(settings), API, BRONZE, SPARK_SERVER, AIRFLOW_METRICS, AIRFLOW]
