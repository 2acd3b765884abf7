"""The docs a newcomer reads: a README of at most 200 lines, and links that resolve in the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests import PROJECT_ROOT

pytestmark = pytest.mark.unit

DOCS = [PROJECT_ROOT / "README.md", PROJECT_ROOT / "BENCHMARKS.md", *sorted((PROJECT_ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def links(page: Path) -> list[str]:
    """The targets of a page's Markdown links."""
    return LINK.findall(page.read_text())


def test_the_readme_reads_in_ten_minutes():
    assert len((PROJECT_ROOT / "README.md").read_text().splitlines()) <= 200


@pytest.mark.parametrize("page", DOCS, ids=lambda p: p.name)
def test_every_link_resolves_inside_the_repository(page):
    for target in links(page):
        assert not target.startswith(("http://", "https://")), f"{page.name} links outside the repository: {target}"
        path = (page.parent / target.split("#")[0]).resolve()
        assert path.is_relative_to(PROJECT_ROOT) and path.exists(), f"{page.name}: {target} does not resolve"


def test_the_link_check_sees_links():
    assert "docs/CONTRACT.md" in links(PROJECT_ROOT / "README.md")
