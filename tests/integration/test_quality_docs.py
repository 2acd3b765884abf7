"""The Data Docs site, as the real API serves it under /quality/, lists every suite in headless Chromium
with no network (its scripts are the site's own copies), as do the API's /docs and /redoc; a job's gates
render their pages once, at the end of the job's `docs_once` block."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import httpx
import pytest

from pinlake.supervisor import wait_until
from quality.docs import build_data_docs, docs_dir, index_path
from quality.gate import QualityGateFailed, docs_once, validate
from tests.quality_samples import ROWS, SCHEMAS, sample
from lakehouse import catalog
from tests.browser import dom_after_scripts, screenshot
from tests.conftest import make_settings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def docs_settings(tmp_path_factory, spark, kafka_settings):
    """A data root with one passing and one failing validation, and its site built."""
    settings = make_settings(tmp_path_factory.mktemp("quality-docs"), kafka_bootstrap=kafka_settings.bootstrap)
    validate(spark, sample(spark, "silver.users"), "silver.users", "docs-run", settings=settings)
    duplicated = spark.createDataFrame([*ROWS["silver.geo"], ROWS["silver.geo"][0]], SCHEMAS["silver.geo"])
    with pytest.raises(QualityGateFailed):
        validate(spark, duplicated, "silver.geo", "docs-run", settings=settings)
    assert build_data_docs(settings).exists()
    return settings


@pytest.fixture(scope="module")
def api_url(docs_settings):
    """The real ingest API (`pinlake api`) on the docs' data root."""
    env = {**os.environ, **docs_settings.child_env()}
    server = subprocess.Popen([sys.executable, "-m", "pinlake.cli", "api", "--log-level", "warning"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{docs_settings.api_port}"

    def up() -> bool:
        try:
            return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        assert wait_until(lambda: server.poll() is not None or up(), 60) and server.poll() is None, \
            server.stderr.read().decode() if server.poll() is not None else "API did not start"
        yield url
    finally:
        server.terminate()
        server.wait(30)


def test_the_api_serves_the_site_and_its_pages(api_url):
    index = httpx.get(f"{api_url}/quality/", timeout=10)
    assert index.status_code == 200 and index.headers["content-type"].startswith("text/html")
    links = re.findall(r"'_table_row_link_path': '(validations/[^']+\.html)'", index.text)  # the index's rows
    assert any("/silver/geo/docs-run/" in link for link in links)
    page = httpx.get(f"{api_url}/quality/{links[0]}", timeout=10)
    assert page.status_code == 200 and "docs-run" in page.text
    assert httpx.get(f"{api_url}/quality/expectations/gold/users_joined_by_year.html", timeout=10).status_code == 200


def _table(dom: str, table_class: str) -> tuple[list[str], str]:
    """The rows bootstrap-table drew (it numbers them: `data-index`) in the index table of that class,
    and what its pager says ("Showing 1 to 10 of 12 rows")."""
    table, _, rest = dom.split(table_class, 1)[1].partition("</table>")
    pager = re.search(r'class="pagination-info">\s*([^<]*?)\s*</span>', rest)
    return re.findall(r'<tr class="clickable-row"[^>]* data-index="\d+">.*?</tr>', table, re.S), \
        pager.group(1) if pager else ""


def test_every_suite_is_listed_in_chromium_without_the_internet(api_url):
    dom = dom_after_scripts(f"{api_url}/quality/")
    suites, pager = _table(dom, "ge-index-page-expectation_suites-table")
    listed = {m for row in suites for m in re.findall(r'<td[^>]*>([a-z]+\.\w+)</td>', row)}
    gated = {spec.name for spec in catalog.gated()}
    assert len(listed) == min(10, len(gated)) and listed <= gated, suites[:2]  # the first page of ten
    assert pager == f"Showing 1 to {len(listed)} of {len(gated)} rows"
    # the failing validation is shown as failed, the passing one as passed
    validations = {re.search(r'data-href="validations/(\w+/\w+)/docs-run/', row).group(1): row
                   for row in _table(dom, "ge-index-page-validation-results-table")[0]}
    assert "ge-failed-icon" in validations["silver/geo"] and "ge-success-icon" in validations["silver/users"]
    screenshot(f"{api_url}/quality/", "quality-data-docs.png")


def test_api_docs_render_without_the_internet(api_url):
    """Both pages arrive as a script tag and an empty element: what shows was drawn by the scripts."""
    swagger = dom_after_scripts(f"{api_url}/docs")
    redoc = dom_after_scripts(f"{api_url}/redoc")
    assert re.search(r'<h1[^>]*>pinlake ingest', redoc), redoc[:2000]
    for path in ("/pin/", "/geo/", "/user/", "/events"):
        assert f'class="opblock-summary-path" data-path="{path}"' in swagger, path
        assert re.search(rf'http-verb post">post</span><span[^>]*>{re.escape(path)}</span>', redoc), path


def _rendered(settings, run: str) -> set[str]:
    """The tables with a validation page of `run` (validations/<layer>/<table>/<run>/<time>/<page>)."""
    return {f"{p.parts[-5]}.{p.parts[-4]}" for p in (docs_dir(settings) / "validations").glob(f"*/*/{run}/*/*.html")}


def test_docs_once_renders_every_page_of_the_block_at_its_end_even_after_a_failure(tmp_path, spark):
    settings = make_settings(tmp_path / "var")
    duplicated = spark.createDataFrame([*ROWS["silver.geo"], ROWS["silver.geo"][0]], SCHEMAS["silver.geo"])
    with pytest.raises(QualityGateFailed), docs_once(settings):
        validate(spark, sample(spark, "silver.users"), "silver.users", "once-run", settings=settings)
        assert _rendered(settings, "once-run") == set()  # deferred to the end of the block
        validate(spark, duplicated, "silver.geo", "once-run", settings=settings)
    assert _rendered(settings, "once-run") == {"silver.users", "silver.geo"}
    index = index_path(settings).read_text()
    assert "silver/users/once-run/" in index and "silver/geo/once-run/" in index
    # Outside a block, a validation's page is rendered at once.
    validate(spark, sample(spark, "silver.pins"), "silver.pins", "alone-run", settings=settings)
    assert _rendered(settings, "alone-run") == {"silver.pins"}
