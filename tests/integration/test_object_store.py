"""The lakehouse on a real S3-compatible object store (SeaweedFS, `make objectstore`).

The store runs as `pinlake up` runs it (pinlake/objectstore.py), on free loopback ports. Two
writers commit to one table at the same moment, each from its own process (a Spark JVM through
pinlake's log store, and `deltalake`): no commit may be lost. A wrong endpoint, wrong credentials
and a missing bucket each give one line naming the setting, from `pinlake up` and from a job.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pytest

from lakehouse import tables
from pinlake.exits import Exit
from pinlake.settings import get_settings
from tests.conftest import free_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]
ROOT = Path(__file__).resolve().parents[2]
PINLAKE = [sys.executable, "-m", "pinlake.cli"]


@pytest.fixture
def on_store(object_store, monkeypatch):
    """The environment of a command on the store, this process's too, its endpoint given (as a
    store of one's own is): `pinlake up` then only checks it."""
    env = {**object_store.child_env(), "PINLAKE_S3_ENDPOINT": object_store.s3_url}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    yield {**os.environ, **env}
    get_settings.cache_clear()


def test_two_writers_at_once_never_lose_a_commit(on_store):
    """A Spark JVM and `deltalake` append to one table at the same time, each commit one row:
    every row of every acknowledged commit is there once, and the commits interleave."""
    env = on_store
    table, commits = "bronze.race", 12
    spark = subprocess.Popen([sys.executable, "-m", "tests.integration.race_writer", table, str(commits)],
                             cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert spark.stdout.readline().strip() == "ready"
        started, ours = time.monotonic(), []
        while spark.poll() is None:  # a commit about every Spark commit's time: they meet often
            tag = f"rs-{len(ours)}"
            tables.append_rows(pa.table({"tag": [tag]}), table)
            ours.append(tag)
            time.sleep(0.2)
        assert spark.wait() == 0
        print(f"{commits + 1} Spark commits and {len(ours)} deltalake commits in {time.monotonic() - started:.1f}s")
    finally:
        spark.kill()
    expected = {"spark-warmup", *(f"spark-{i}" for i in range(commits)), *ours}
    found = Counter(tables.arrow(table)["tag"].to_pylist())
    assert set(found) == expected, f"lost: {sorted(expected - set(found))}"
    assert set(found.values()) == {1}
    assert tables.version(table) == len(expected) - 1  # one version per commit, none overwritten
    engines = [("Spark" in str(c.get("engineInfo", ""))) for c in reversed(tables.history(table))]
    switches = sum(a != b for a, b in zip(engines, engines[1:]))
    assert switches >= 4, f"the writers hardly overlapped ({len(ours)} deltalake commits, {switches} switches)"


class CommitLines:
    """A Delta commit's lines as the java.util.Iterator a log store writes from (through py4j's
    callback server); `meanwhile` runs just before the last line is handed over: after any check
    the log store made, before its PUT."""

    def __init__(self, lines: list[str], meanwhile):
        self.lines, self.meanwhile, self.given = lines, meanwhile, 0

    def hasNext(self) -> bool:  # noqa: N802 - Java's names
        return self.given < len(self.lines)

    def next(self) -> str:
        if self.given == len(self.lines) - 1:
            self.meanwhile()
        self.given += 1
        return self.lines[self.given - 1]

    class Java:
        implements = ["java.util.Iterator"]


@pytest.mark.parametrize("log_store, keeps_the_first", [
    ("pinlake.delta.ConditionalPutLogStore", True),
    ("io.delta.storage.S3SingleDriverLogStore", False),
], ids=["pinlake's log store", "Delta's S3 log store"])
def test_a_commit_written_while_another_is_being_put_is_refused(object_store, spark, log_store, keeps_the_first):
    """Another writer creates commit N after the log store checked that N is absent and before its
    PUT. pinlake's log store gets the store's 412 as FileAlreadyExistsException (Delta retries at
    N+1) and the other commit stays; Delta's S3 log store overwrites it: that commit is lost."""
    from py4j.protocol import Py4JJavaError
    from pyspark.java_gateway import ensure_callback_server_started

    from pinlake import objectstore

    gateway = spark.sparkContext._gateway
    ensure_callback_server_started(gateway)
    jvm = spark.sparkContext._jvm
    conf = jvm.org.apache.hadoop.conf.Configuration(spark.sparkContext._jsc.hadoopConfiguration())
    for key, value in {**objectstore.hadoop_options(object_store), "fs.s3.impl.disable.cache": "true"}.items():
        conf.set(key, value)
    key = f"{object_store.bucket}/lake/race-{log_store.rsplit('.', 1)[1]}/_delta_log/00000000000000000000.json"
    other = b'{"commitInfo":{"writer":"the other one"}}\n'

    def the_other_writer_commits():
        with objectstore.filesystem(object_store).open_output_stream(key) as out:
            out.write(other)

    lines = CommitLines(['{"commitInfo":{"writer":"this one"}}'], the_other_writer_commits)
    writer = jvm
    for part in log_store.split("."):
        writer = getattr(writer, part)
    writer = writer(conf)
    path = jvm.org.apache.hadoop.fs.Path(f"s3://{key}")
    if keeps_the_first:
        with pytest.raises(Py4JJavaError, match="java.nio.file.FileAlreadyExistsException") as refused:
            writer.write(path, lines, False, conf)
        assert "RemoteFileChangedException" in str(refused.value)  # the store's 412, not a check beforehand
    else:
        writer.write(path, lines, False, conf)  # no error: it believes its commit landed
    with objectstore.filesystem(object_store).open_input_stream(key) as stream:
        kept = stream.read()
    assert (kept == other) is keeps_the_first, kept


def pinlake(args: list[str], env: dict, timeout: float = 120) -> tuple[subprocess.CompletedProcess, float]:
    started = time.monotonic()
    done = subprocess.run([*PINLAKE, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    return done, time.monotonic() - started


@pytest.mark.parametrize("change, exit_code, named", [
    ({"PINLAKE_S3_ENDPOINT": "http://127.0.0.1:{closed}"}, Exit.UNREACHABLE, "PINLAKE_S3_ENDPOINT"),
    ({"PINLAKE_S3_SECRET_ACCESS_KEY": "not-the-secret"}, Exit.REFUSED, "PINLAKE_S3_SECRET_ACCESS_KEY"),
    ({"PINLAKE_LAKEHOUSE_ROOT": "s3://no-such-bucket/lake"}, Exit.FAILED, "no-such-bucket"),
], ids=["unreachable endpoint", "wrong credentials", "missing bucket"])
def test_a_bad_setting_is_named_by_up_and_by_a_job(on_store, change, exit_code, named):
    """`pinlake up` (before it starts anything) and `pinlake gold` (a job) each fail fast with one
    line naming the setting, never a hang or a stack trace."""
    env = {**on_store, **{key: value.format(closed=free_port()) for key, value in change.items()}}
    for command in (["up"], ["gold"]):
        done, took = pinlake(command, env)
        assert done.returncode == exit_code, done.stdout + done.stderr
        assert named in done.stderr and "Traceback" not in done.stderr, done.stderr
        assert took < 60, f"`pinlake {command[0]}` took {took:.0f}s to fail"
