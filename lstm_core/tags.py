"""The 12 universal part-of-speech tags (Petrov, Das and McDonald, 2012) and the Brown corpus's
tags mapped onto them.

Brown tags are fine-grained (87 simple tags, plus marks): "nn" (singular noun), "vbd" (verb, past
tense), "pps" (he, she, it), "bez" (is). A Brown tag may carry

- a suffix: "-tl" (in a title), "-hl" (in a headline), "-nc" (cited as a word), and a few cut
  short in the files ("-t", "-n"): they say where the word stands, not what it is, and are dropped;
- a prefix "fw-": a foreign word ("fw-nn" for "coup", "fw-in" for "de"), tagged X like any foreign
  word;
- a "*" for a negation joined to the word ("md*" for "can't", "do*" for "don't"): still a verb; a
  lone "*" is "not" or "n't", an adverb;
- a "+" joining two words written as one ("ppss+md" for "I'd", "pps+bez" for "it's"): the universal
  tags give one tag per token, and the first part names the word the token starts with.

The choices follow the mapping Petrov et al. published for the Penn Treebank, whose tags Brown's
resemble: subordinating conjunctions ("if", "because", Brown "cs") are adpositions like Penn's "IN";
post-determiners ("many", "next", Brown "ap") and ordinals ("first") are adjectives; existential
"there" and the pre-quantifiers "all", "half", "both" are determiners; qualifiers ("very", "enough")
are adverbs; "to" before a verb and verb particles ("up" in "give up") are particles (PRT);
interjections and anything unknown are X.

>>> [universal_tag(tag) for tag in ("at", "nn-tl", "vbd", "pps+bez", "md*", "fw-nn", "''", "cs")]
['DET', 'NOUN', 'VERB', 'PRON', 'VERB', 'X', '.', 'ADP']
"""

from __future__ import annotations

import re

__all__ = ["UNIVERSAL_TAGS", "TAG_MEANINGS", "universal_tag"]

UNIVERSAL_TAGS: tuple[str, ...] = ("NOUN", "VERB", "ADJ", "ADV", "PRON", "DET", "ADP", "NUM", "CONJ", "PRT", ".", "X")

# Said wherever a tag is shown to a student.
TAG_MEANINGS: dict[str, str] = {
    "NOUN": "noun (person, place, thing or name)",
    "VERB": "verb (action or state, including is, has, can)",
    "ADJ": "adjective (describes a noun)",
    "ADV": "adverb (how, when, where; also 'not', 'very')",
    "PRON": "pronoun (he, she, it, my, who)",
    "DET": "determiner (the, a, this, all)",
    "ADP": "adposition (in, of, to a place; also 'if', 'because')",
    "NUM": "number",
    "CONJ": "conjunction (and, or, but)",
    "PRT": "particle ('to' before a verb, 'up' in 'give up')",
    ".": "punctuation",
    "X": "other (foreign words, interjections, typos)",
}

# Brown's simple tags (lowercase, as the corpus files write them), by universal tag.
_BROWN_BY_UNIVERSAL: dict[str, tuple[str, ...]] = {
    "NOUN": ("nn", "nns", "nn$", "nns$", "np", "nps", "np$", "nps$", "nr", "nrs", "nr$", "nrs$", "pn", "pn$"),
    "VERB": ("vb", "vbd", "vbg", "vbn", "vbz", "be", "bed", "bedz", "beg", "bem", "ben", "ber", "bez",
             "do", "dod", "doz", "hv", "hvd", "hvg", "hvn", "hvz", "md"),
    "ADJ": ("jj", "jjr", "jjs", "jjt", "jj$", "ap", "ap$", "od"),
    "ADV": ("rb", "rbr", "rbt", "rb$", "rn", "ql", "qlp", "wql", "wrb", "abl", "*"),
    "PRON": ("pp$", "pp$$", "ppl", "ppls", "ppo", "pps", "ppss", "wp$", "wpo", "wps"),
    "DET": ("at", "dt", "dti", "dts", "dtx", "dt$", "abn", "abx", "ex", "wdt"),
    "ADP": ("in", "cs"),
    "NUM": ("cd", "cd$"),
    "CONJ": ("cc",),
    "PRT": ("to", "rp"),
    "X": ("uh", "nil"),
}  # fmt: skip
_BROWN_TO_UNIVERSAL: dict[str, str] = {
    brown: universal for universal, tags in _BROWN_BY_UNIVERSAL.items() for brown in tags
}
_PUNCTUATION_TAG = re.compile(r"[^a-z0-9$*]+")  # ".", ",", "``", "''", "(", ")", "--", ":", "'"
_PLACE_SUFFIX = re.compile(r"-(?:tl|hl|nc|t|n|h)$")


def universal_tag(brown_tag: str) -> str:
    """The universal tag (one of `UNIVERSAL_TAGS`) of a Brown corpus tag, in either case.

    Raises ValueError for an empty tag; a well-formed tag that Brown does not define gives "X".
    """
    if not isinstance(brown_tag, str) or not brown_tag.strip():
        raise ValueError(f"expected a Brown tag such as 'nn' or 'vbd', got {brown_tag!r}")
    tag = brown_tag.strip().lower()
    if _PUNCTUATION_TAG.fullmatch(tag):
        return "."
    if tag.startswith("fw-"):
        return "X"
    tag = tag.split("+", 1)[0]
    while (shorter := _PLACE_SUFFIX.sub("", tag)) != tag:
        tag = shorter
    if _PUNCTUATION_TAG.fullmatch(tag):  # ".-hl", ",-hl": punctuation in a headline
        return "."
    if tag != "*":
        tag = tag.rstrip("*")  # a negation joined to a verb: "can't" is still a verb
    return _BROWN_TO_UNIVERSAL.get(tag, "X")
