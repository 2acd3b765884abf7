"""A small client for Airflow 3's REST API (v2, JWT tokens from /auth/token)."""

from __future__ import annotations

from urllib.parse import quote

import httpx

from pinlake.settings import Settings

TERMINAL_RUN_STATES = {"success", "failed"}


class AirflowError(RuntimeError):
    """Airflow answered with an error; the message says what was asked and what it said."""


class AirflowRefused(AirflowError):
    """Airflow refused the login (or there is no password to log in with)."""


class AirflowClient:
    """The calls pinlake makes: health, DAGs, pools, runs, task instances and their logs."""

    def __init__(self, base_url: str, username: str, password: str | None, timeout: float = 30.0):
        self.base_url = base_url.rstrip("/")
        self.username = username
        self.password = password
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout)
        self._token: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> AirflowClient:
        """The client of the configured Airflow (the local stack's by default)."""
        from orchestration.airflow_home import admin_password, api_url

        return cls(api_url(settings), settings.airflow_username, admin_password(settings))

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> AirflowClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def token(self) -> str:
        """A JWT access token for the configured user (POST /auth/token)."""
        if self.password is None:
            self._http.get("/api/v2/monitor/health")  # an Airflow that is not there says so first
            raise AirflowRefused(
                "no Airflow password: start the local stack (`pinlake up`) or set PINLAKE_AIRFLOW_PASSWORD"
            )
        response = self._http.post("/auth/token", json={"username": self.username, "password": self.password})
        if response.status_code != 201:
            raise AirflowRefused(f"Airflow refused the login of {self.username!r}: "
                                 f"{response.status_code} {response.text[:200]}")
        return response.json()["access_token"]

    def request(self, method: str, path: str, **kwargs) -> httpx.Response:
        """An authenticated call to /api/v2<path>; a token that expired is renewed once."""
        for attempt in (1, 2):
            if self._token is None:
                self._token = self.token()
            headers = {"Authorization": f"Bearer {self._token}", **kwargs.pop("headers", {})}
            response = self._http.request(method, f"/api/v2{path}", headers=headers, **kwargs)
            if response.status_code != 401 or attempt == 2:
                return response
            self._token = None
        return response

    def _json(self, method: str, path: str, ok: tuple[int, ...] = (200,), **kwargs):
        response = self.request(method, path, **kwargs)
        if response.status_code not in ok:
            error = AirflowRefused if response.status_code in (401, 403) else AirflowError
            raise error(f"{method} /api/v2{path}: {response.status_code} {response.text[:300]}")
        return response.json()

    def health(self) -> dict:
        """GET /api/v2/monitor/health (no login needed): the status of each component."""
        response = self._http.get("/api/v2/monitor/health")
        response.raise_for_status()
        return response.json()

    def dag(self, dag_id: str) -> dict | None:
        """The DAG as Airflow knows it, or None when it has not been parsed (yet)."""
        response = self.request("GET", f"/dags/{quote(dag_id)}")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise AirflowError(f"GET dag {dag_id}: {response.status_code} {response.text[:300]}")
        return response.json()

    def import_errors(self) -> list[dict]:
        """The DAG files that failed to import, with their tracebacks."""
        return self._json("GET", "/importErrors")["import_errors"]

    def set_paused(self, dag_id: str, paused: bool) -> dict:
        """Pause or unpause a DAG."""
        return self._json("PATCH", f"/dags/{quote(dag_id)}", json={"is_paused": paused})

    def ensure_pool(self, name: str, slots: int, description: str) -> dict:
        """Create the pool, or set its slots when it exists (a stack started again on its data root)."""
        body = pool_body(name, slots, description)
        response = self.request("GET", f"/pools/{quote(name)}")
        if response.status_code == 404:
            return self._json("POST", "/pools", ok=(200, 201), json=body)
        return self._json("PATCH", f"/pools/{quote(name)}", json=body)

    def trigger(self, dag_id: str, conf: dict | None = None, note: str | None = None) -> dict:
        """Start a manual run now (no logical date, so runs never collide on one); returns the run."""
        body = {"logical_date": None, "conf": conf or {}, "note": note}
        return self._json("POST", f"/dags/{quote(dag_id)}/dagRuns", json=body)

    def dag_run(self, dag_id: str, run_id: str) -> dict:
        """One run: its state, dates, note."""
        return self._json("GET", f"/dags/{quote(dag_id)}/dagRuns/{quote(run_id, safe='')}")

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        """The run's task instances (task_id, state, try_number, ...)."""
        path = f"/dags/{quote(dag_id)}/dagRuns/{quote(run_id, safe='')}/taskInstances"
        return self._json("GET", path)["task_instances"]

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int) -> list[str]:
        """The lines of one try's log."""
        path = (f"/dags/{quote(dag_id)}/dagRuns/{quote(run_id, safe='')}/taskInstances/"
                f"{quote(task_id)}/logs/{try_number}")
        content = self._json("GET", path, params={"full_content": "true"},
                             headers={"Accept": "application/json"})["content"]
        return [line for entry in content for line in log_lines(entry)]


def pool_body(name: str, slots: int, description: str) -> dict:
    """A pool as the API's POST and PATCH take it: Airflow 3.3 validates a PATCH as a whole pool,
    so `include_deferred` must be there too."""
    return {"name": name, "slots": slots, "description": description, "include_deferred": False}


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
        out.append(str(entry["error_detail"]))
    return out
