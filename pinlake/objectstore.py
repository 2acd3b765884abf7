"""The lakehouse on S3-compatible object storage: the options every client needs, a check that
fails fast naming the setting at fault, and the local object store `pinlake up` runs.

With `PINLAKE_LAKEHOUSE_ROOT=s3://bucket/prefix` the Delta tables live in that bucket. The
endpoint, region and credentials are settings (`PINLAKE_S3_*`, or the AWS standard variables).
When no endpoint is configured, `pinlake up` starts SeaweedFS (`weed server -s3`, built from its Go
module by `make objectstore`) on 127.0.0.1, with one identity (the configured key pair), and
creates the bucket. Each client gets the same settings in its own terms: `deltalake` storage
options, Hadoop's S3A options for Spark, a pyarrow file system for the checks here.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from urllib.parse import urlsplit

from pinlake import gotools
from pinlake.exits import Exit
from pinlake.settings import Settings, is_s3
from pinlake.supervisor import Service, wait_until

# The local store's ports from objectstore_port (S3) up: its master, volume server and filer,
# and the gRPC port of each.
PORTS = ("s3", "master", "volume", "filer", "s3.grpc", "master.grpc", "volume.grpc", "filer.grpc")


class ObjectStoreError(RuntimeError):
    """The object store cannot serve the lakehouse; the message names the setting to fix, `exit`
    is the command's exit code (pinlake/exits.py)."""

    def __init__(self, message: str, exit: Exit = Exit.FAILED):
        super().__init__(message)
        self.exit = exit


def port(settings: Settings, role: str) -> int:
    """The local store's port for `role` (one of PORTS)."""
    return settings.objectstore_port + PORTS.index(role)


def storage_options(settings: Settings) -> dict[str, str]:
    """The `deltalake` (delta-rs) options for s3:// paths.

    delta-rs commits with a conditional PUT (If-None-Match), so concurrent writers are safe
    without a locking provider."""
    return {
        "AWS_ENDPOINT_URL": settings.s3_url,
        "AWS_REGION": settings.s3_region,
        "AWS_ACCESS_KEY_ID": settings.s3_access_key_id,
        "AWS_SECRET_ACCESS_KEY": settings.s3_secret_access_key.get_secret_value(),
        "AWS_ALLOW_HTTP": str(settings.s3_url.startswith("http://")).lower(),
        "AWS_VIRTUAL_HOSTED_STYLE_REQUEST": str(not settings.s3_path_style).lower(),
    }


# Delta's log store for s3:// and s3a:// paths: commits by conditional create (lakehouse/java).
LOG_STORE = "pinlake.delta.ConditionalPutLogStore"


def hadoop_options(settings: Settings) -> dict[str, str]:
    """Hadoop's S3A options: s3:// paths are read and written by S3A as s3a:// ones are."""
    return {
        "fs.s3.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
        "fs.AbstractFileSystem.s3.impl": "org.apache.hadoop.fs.s3a.S3A",  # streaming checkpoints
        "fs.s3a.endpoint": settings.s3_url,
        "fs.s3a.endpoint.region": settings.s3_region,
        "fs.s3a.path.style.access": str(settings.s3_path_style).lower(),
        "fs.s3a.connection.ssl.enabled": str(settings.s3_url.startswith("https://")).lower(),
        "fs.s3a.aws.credentials.provider": "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
        "fs.s3a.access.key": settings.s3_access_key_id,
        "fs.s3a.secret.key": settings.s3_secret_access_key.get_secret_value(),
        # the SDK's default of retrying for minutes turns a wrong setting into a hang
        "fs.s3a.attempts.maximum": "3",
        "fs.s3a.retry.limit": "3",
        "fs.s3a.connection.establish.timeout": "15s",  # the least S3A takes
        # the classic input stream: the analytics accelerator's needs a library pinlake leaves out
        "fs.s3a.input.stream.type": "classic",
    }


def spark_conf(settings: Settings) -> dict[str, str]:
    """Spark's S3A options (hadoop_options), and Delta committing to s3:// and s3a:// paths through
    LOG_STORE. (The classes load at such a path's first use: harmless for tables on a disk.)"""
    conf = {f"spark.hadoop.{key}": value for key, value in hadoop_options(settings).items()}
    for scheme in ("s3", "s3a"):
        conf[f"spark.delta.logStore.{scheme}.impl"] = LOG_STORE
    return conf


def duckdb_secret(settings: Settings) -> str:
    """DuckDB's `CREATE SECRET` for the lakehouse's bucket (the httpfs and delta extensions read it)."""
    url = urlsplit(settings.s3_url)

    def quoted(value: str) -> str:
        return "'" + value.replace("'", "''") + "'"

    return (f"CREATE OR REPLACE SECRET pinlake (TYPE s3, KEY_ID {quoted(settings.s3_access_key_id)}, "
            f"SECRET {quoted(settings.s3_secret_access_key.get_secret_value())}, "
            f"REGION {quoted(settings.s3_region)}, ENDPOINT {quoted(url.netloc)}, "
            f"URL_STYLE {quoted('path' if settings.s3_path_style else 'vhost')}, "
            f"USE_SSL {str(url.scheme == 'https').lower()}, SCOPE {quoted(f's3://{settings.bucket}')})")


def filesystem(settings: Settings):
    """A pyarrow S3 file system on the configured endpoint (short timeouts, few retries)."""
    from pyarrow import fs

    url = urlsplit(settings.s3_url)
    return fs.S3FileSystem(
        access_key=settings.s3_access_key_id, secret_key=settings.s3_secret_access_key.get_secret_value(),
        region=settings.s3_region, endpoint_override=url.netloc, scheme=url.scheme or "https",
        force_virtual_addressing=not settings.s3_path_style, allow_bucket_creation=True,
        connect_timeout=3, request_timeout=10, retry_strategy=fs.AwsStandardS3RetryStrategy(max_attempts=2),
    )


def located(path: str, settings: Settings):
    """The pyarrow file system holding `path` (a local path or an s3:// URI), and the path in it."""
    from pyarrow import fs

    if is_s3(path):
        return filesystem(settings), path.split("://", 1)[1]
    return fs.LocalFileSystem(), str(Path(path).absolute())


def read_text(path: str, settings: Settings) -> str | None:
    """A small file's text, on the disk or in the object store; None when it does not exist."""
    store, where = located(path, settings)
    try:
        with store.open_input_stream(where) as stream:
            return stream.read().decode()
    except FileNotFoundError:
        return None
    except OSError as exc:  # pyarrow's S3 file system says "Path does not exist" as a bare OSError
        if "does not exist" in str(exc) or "NoSuchKey" in str(exc):
            return None
        raise


def names(folder: str, settings: Settings) -> list[str]:
    """The names directly in a folder, on the disk or in the object store; none when it is missing."""
    from pyarrow import fs

    store, where = located(folder, settings)
    found = store.get_file_info(fs.FileSelector(where, allow_not_found=True))
    return sorted(info.base_name for info in found)


def check(settings: Settings, create: bool = False) -> None:
    """Make sure the lakehouse's bucket is reachable with the configured credentials (and exists,
    created when `create`); ObjectStoreError names the setting otherwise. Nothing to do for a
    lakehouse on a file system."""
    if not settings.on_s3:
        return
    from pyarrow import fs

    url = urlsplit(settings.s3_url)
    if not url.hostname:
        raise ObjectStoreError(f"PINLAKE_S3_ENDPOINT {settings.s3_url!r} is not a URL (http://host:port)")
    try:
        socket.create_connection((url.hostname, url.port or (443 if url.scheme == "https" else 80)), 3).close()
    except OSError as exc:
        source = "PINLAKE_S3_ENDPOINT" if settings.s3_endpoint else "the local object store (`pinlake up` starts it)"
        raise ObjectStoreError(f"the object store at {settings.s3_url} is unreachable ({exc}); check {source}",
                               Exit.UNREACHABLE) from None
    store = filesystem(settings)
    try:
        found = store.get_file_info(settings.bucket).type != fs.FileType.NotFound
        if not found and create:
            store.create_dir(settings.bucket)
            found = True
    except OSError as exc:
        text = str(exc)
        if any(word in text for word in ("ACCESS_DENIED", "AccessDenied", "InvalidAccessKeyId",
                                         "SignatureDoesNotMatch")):
            raise ObjectStoreError(
                f"the object store at {settings.s3_url} refused the credentials for bucket {settings.bucket!r}: "
                "check PINLAKE_S3_ACCESS_KEY_ID and PINLAKE_S3_SECRET_ACCESS_KEY", Exit.REFUSED) from None
        raise ObjectStoreError(f"the object store at {settings.s3_url} failed on bucket {settings.bucket!r}: "
                               f"{text}") from None
    if not found:
        raise ObjectStoreError(f"bucket {settings.bucket!r} of PINLAKE_LAKEHOUSE_ROOT ({settings.lakehouse}) "
                               f"does not exist at {settings.s3_url}")


# --- The local object store (SeaweedFS) ----------------------------------------------------


def _identities(settings: Settings) -> dict:
    return {"identities": [{
        "name": "pinlake",
        "credentials": [{"accessKey": settings.s3_access_key_id,
                         "secretKey": settings.s3_secret_access_key.get_secret_value()}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }]}


def _config_file(settings: Settings):
    return settings.data_root / "objectstore" / "s3.json"


def prepare(settings: Settings) -> None:
    folder = settings.data_root / "objectstore" / "data"
    folder.mkdir(parents=True, exist_ok=True)
    config = _config_file(settings)
    config.write_text(json.dumps(_identities(settings)))
    config.chmod(0o600)


def command(settings: Settings) -> list[str]:
    """`weed server` on loopback: master, volume server, filer and the S3 API, one process."""
    ports = {role: port(settings, role) for role in PORTS}
    return [
        str(gotools.require("weed")), "server",
        f"-dir={settings.data_root / 'objectstore' / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        f"-master.port={ports['master']}", f"-master.port.grpc={ports['master.grpc']}",
        f"-volume.port={ports['volume']}", f"-volume.port.grpc={ports['volume.grpc']}",
        f"-filer.port={ports['filer']}", f"-filer.port.grpc={ports['filer.grpc']}",
        "-s3", f"-s3.port={ports['s3']}", f"-s3.port.grpc={ports['s3.grpc']}",
        f"-s3.config={_config_file(settings)}",
        "-s3.port.iceberg=0", "-s3.port.lance=0",  # the other APIs it would serve on fixed ports
        "-master.volumeSizeLimitMB=1024",
        "-volume.preStopSeconds=0",  # a grace period for other masters to notice: there is one master
    ]


def healthy(settings: Settings) -> bool:
    """True when the S3 API answers and the bucket can be listed (or created)."""
    try:
        check(settings)
        return True
    except ObjectStoreError as exc:
        return "does not exist" in str(exc)


def after_start(settings: Settings) -> None:
    """Create the lakehouse's bucket (the filer may need a moment after the S3 port opens)."""
    errors: list[str] = []

    def created() -> bool:
        try:
            check(settings, create=True)
            return True
        except ObjectStoreError as exc:
            errors[:] = [str(exc)]
            return False

    if not wait_until(created, timeout=30, interval=0.5):
        raise ObjectStoreError(errors[0] if errors else "the local object store did not create the bucket")


OBJECT_STORE = Service(
    name="objectstore",
    command=command,
    address=lambda s: f"http://127.0.0.1:{port(s, 's3')}",
    healthy=healthy,
    prepare=prepare,
    after_start=after_start,
    start_timeout=60.0,
    extra=lambda s: {"s3": s.s3_url, "bucket": s.bucket, "lakehouse": s.lakehouse},
)
