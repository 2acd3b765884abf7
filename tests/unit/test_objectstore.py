"""The object-store settings as each client gets them (pure functions; the store itself is in
tests/integration/test_object_store.py)."""

from __future__ import annotations

import pytest

from pinlake import objectstore
from pinlake.settings import Settings

pytestmark = pytest.mark.unit


def settings(**overrides) -> Settings:
    return Settings(_env_file=None, **{"lakehouse_root": "s3://lake-bucket/prefix", **overrides})


def test_an_s3_root_without_endpoint_is_the_local_store(monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("PINLAKE_S3_ENDPOINT", raising=False)
    local = settings(objectstore_port=9100)
    assert local.on_s3 and local.local_object_store and local.bucket == "lake-bucket"
    assert local.s3_url == "http://127.0.0.1:9100"
    # a child of `pinlake up` (its settings as PINLAKE_* variables) finds the same store
    child = Settings(_env_file=None, **{k.removeprefix("PINLAKE_").lower(): v for k, v in local.child_env().items()})
    assert child.s3_url == local.s3_url and child.local_object_store
    assert not settings(lakehouse_root="/data/lakehouse").on_s3


def test_the_aws_standard_variables_work_too(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://s3.example.test")
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "very-secret")
    s = settings()
    assert not s.local_object_store and s.s3_url == "https://s3.example.test"
    options = objectstore.storage_options(s)
    assert options["AWS_REGION"] == "eu-west-3" and options["AWS_SECRET_ACCESS_KEY"] == "very-secret"
    assert options["AWS_ALLOW_HTTP"] == "false"


def test_spark_reads_s3_paths_through_s3a_and_commits_through_the_conditional_log_store():
    conf = objectstore.spark_conf(settings(s3_endpoint="http://127.0.0.1:9000", s3_access_key_id="k"))
    assert conf["spark.hadoop.fs.s3.impl"] == "org.apache.hadoop.fs.s3a.S3AFileSystem"
    assert conf["spark.hadoop.fs.s3a.endpoint"] == "http://127.0.0.1:9000"
    assert conf["spark.hadoop.fs.s3a.connection.ssl.enabled"] == "false"
    assert conf["spark.hadoop.fs.s3a.access.key"] == "k"
    assert conf["spark.delta.logStore.s3.impl"] == conf["spark.delta.logStore.s3a.impl"] == objectstore.LOG_STORE


def test_duckdbs_secret_is_scoped_to_the_bucket_and_quoted():
    sql = objectstore.duckdb_secret(settings(s3_endpoint="http://127.0.0.1:9000",
                                             s3_secret_access_key="it's"))
    assert "ENDPOINT '127.0.0.1:9000'" in sql and "USE_SSL false" in sql and "URL_STYLE 'path'" in sql
    assert "SECRET 'it''s'" in sql and "SCOPE 's3://lake-bucket'" in sql


def test_the_local_stores_ports_follow_its_s3_port():
    s = settings(objectstore_port=9100)
    ports = [objectstore.port(s, role) for role in objectstore.PORTS]
    assert ports == list(range(9100, 9108))
