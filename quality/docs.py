"""The file-backed GX context under the data root, its Data Docs site, and serving it over HTTP."""

from __future__ import annotations

import html
import json
import re
import threading
from pathlib import Path

from pinlake.settings import Settings

DOCS_URL_PREFIX = "/quality"
_SITE = "local_site"
INDEX_VALIDATIONS = 240  # validations listed in the index: 20 runs of the 12 gated tables
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
    # The index reads every listed validation result at each rebuild: bound it, or every gate
    # slows down as the history grows (the quality.results table keeps the full history).
    sites = context.variables.data_docs_sites
    sites[_SITE].setdefault("site_index_builder", {"class_name": "DefaultSiteIndexBuilder"})
    sites[_SITE]["site_index_builder"]["validation_results_limit"] = INDEX_VALIDATIONS
    sites[_SITE]["show_how_to_buttons"] = False  # links to GX tutorials, noise for our readers
    context.variables.data_docs_sites = sites
    context.variables.save()
    return context


def build_data_docs(settings: Settings) -> Path:
    """Rebuild the whole Data Docs site (every suite, every stored validation); the index.html path."""
    from quality.suites import all_suites

    context = gx_context(settings)
    # Register every suite, so the site lists each one even before its first validation.
    for suite in all_suites():
        context.suites.add_or_update(suite)
    context.build_data_docs(site_names=[_SITE])
    add_offline_index(settings)
    return index_path(settings)


def render_validations(settings: Settings, identifiers: list) -> None:
    """Render the pages of these validation results and suites, and the index, in one site build."""
    gx_context(settings).build_data_docs(site_names=[_SITE], resource_identifiers=identifiers)
    add_offline_index(settings)


def _data_docs_files(folder: Path):
    from starlette.staticfiles import StaticFiles

    class DataDocsFiles(StaticFiles):
        """Static files that answer 404, not 500, while the site is not built yet."""

        async def check_config(self) -> None:
            if folder.is_dir():
                await super().check_config()

    # check_dir=False: the site appears after the first validation, maybe after the API started.
    return DataDocsFiles(directory=folder, html=True, check_dir=False)


# GX's index draws its tables with jQuery and bootstrap-table from public CDNs; offline (a
# container without internet, this machine) the page shows no suite at all. This block lists
# them in plain HTML, and hides itself when the CDN scripts did load.
_OFFLINE_START, _OFFLINE_END = "<!-- pinlake-offline-index -->", "<!-- /pinlake-offline-index -->"
_HIDE_WHEN_ONLINE = ("<script>if (window.jQuery && window.jQuery.fn.bootstrapTable) "
                     "{document.getElementById('pinlake-offline-index').style.display = 'none';}</script>")
_RUNS_SHOWN = 10
_STATUS = {True: '<b style="color: #1a7f37">passed</b>', False: '<b style="color: #cf222e">failed</b>'}


def _validations(settings: Settings, suite_dir: Path) -> list[tuple[str, str, bool | None]]:
    """(href, label, success) of a suite's latest validation pages, newest first."""
    site, store = docs_dir(settings), gx_root(settings) / "gx" / "uncommitted" / "validations"
    pages = sorted(suite_dir.glob("*/*/*.html"), key=lambda p: p.parent.name, reverse=True)
    found = []
    for page in pages[:_RUNS_SHOWN]:
        relative = page.relative_to(site / "validations")
        stored = (store / relative).with_suffix(".json")
        success = json.loads(stored.read_text()).get("success") if stored.exists() else None
        found.append((str(page.relative_to(site)), f"run {page.parent.parent.name} at {page.parent.name}", success))
    return found


def _offline_block(settings: Settings) -> str:
    site = docs_dir(settings)
    items = []
    for page in sorted((site / "expectations").glob("*/*.html")):
        suite = f"{page.parent.name}.{page.stem}"
        runs = "".join(
            f'<li><a href="{html.escape(href)}">{html.escape(label)}</a> '
            f'{_STATUS.get(ok, "")}</li>'
            for href, label, ok in _validations(settings, site / "validations" / page.parent.name / page.stem))
        items.append(f'<li class="pinlake-suite"><a href="{html.escape(str(page.relative_to(site)))}">'
                     f'{html.escape(suite)}</a><ul>{runs}</ul></li>')
    return (f'{_OFFLINE_START}<div id="pinlake-offline-index" style="padding: 1em 3em; font-family: sans-serif">'
            '<h2>pinlake quality: expectation suites and latest validations</h2>'
            '<p style="color: #666">Plain view (GX\'s interactive tables load their scripts from the '
            f'internet).</p><ul>{"".join(items)}</ul></div>{_OFFLINE_END}')


def add_offline_index(settings: Settings) -> None:
    """Add (or refresh) the plain-HTML list of suites and validations to the site's index."""
    index = index_path(settings)
    if not index.exists():
        return
    page = re.sub(f"{re.escape(_OFFLINE_START)}.*?{re.escape(_OFFLINE_END)}", "", index.read_text(),
                  flags=re.S).replace(_HIDE_WHEN_ONLINE, "")
    page = page.replace("<body>", f"<body>{_offline_block(settings)}", 1)
    index.write_text(page.replace("</body>", f"{_HIDE_WHEN_ONLINE}</body>", 1))


def mount_data_docs(app, settings: Settings) -> None:
    """Serve the Data Docs site under /quality/ on a FastAPI app (it may not be built yet)."""
    app.mount(DOCS_URL_PREFIX, _data_docs_files(docs_dir(settings)), name="quality-docs")
