"""pinlake's settings: one class, read from `PINLAKE_*` environment variables and `.env`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

TOPICS = {"pin": "pinterest.pin", "geo": "pinterest.geo", "user": "pinterest.user"}


def is_s3(path: str) -> bool:
    """True for a path on an S3-compatible object store (s3:// or s3a://)."""
    return path.startswith(("s3://", "s3a://"))


class Settings(BaseSettings):
    """Every knob of pinlake; local, compose and cluster runs differ only here."""

    model_config = SettingsConfigDict(env_prefix="PINLAKE_", env_file=".env", extra="ignore", populate_by_name=True)

    data_root: Path = Field(Path("var"), description="Runtime data: tables, checkpoints, logs.")
    lakehouse_root: str | None = Field(
        None, description="Root of the Delta tables (a path or object-store URI); default <data_root>/lakehouse."
    )
    s3_endpoint: str | None = Field(
        None, validation_alias=AliasChoices("PINLAKE_S3_ENDPOINT", "AWS_ENDPOINT_URL"),
        description="The S3 API of an s3:// lakehouse root (AWS_ENDPOINT_URL works too); none: the local "
                    "object store `pinlake up` starts, http://127.0.0.1:<objectstore_port>.")
    s3_region: str = Field(
        "us-east-1", validation_alias=AliasChoices("PINLAKE_S3_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"),
        description="The S3 region (AWS_REGION works too).")
    s3_access_key_id: str = Field(
        "pinlake", validation_alias=AliasChoices("PINLAKE_S3_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID"),
        description="The S3 access key (AWS_ACCESS_KEY_ID works too); the local object store accepts this one only.")
    s3_secret_access_key: SecretStr = Field(
        SecretStr("pinlake-local-object-store"),
        validation_alias=AliasChoices("PINLAKE_S3_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"),
        description="Its secret (AWS_SECRET_ACCESS_KEY works too).")
    s3_path_style: bool = Field(
        True, description="Path-style requests (http://host/bucket/key), as local S3-compatible servers need.")
    objectstore_port: int = Field(
        8333, description="The local object store's S3 port; its own services listen on the next 7 ports.")
    jvm_cache: Path = Field(
        Path.home() / ".cache" / "pinlake" / "jvm", description="Resolved JVM artifacts (outside git)."
    )
    tools_cache: Path = Field(
        Path.home() / ".cache" / "pinlake" / "tools", description="Tools built from Go modules (outside git)."
    )
    web_cache: Path = Field(
        Path.home() / ".cache" / "pinlake" / "web", description="Fetched browser assets (outside git)."
    )

    kafka_bootstrap: str | None = Field(
        None, description="Kafka bootstrap servers; default the local brokers, 127.0.0.1:<kafka_port>,..."
    )
    kafka_brokers: int = Field(
        1, ge=1, le=9, description="Local Kafka brokers `pinlake up` starts. With 3 or more: a controller quorum "
                                   "of three, topics replicated 3 times, acknowledged = on at least 2 brokers."
    )
    kafka_port: int = Field(9092, description="The first local broker's port; broker n listens on kafka_port + 2(n-1).")
    kafka_controller_port: int = Field(
        9093, description="The first local controller's port; controller n listens on kafka_controller_port + 2(n-1)."
    )
    kafka_partitions: int = 3
    kafka_heap: str = "512m"

    spark_master: str = "local[*]"
    spark_shuffle_partitions: int = 4
    spark_driver_memory: str = "2g"
    spark_small_run_rows: int = Field(
        100_000, ge=0, description="A silver or gold run whose input tables hold at most this many rows runs "
                                   "its queries interpreted (no code generation, no adaptive re-planning): on "
                                   "small data compiling each query costs more than it saves; 0: never."
    )
    spark_server_host: str = Field("127.0.0.1", description="Where the Spark job server listens (lakehouse/jobserver.py).")
    spark_server_port: int = Field(8795, description="The Spark job server's port.")
    spark_server_url: str | None = Field(
        None, description="The Spark job server the DAGs' steps use; default the local one, "
                          "http://<host>:<port>; `none`: always spark-submit."
    )

    bronze_trigger_seconds: float = Field(
        5.0, gt=0, description="Micro-batch interval of the bronze stream (Kafka -> Delta bronze)."
    )
    bronze_max_offsets_per_trigger: int = Field(
        500_000, gt=0, description="Most Kafka records one bronze micro-batch reads (bounds catch-up batches)."
    )
    bronze_fail_on_data_loss: bool = Field(
        True, description="Stop the bronze stream when Kafka already deleted offsets it still needs."
    )
    bronze_metrics_host: str = Field("127.0.0.1", description="Where the bronze stream serves /metrics.")
    bronze_metrics_port: int = Field(8796, description="The bronze stream's /metrics port (lag, batches).")

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    api_workers: int = Field(1, ge=1, description="uvicorn workers of `pinlake api`; /metrics covers them all.")
    api_key: SecretStr | None = Field(None, description="When set, requests need X-API-Key.")
    api_max_body_bytes: int = Field(16 * 1024 * 1024, description="Largest request body; bigger gets 413.")
    api_max_record_bytes: int = Field(1_000_000, description="Largest single record (Kafka's message limit).")
    api_delivery_timeout_s: float = Field(5.0, description="How long a record may wait for Kafka's ack.")
    api_linger_ms: float = Field(2.0, description="Producer linger: batching delay before a send.")
    api_queue_max_messages: int = Field(100_000, description="Producer queue size; full gives 503.")
    api_retry_after_s: int = Field(2, description="Retry-After of a 503.")

    lineage_enabled: bool = Field(
        True, description="Record OpenLineage events of every run (Airflow's and the Spark jobs') in quality.lineage."
    )

    airflow_host: str = Field("127.0.0.1", description="Where the local Airflow API server listens.")
    airflow_port: int = Field(8080, description="The local Airflow API server and UI.")
    airflow_log_port: int = Field(8793, description="Airflow's worker log server (LocalExecutor).")
    airflow_trigger_log_port: int = Field(8794, description="Airflow's triggerer log server.")
    airflow_statsd_port: int = Field(8125, description="UDP port Airflow sends its StatsD metrics to.")
    airflow_metrics_port: int = Field(9102, description="Where Airflow's metrics are served for Prometheus.")
    airflow_parallelism: int = Field(2, ge=1, description="Airflow task slots; two cores: keep it low.")
    airflow_url: str | None = Field(
        None, description="Airflow's API for `pinlake run`; default the local one, http://<host>:<port>."
    )
    airflow_username: str = Field("admin", description="Airflow user of `pinlake run`.")
    airflow_password: SecretStr | None = Field(
        None, description="Its password; default the one the local stack generated."
    )
    medallion_schedule: str = Field(
        "@hourly", description="Cron or preset of the medallion DAG; `none` for manual runs only."
    )
    maintenance_schedule: str = Field(
        "0 3 * * *", description="Cron or preset of the maintenance DAG (OPTIMIZE + VACUUM); `none` for manual."
    )
    vacuum_retention_hours: int = Field(
        168, ge=168, description="VACUUM keeps files this long; at least 7 days (time travel, slow readers)."
    )

    @field_validator("medallion_schedule", "maintenance_schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str:
        # kept as the text "none" (not None), so that child processes inherit it (child_env)
        return "none" if value is None or value.strip().lower() in ("", "none", "null") else value.strip()

    @field_validator("data_root", "jvm_cache", "tools_cache", "web_cache")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @model_validator(mode="after")
    def _kafka_ports_apart(self) -> Settings:
        clients = {self.broker_port(n) for n in self.broker_nodes}
        controllers = {self.controller_port(n) for n in self.broker_nodes}
        if clients & controllers:
            raise ValueError(
                f"kafka_port ({self.kafka_port}) and kafka_controller_port ({self.kafka_controller_port}) give "
                f"{self.kafka_brokers} brokers the same port(s) {sorted(clients & controllers)}: broker n listens on "
                "kafka_port + 2(n-1) and its controller on kafka_controller_port + 2(n-1)")
        return self

    @property
    def broker_nodes(self) -> range:
        """The local brokers' node ids, 1 to kafka_brokers."""
        return range(1, self.kafka_brokers + 1)

    def broker_port(self, node: int) -> int:
        """Where local broker `node` (1-based) serves clients."""
        return self.kafka_port + 2 * (node - 1)

    def controller_port(self, node: int) -> int:
        """Where local broker `node`'s KRaft controller listens."""
        return self.kafka_controller_port + 2 * (node - 1)

    @property
    def replication_factor(self) -> int:
        """Replicas of each topic partition: min(3, brokers)."""
        return min(3, self.kafka_brokers)

    @property
    def min_insync_replicas(self) -> int:
        """Replicas that must hold a record before it is acknowledged: 2 with three or more brokers."""
        return 2 if self.kafka_brokers >= 3 else 1

    @property
    def bootstrap(self) -> str:
        """The Kafka bootstrap servers to use."""
        return self.kafka_bootstrap or ",".join(f"127.0.0.1:{self.broker_port(n)}" for n in self.broker_nodes)

    @property
    def lakehouse(self) -> str:
        """Where the Delta tables live."""
        return self.lakehouse_root or str(self.data_root / "lakehouse")

    @property
    def on_s3(self) -> bool:
        """True when the tables live on an S3-compatible object store (an s3:// root)."""
        return is_s3(self.lakehouse)

    @property
    def local_object_store(self) -> bool:
        """True when `pinlake up` runs the object store: an s3:// root and no endpoint configured."""
        return self.on_s3 and not self.s3_endpoint

    @property
    def s3_url(self) -> str:
        """The S3 endpoint in use: the configured one, or the local object store's."""
        return (self.s3_endpoint or f"http://127.0.0.1:{self.objectstore_port}").rstrip("/")

    @property
    def bucket(self) -> str | None:
        """The lakehouse root's bucket, None for a root on a file system."""
        return self.lakehouse.split("://", 1)[1].split("/", 1)[0] if self.on_s3 else None

    @property
    def spark_server(self) -> str | None:
        """The Spark job server's URL, or None when the steps must spark-submit."""
        if self.spark_server_url and self.spark_server_url.lower() == "none":
            return None
        host = "127.0.0.1" if self.spark_server_host in ("0.0.0.0", "::", "") else self.spark_server_host
        return (self.spark_server_url or f"http://{host}:{self.spark_server_port}").rstrip("/")

    @property
    def run_dir(self) -> Path:
        """Pid files of the local services."""
        return self.data_root / "run"

    @property
    def log_dir(self) -> Path:
        """One log file per local service."""
        return self.data_root / "logs"

    def child_env(self) -> dict[str, str]:
        """Every setting as a PINLAKE_* variable, so child processes see the same settings."""
        env = {}
        for name, value in self.model_dump().items():
            if value is None:
                continue
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            env[f"PINLAKE_{name.upper()}"] = str(value)
        return env


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
