"""The file-backed GX context under the data root, its Data Docs site, and serving it over HTTP."""

from __future__ import annotations

import threading
from pathlib import Path

from pinlake.settings import Settings

DOCS_URL_PREFIX = "/quality"
_SITE = "local_site"
_contexts: dict[str, object] = {}
_lock = threading.Lock()


def gx_root(settings: Settings) -> Path:
    """The GX project folder: <data_root>/quality (GX keeps its files in its `gx/` below)."""
    return settings.data_root / "quality"


def docs_dir(settings: Settings) -> Path:
    """The folder of the Data Docs site (static HTML)."""
    return gx_root(settings) / "gx" / "uncommitted" / "data_docs" / _SITE


def index_path(settings: Settings) -> Path:
    """The Data Docs site's index page."""
    return docs_dir(settings) / "index.html"


def gx_context(settings: Settings):
    """The process's file-backed GX context for this data root, created once and cached."""
    key = str(gx_root(settings))
    with _lock:
        if key not in _contexts:
            _contexts[key] = _new_context(settings)
        return _contexts[key]


def _new_context(settings: Settings):
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    gx_root(settings).mkdir(parents=True, exist_ok=True)
    context = gx.get_context(mode="file", project_root_dir=str(gx_root(settings)))
    # Progress bars would flood the job logs with one line per metric.
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    context.variables.save()
    return context


def build_data_docs(settings: Settings) -> Path:
    """Rebuild the whole Data Docs site from every stored validation; the index.html path."""
    gx_context(settings).build_data_docs(site_names=[_SITE])
    return index_path(settings)


def _data_docs_files(folder: Path):
    from starlette.staticfiles import StaticFiles

    class DataDocsFiles(StaticFiles):
        """Static files that answer 404, not 500, while the site is not built yet."""

        async def check_config(self) -> None:
            if folder.is_dir():
                await super().check_config()

    # check_dir=False: the site appears after the first validation, maybe after the API started.
    return DataDocsFiles(directory=folder, html=True, check_dir=False)


def mount_data_docs(app, settings: Settings) -> None:
    """Serve the Data Docs site under /quality/ on a FastAPI app (it may not be built yet)."""
    app.mount(DOCS_URL_PREFIX, _data_docs_files(docs_dir(settings)), name="quality-docs")
