"""The pinned browser assets: the pin file's form, the integrity check, and every script or style
GX's page templates load from a CDN has a pinned local copy."""

from __future__ import annotations

import re
import tarfile
from pathlib import Path

import pytest

from pinlake import web
from quality.docs import CDN_COPIES

pytestmark = pytest.mark.unit


def test_the_pin_file_names_a_version_an_integrity_and_paths_for_each_package():
    packages = web.pinned()
    assert {"swagger-ui-dist", "redoc", "jquery", "@fortawesome/fontawesome-free"} <= set(packages)
    for package in packages.values():
        assert re.fullmatch(r"\d+\.\d+\.\d+", package.version) and package.keep, package
        assert re.fullmatch(r"sha512-[A-Za-z0-9+/]{86}==", package.integrity), package


def test_a_malformed_line_is_named_with_its_number(tmp_path):
    pins = tmp_path / "assets.txt"
    pins.write_text("# comment\njquery@3.7.1 sha512-x dist/jquery.min.js\nbootstrap 4.3.1\n")
    with pytest.raises(ValueError, match=r"assets.txt:3: expected <name>@<version>"):
        web.pinned(pins)


def test_integrity_is_npms_sha512_in_base64(tmp_path):
    tarball = tmp_path / "x.tgz"
    tarball.write_bytes(b"hello")
    # printf hello | openssl dgst -sha512 -binary | base64
    assert web.integrity_of(tarball) == ("sha512-m3HSJL1i83hdltRq0+o9czGb+8KJDKra4t/3JRlnPKcjI8PZm6XBHXx6zG4UuMXaD"
                                         "EZjR1wuXDre9G9zvN7AQw==")


def test_only_the_listed_paths_are_kept():
    def member(name: str) -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.size = 0
        return info

    keep = ("dist/jquery.min.js", "webfonts")
    names = ["package/dist/jquery.min.js", "package/dist/jquery.js", "package/webfonts/a.woff2",
             "package/webfontsX/b.woff2", "package/README.md"]
    assert [n for n in names if web._kept(member(n), keep)] == ["package/dist/jquery.min.js",
                                                                "package/webfonts/a.woff2"]


def _tarball(path: Path, files: dict[str, bytes]) -> Path:
    import io

    with tarfile.open(path, "w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_unpack_keeps_the_listed_files_below_the_package_folder(tmp_path):
    tarball = _tarball(tmp_path / "x.tgz", {"package/dist/a.js": b"a", "package/dist/b.js": b"b",
                                             "package/README.md": b"r"})
    web.unpack(tarball, ("dist/a.js",), tmp_path / "kept")
    assert sorted(p.relative_to(tmp_path / "kept").as_posix() for p in (tmp_path / "kept").rglob("*")
                  if p.is_file()) == ["dist/a.js"]
    assert (tmp_path / "kept" / "dist" / "a.js").read_bytes() == b"a"


def test_unpack_refuses_a_path_that_leaves_the_folder(tmp_path):
    tarball = _tarball(tmp_path / "x.tgz", {"package/dist/../../evil.js": b"x"})
    with pytest.raises(RuntimeError, match="outside its folder"):
        web.unpack(tarball, ("dist",), tmp_path / "kept")
    assert not (tmp_path / "evil.js").exists()


def test_a_missing_cache_is_named_with_the_command_that_fills_it(tmp_path):
    assert set(web.missing(tmp_path)) == {p.spec for p in web.pinned().values()}
    with pytest.raises(web.WebAssetsMissing, match="make setup"):
        web.require(tmp_path)


def test_every_cdn_script_and_style_in_gxs_templates_has_a_pinned_copy():
    import great_expectations

    templates = Path(great_expectations.__file__).parent / "render" / "view" / "templates"
    loaded = set()
    for template in templates.glob("*.j2"):
        loaded |= set(re.findall(r'<(?:script|link)[^>]+(?:src|href)="(https?://[^"]+)"', template.read_text()))
    assert loaded, "GX's templates moved: find where its pages load their scripts"
    assert loaded <= set(CDN_COPIES), sorted(loaded - set(CDN_COPIES))
    packages = web.pinned()
    for name, path in CDN_COPIES.values():
        assert any(path == kept or path.startswith(kept + "/") for kept in packages[name].keep), (name, path)

