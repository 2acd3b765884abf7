"""Airflow 3's REST API (v2) through its official client, `apache-airflow-client`, at the server's
version: request bodies are built from the server's own models. The JWT comes from the auth
manager's POST /auth/token, which is not part of the v2 API."""

from __future__ import annotations

import httpx
import urllib3
from pydantic_core import to_jsonable_python
from airflow_client import client as api
from airflow_client.client.exceptions import ApiException, ForbiddenException, NotFoundException, UnauthorizedException

from pinlake.settings import Settings

TERMINAL_RUN_STATES = {"success", "failed"}


class AirflowError(RuntimeError):
    """Airflow answered with an error; the message says what was asked and what it said, and
    `status` the HTTP status (None when there was no answer)."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class AirflowRefused(AirflowError):
    """Airflow refused the login (or there is no password to log in with)."""


class AirflowUnreachable(AirflowError):
    """Airflow did not answer: not running, or too busy to."""


class AirflowClient:
    """The calls pinlake makes: health, DAGs, pools, runs, task instances and their logs.

    Answers are plain dicts (JSON values: strings, not enums or datetimes)."""

    def __init__(self, base_url: str, username: str, password: str | None, timeout: float = 30.0):
        self.base_url = base_url.rstrip("/")
        self.username = username
        self.password = password
        self.timeout = timeout
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout)  # the token and the health
        self._api: api.ApiClient | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> AirflowClient:
        """The client of the configured Airflow (the local stack's by default)."""
        from orchestration.airflow_home import admin_password, api_url

        return cls(api_url(settings), settings.airflow_username, admin_password(settings))

    def close(self) -> None:
        """Close both connection pools."""
        self._http.close()
        if self._api is not None:
            self._api.rest_client.pool_manager.clear()

    def __enter__(self) -> AirflowClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def token(self) -> str:
        """A JWT access token for the configured user (POST /auth/token)."""
        try:
            if self.password is None:
                self._http.get("/api/v2/monitor/health")  # an Airflow that is not there says so first
                raise AirflowRefused(
                    "no Airflow password: start the local stack (`pinlake up`) or set PINLAKE_AIRFLOW_PASSWORD"
                )
            response = self._http.post("/auth/token", json={"username": self.username, "password": self.password})
        except httpx.TransportError as exc:
            raise AirflowUnreachable(f"{self.base_url}: {exc!r}") from exc
        if response.status_code != 201:
            raise AirflowRefused(f"Airflow refused the login of {self.username!r}: "
                                 f"{response.status_code} {response.text[:200]}")
        return response.json()["access_token"]

    def _client(self) -> api.ApiClient:
        if self._api is None:
            self._api = api.ApiClient(api.Configuration(host=self.base_url, access_token=self.token()))
        return self._api

    def _call(self, what: str, group, method: str, *args, missing=False, **kwargs):
        """`group(client).method(*args, **kwargs)`; a token that expired is renewed once. With
        `missing=True` a 404 answers None."""
        for attempt in (1, 2):
            try:
                return getattr(group(self._client()), method)(*args, _request_timeout=self.timeout, **kwargs)
            except UnauthorizedException as exc:
                if attempt == 2:
                    raise AirflowRefused(f"{what}: {exc.status} {str(exc.body)[:300]}") from exc
                self.close()
                self._api = None
            except NotFoundException as exc:
                if missing:
                    return None
                raise AirflowError(f"{what}: {exc.status} {str(exc.body)[:300]}", exc.status) from exc
            except ForbiddenException as exc:
                raise AirflowRefused(f"{what}: {exc.status} {str(exc.body)[:300]}") from exc
            except ApiException as exc:
                raise AirflowError(f"{what}: {exc.status} {str(exc.body)[:300]}", exc.status) from exc
            except urllib3.exceptions.HTTPError as exc:
                raise AirflowUnreachable(f"{what}: {exc!r}") from exc
        raise AssertionError("unreachable")

    def health(self) -> dict:
        """GET /api/v2/monitor/health (no login needed): the status of each component."""
        response = self._http.get("/api/v2/monitor/health")
        response.raise_for_status()
        return response.json()

    def dag(self, dag_id: str) -> dict | None:
        """The DAG as Airflow knows it, or None when it has not been parsed (yet)."""
        return plain(self._call(f"dag {dag_id}", api.DAGApi, "get_dag", dag_id, missing=True))

    def import_errors(self) -> list[dict]:
        """The DAG files that failed to import, with their tracebacks."""
        answer = self._call("import errors", api.ImportErrorApi, "get_import_errors")
        return [plain(error) for error in answer.import_errors]

    def set_paused(self, dag_id: str, paused: bool) -> dict:
        """Pause or unpause a DAG."""
        return plain(self._call(f"pause {dag_id}", api.DAGApi, "patch_dag", dag_id, api.DAGPatchBody(is_paused=paused)))

    def ensure_pool(self, name: str, slots: int, description: str) -> dict:
        """Create the pool, or set its slots when it exists (a stack started again on its data root)."""
        new, patch = pool_bodies(name, slots, description)
        if self._call(f"pool {name}", api.PoolApi, "get_pool", name, missing=True) is None:
            return plain(self._call(f"create pool {name}", api.PoolApi, "post_pool", new))
        return plain(self._call(f"update pool {name}", api.PoolApi, "patch_pool", name, patch))

    def trigger(self, dag_id: str, conf: dict | None = None, note: str | None = None) -> dict:
        """Start a manual run now (no logical date, so runs never collide on one); returns the run."""
        body = api.TriggerDAGRunPostBody(logical_date=None, conf=conf or {}, note=note)
        return plain(self._call(f"trigger {dag_id}", api.DagRunApi, "trigger_dag_run", dag_id, body))

    def dag_run(self, dag_id: str, run_id: str) -> dict:
        """One run: its state, dates, note."""
        return plain(self._call(f"run {run_id}", api.DagRunApi, "get_dag_run", dag_id, run_id))

    def dag_runs(self, dag_id: str, limit: int = 100, newest_first: bool = False) -> list[dict]:
        """The DAG's runs Airflow remembers (up to `limit`; with `newest_first`, the latest ones)."""
        order = {"order_by": ["-run_after"]} if newest_first else {}
        answer = self._call(f"runs of {dag_id}", api.DagRunApi, "get_dag_runs", dag_id, limit=limit, **order)
        return [plain(run) for run in answer.dag_runs]

    def asset_events(self, source_dag_id: str, source_run_id: str) -> list[dict]:
        """The asset events a run's tasks recorded, each with the runs it triggered (`created_dagruns`)."""
        answer = self._call(f"asset events of {source_run_id}", api.AssetApi, "get_asset_events",
                            source_dag_id=source_dag_id, source_run_id=source_run_id, limit=100)
        return [plain(event) for event in answer.asset_events]

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        """The run's task instances (task_id, state, try_number, ...)."""
        answer = self._call(f"tasks of {run_id}", api.TaskInstanceApi, "get_task_instances", dag_id, run_id)
        return [plain(ti) for ti in answer.task_instances]

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int) -> list[str]:
        """The lines of one try's log."""
        answer = self._call(f"log of {task_id}", api.TaskInstanceApi, "get_log", dag_id, run_id, task_id,
                            try_number, full_content=True, accept="application/json")
        content = answer.content.actual_instance or []
        return [line for entry in content for line in log_lines(plain(entry) if hasattr(entry, "to_dict") else entry)]


RUN_FIELDS = ("dag_run_id", "state", "run_type", "start_date", "end_date", "note")


def latest_runs(settings: Settings, dag_id: str = "medallion", limit: int = 5, timeout: float = 5.0) -> dict:
    """The DAG's latest runs for the dashboard, or why Airflow could not say."""
    from orchestration.airflow_home import admin_password, api_url

    try:
        with AirflowClient(api_url(settings), settings.airflow_username, admin_password(settings),
                           timeout=timeout) as client:
            runs = client.dag_runs(dag_id, limit=limit, newest_first=True)
    except (AirflowError, httpx.HTTPError) as exc:
        return {"dag_id": dag_id, "runs": None, "error": str(exc).splitlines()[0][:300]}
    return {"dag_id": dag_id, "runs": [{k: run.get(k) for k in RUN_FIELDS} for run in runs], "error": None}


def plain(model) -> dict | None:
    """A response model as JSON values: every field, None ones too (the client's to_dict leaves
    them out), enum members and datetimes as strings, additional properties such as a log
    line's `level` merged in."""
    if model is None:
        return None
    extra = getattr(model, "additional_properties", None) or {}
    fields = model.model_dump(mode="json", by_alias=True, exclude={"additional_properties"})
    return {**fields, **to_jsonable_python(extra)}


def pool_bodies(name: str, slots: int, description: str) -> tuple[api.PoolBody, api.PoolPatchBody]:
    """The pool as a POST and as a PATCH take it: Airflow 3.3 validates a PATCH as a whole pool,
    so `include_deferred` goes in the PATCH too."""
    return (api.PoolBody(name=name, slots=slots, description=description, include_deferred=False),
            api.PoolPatchBody(pool=name, slots=slots, description=description, include_deferred=False))


def log_lines(entry) -> list[str]:
    """Text lines of one structured log entry (a dict with `event`, or a plain string)."""
    if isinstance(entry, str):
        return entry.splitlines()
    if not isinstance(entry, dict):
        return [str(entry)]
    text = str(entry.get("event", ""))
    stamp, level = entry.get("timestamp"), entry.get("level")
    prefix = " ".join(str(p) for p in (stamp, level and level.upper()) if p)
    lines = text.splitlines() or [""]
    out = [f"[{prefix}] {lines[0]}" if prefix else lines[0], *lines[1:]]
    if entry.get("error_detail"):
        out.extend(error_lines(entry["error_detail"]))
    return out


def error_lines(detail) -> list[str]:
    """A task's exception as Airflow logs it (structlog's dict of each exception in the chain,
    innermost last): `Type: message` and where it was raised, as a traceback's last lines."""
    if not isinstance(detail, list):
        return [str(detail)]
    lines = []
    for exc in detail:
        if not isinstance(exc, dict):
            lines.append(str(exc))
            continue
        frames = exc.get("frames") or []
        where = f"  at {frames[-1].get('filename')}:{frames[-1].get('lineno')} in {frames[-1].get('name')}" \
            if frames and isinstance(frames[-1], dict) else None
        lines += [("caused by " if exc.get("is_cause") else "") + f"{exc.get('exc_type')}: {exc.get('exc_value', '')}",
                  *([where] if where else [])]
    return lines
