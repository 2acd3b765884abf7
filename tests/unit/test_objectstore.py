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


def test_the_checkpoint_is_beside_the_tables_on_a_store_and_under_the_data_root_on_a_disk(tmp_path):
    from lakehouse.bronze.state import checkpoint_dir

    assert checkpoint_dir(settings(lakehouse_root="s3://lake-bucket/prefix/")) == \
        "s3://lake-bucket/prefix/_checkpoints/bronze"
    assert checkpoint_dir(Settings(_env_file=None, data_root=tmp_path)) == str(tmp_path / "checkpoints" / "bronze")


def test_small_files_are_read_and_listed_alike_on_a_disk(tmp_path):
    """The helpers the checkpoint's readers use, on a local path (on the store: the integration tests)."""
    from lakehouse.bronze.state import checkpoint_batches, checkpoint_query_id

    disk = Settings(_env_file=None, data_root=tmp_path)
    assert checkpoint_batches(disk) == set() and checkpoint_query_id(disk) is None  # no checkpoint yet
    folder = tmp_path / "checkpoints" / "bronze"
    (folder / "offsets").mkdir(parents=True)
    for name in ("0", "1", ".1.crc", "2"):
        (folder / "offsets" / name).write_text("v1")
    (folder / "metadata").write_text('{"id": "q-7"}')
    assert checkpoint_batches(disk) == {0, 1, 2} and checkpoint_batches(disk, "commits") == set()
    assert checkpoint_query_id(disk) == "q-7"
    assert objectstore.names(str(folder), disk) == ["metadata", "offsets"]
    assert objectstore.read_text(str(folder / "missing"), disk) is None
