"""The file-backed GX context under the data root, its Data Docs site, and serving it over HTTP."""

from __future__ import annotations

import re
import shutil
import threading
import time
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
    started = time.time()
    context.build_data_docs(site_names=[_SITE])
    localize(settings, since=started)
    return index_path(settings)


def render_validations(settings: Settings, identifiers: list) -> None:
    """Render the pages of these validation results and suites, and the index, in one site build."""
    started = time.time()
    gx_context(settings).build_data_docs(site_names=[_SITE], resource_identifiers=identifiers)
    localize(settings, since=started)


# What GX's page templates load from public CDNs -> the pinned package file that is the same
# script or style (pinlake/web_assets.txt; popper's and bootstrap's are byte for byte the files their
# integrity attributes name). Each page is pointed at copies inside the site, so that it works
# offline, from the API or opened as a file.
CDN_COPIES = {
    "https://code.jquery.com/jquery-3.7.1.min.js": ("jquery", "dist/jquery.min.js"),
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js":
        ("popper.js", "dist/umd/popper.min.js"),
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css":
        ("bootstrap", "dist/css/bootstrap.min.css"),
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": ("bootstrap", "dist/js/bootstrap.min.js"),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css":
        ("bootstrap-datepicker", "dist/css/bootstrap-datepicker.min.css"),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js":
        ("bootstrap-datepicker", "dist/js/bootstrap-datepicker.min.js"),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css":
        ("bootstrap-table", "dist/bootstrap-table.min.css"),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js":
        ("bootstrap-table", "dist/bootstrap-table.min.js"),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js":
        ("bootstrap-table", "dist/extensions/filter-control/bootstrap-table-filter-control.min.js"),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css":
        ("bootstrap-table", "dist/extensions/filter-control/bootstrap-table-filter-control.css"),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css":
        ("bootstrap-table", "dist/extensions/filter-control/bootstrap-table-filter-control.min.css"),
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css":
        ("@forevolve/bootstrap-dark", "dist/css/bootstrap-prefers-dark.css"),
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css":
        ("@fortawesome/fontawesome-free", "css/all.min.css"),
    "https://cdn.jsdelivr.net/npm/vega@5": ("vega", "build/vega.min.js"),
    "https://cdn.jsdelivr.net/npm/vega-lite@5": ("vega-lite", "build/vega-lite.min.js"),
    "https://cdn.jsdelivr.net/npm/vega-embed@6": ("vega-embed", "build/vega-embed.min.js"),
}
_VENDOR = Path("static") / "vendor"
_CDN_URL = re.compile("|".join(re.escape(f'"{url}"') for url in sorted(CDN_COPIES, key=len, reverse=True)))
# GX's logo, fetched from its web-assets bucket with the context's id in the query: the site has the image.
_GX_IMAGE = re.compile(r'src="https://great-expectations-web-assets\.[^"/]+/([\w.-]+)(?:\?[^"]*)?"')


def _vendor(settings: Settings) -> None:
    """Copy the pinned packages the pages use into the site (once per version)."""
    from pinlake import web

    cache, packages = web.require(settings.web_cache), web.pinned()
    for name in sorted({name for name, _ in CDN_COPIES.values()}):
        package = packages[name]
        target = docs_dir(settings) / _VENDOR / package.spec
        if not target.exists():
            shutil.copytree(web.package_dir(package, cache), target, ignore=shutil.ignore_patterns(web.COMPLETE_MARKER))


def localize(settings: Settings, since: float) -> None:
    """Point the pages written since `since` at the site's own copies of their scripts and styles."""
    from pinlake import web

    _vendor(settings)
    site, packages = docs_dir(settings), web.pinned()
    for page in site.rglob("*.html"):
        if page.stat().st_mtime < since - 1:
            continue
        depth = "../" * (len(page.relative_to(site).parts) - 1)

        def local(match: re.Match) -> str:
            name, path = CDN_COPIES[match.group(0).strip('"')]
            return f'"{depth}{_VENDOR.as_posix()}/{packages[name].spec}/{path}"'

        text = page.read_text()
        localized = _GX_IMAGE.sub(rf'src="{depth}static/images/\1"', _CDN_URL.sub(local, text))
        if localized != text:
            page.write_text(localized)


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
