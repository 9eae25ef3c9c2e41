"""A seeded "story world": short English stories that exercise the three classic LSTM behaviours.

Every story has a *current subject*, a named person. The generator writes sentences so that a
language model can only predict them well by doing what the classic LSTM explanations describe:

1. Forget: a new subject replaces the old one ("Bob is a nice person. Dan, on the other hand, is
   evil."), and the pronouns that follow refer to the new one ("He ...").
2. Input: an important fact (who the subject is) is kept while unimportant details pass ("He told
   me over the phone that he had served the navy for four long years.", "He met Kate at the park.").
3. Output: what was kept is used when needed ("Bob single-handedly fought the enemy and died for
   his country. For his contributions, brave Bob.").

Stories carry per-token labels for the analysis of units: the current subject's gender, whether
the token is inside a quotation, and its position in the sentence.

>>> story = generate_stories(1, seed=0)[0]
>>> len(story.tokens) == len(story.subject_gender) == len(story.in_quotation)
True

Held-out evaluation uses `heldout` seeds and prompt builders (`pronoun_prompts`,
`recall_prompts`) that are never used to generate training data.

The built-in cast is the 40 names below. Every function also takes any other cast: `names` (lowercase)
with `genders` (name -> "male" or "female"), e.g. thousands of first names from birth records.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "MALE_NAMES",
    "FEMALE_NAMES",
    "NAMES",
    "LABELS",
    "Story",
    "generate_stories",
    "switch_stories",
    "vocabulary",
    "gender_of",
    "split_names",
    "pronoun_prompts",
    "recall_prompts",
    "render",
]

# The first ten of each list are the names the issue asks for; the rest give the model enough
# variety that it learns "a name", not ten particular words.
MALE_NAMES: tuple[str, ...] = (
    "bob", "dan", "tom", "sam", "jack", "john", "paul", "mike", "peter", "david",
    "james", "george", "henry", "oliver", "harry", "leo", "max", "adam", "ben", "luke",
)  # fmt: skip
FEMALE_NAMES: tuple[str, ...] = (
    "alice", "mary", "emma", "kate", "anna", "lucy", "sarah", "julia", "emily", "sophie",
    "laura", "grace", "lily", "chloe", "olivia", "rose", "jane", "ella", "nina", "clara",
)  # fmt: skip
NAMES: tuple[str, ...] = MALE_NAMES + FEMALE_NAMES

# Labels carried by every token of a story (see `Story`).
LABELS: tuple[str, ...] = ("subject_gender", "in_quotation", "position_in_sentence")

_PRONOUNS = {
    "male": {"P": "he", "Q": "his", "O": "him"},
    "female": {"P": "she", "Q": "her", "O": "her"},
}

# Slot fillers. A filler may itself contain slots ({place} inside {done}).
_FILLERS: dict[str, tuple[str, ...]] = {
    "good": (
        "nice", "kind", "good", "friendly", "honest", "gentle", "clever", "brave", "generous",
        "polite", "funny", "happy", "quiet", "smart", "calm", "patient",
    ),
    "bad": (
        "evil", "cruel", "rude", "lazy", "selfish", "mean", "dishonest", "greedy", "angry",
        "grumpy", "boring", "jealous",
    ),
    "skill": (
        "swimming", "cooking", "singing", "dancing", "painting", "fishing", "chess", "french",
        "spanish", "math", "history", "karate", "boxing", "music", "running", "drawing",
    ),
    "place": (
        "london", "paris", "rome", "berlin", "madrid", "tokyo", "boston", "dublin",
        "a small village", "a big city", "the north", "the south",
    ),
    "spot": (
        "market", "park", "school", "office", "beach", "library", "station", "river", "hospital",
        "cinema", "shop", "church", "zoo", "museum", "garden",
    ),
    "relative": (
        "mother", "father", "sister", "brother", "friend", "uncle", "aunt", "cousin", "son",
        "daughter", "teacher", "boss", "neighbour",
    ),
    "thing": (
        "apples", "coffee", "tea", "books", "music", "cats", "dogs", "football", "tennis",
        "movies", "bread", "cheese", "rice", "pizza", "chocolate", "flowers", "the sea",
        "the rain", "winter", "summer",
    ),
    "pet": ("dog", "cat", "horse", "bird", "fish", "rabbit"),
    "pet_adj": ("small", "big", "black", "white", "old", "young", "lazy", "funny"),
    "job": (
        "teacher", "doctor", "nurse", "farmer", "pilot", "driver", "baker", "singer", "writer",
        "lawyer", "soldier", "sailor", "cook", "painter", "student",
    ),
    "verb": (
        "bought", "read", "found", "cooked", "painted", "sold", "lost", "wrote", "watched",
        "ate", "made", "broke", "cleaned",
    ),
    "object": (
        "a book", "a letter", "an apple", "a car", "a house", "the bread", "a cake", "a movie",
        "a song", "a picture", "a hat", "a bike", "the window", "some flowers",
    ),
    "time": (
        "yesterday", "today", "last week", "in the morning", "at night", "on sunday",
        "every day",
    ),
    "feeling": ("tired", "happy", "sad", "busy", "sick", "hungry", "late", "ready", "angry"),
    "number": ("two", "three", "four", "five", "six", "seven", "ten", "many"),
    "done": (
        "worked in a bank", "lived in {place}", "studied {skill}", "visited {place}",
        "bought a new car", "lost {Q} keys", "sold {Q} old house", "learned {skill}",
        "met {N} at the {spot}",
    ),
    # Everyday words of a class today that the real text's books (19th-century novels, 1961 prose)
    # hardly have: with them a student's own sentences are mostly words the model can predict.
    "gadget": ("phone", "laptop", "computer", "tablet", "camera", "bike", "backpack", "headphones"),
    "errand": (
        "took the bus to school", "did {Q} homework", "sent a photo to {Q} {relative}", "watched a movie at home",
        "played video games", "went to the mall", "ordered a pizza", "went to the supermarket",
        "called {Q} mom", "called {Q} dad", "visited {Q} grandma", "studied for {Q} exams",
        "posted a video online", "wrote an email to {Q} boss", "fixed {Q} bike", "played football with the kids",
        "went jogging in the park", "stayed home for the weekend", "sent a text message to {N}",
    ),
    "quote": (
        "i am tired", "we will win", "the weather is nice today", "you are my best friend",
        "the sea is cold", "i love this city", "come with me", "what a beautiful day",
        "i do not know", "my dog is hungry", "it is late", "we need more bread", "thank you",
        "see you tomorrow", "are you ready ?", "let us go home", "i can not swim",
        "this is my house", "the war is over", "we are free", "i like your hat",
        "where is the station ?", "the food is good", "i will be back", "help me !",
        "it is my birthday", "the train is late", "look at the sky",
    ),
}  # fmt: skip

# Sentences that (re)introduce a subject by name; {S} is the new subject.
_INTRODUCTIONS: tuple[str, ...] = (
    "{S} is a {good} person .",
    "{S} is a {bad} person .",
    "{S} is {good} .",
    "{S} is {bad} .",
    "{S} knows {skill} .",
    "{S} lives in {place} .",
    "{S} likes {thing} .",
    "{S} has a {pet_adj} {pet} .",
    "{S} works as a {job} .",
)
# The contrast form of the forget example; used when the subject changes.
_SWITCHES: tuple[str, ...] = (
    "{S} , on the other hand , is {bad} .",
    "{S} , on the other hand , is {good} .",
    "{S} , on the other hand , is a {bad} person .",
    "{S} , on the other hand , is a {good} person .",
    "{S} , on the other hand , knows {skill} .",
    "{S} , however , is {bad} .",
    "{S} , however , is a {good} person .",
)
# Unimportant details about the current subject; {N} is some other person, a distractor the
# subject memory must let pass.
_DETAILS: tuple[str, ...] = (
    "{P} told me over the phone that {P} had served the navy for {number} long years .",
    "{P} told me over the phone that {P} had {done} .",
    "{P} {verb} {object} {time} .",
    "{P} {verb} {object} .",
    "{Time} , {P} went to the {spot} .",
    "{Q} {relative} lives in {place} .",
    "{P} has a {pet_adj} {pet} .",
    "{P} likes {thing} .",
    "{P} knows {skill} .",
    "{P} is a {good} person .",
    "{P} is {bad} .",
    "{P} works as a {job} .",
    "{P} was born in {place} .",
    "{P} cooked dinner for {Q} {relative} .",
    '{P} said : " {quote} " .',
    '{S} said : " {quote} " .',
    "{P} met {N} at the {spot} .",
    "{P} told {N} that {P} was {feeling} .",
    "{S} went to the {spot} {time} .",
    "everyone likes {O} .",
    "i gave {O} {object} .",
    "we met {O} at the {spot} .",
)
# Details with the everyday words of a class today, for `everyday` stories: a separate pool, so that
# stories drawn without it stay exactly as they were.
_EVERYDAY_DETAILS: tuple[str, ...] = (
    "{Time} , {P} {errand} .",
    "{P} {errand} {time} .",
    "{P} lost {Q} {gadget} {time} .",
    "{P} bought a new {gadget} .",
)
EVERYDAY_SHARE = 0.3  # of the details of an `everyday` story
_EVERYDAY_FILLERS = ("gadget", "errand")  # slots only the everyday details use
# Important facts, each followed (sooner or later) by a sentence that recalls the subject's name.
_DEEDS: tuple[str, ...] = (
    "{S} single-handedly fought the enemy and died for {Q} country .",
    "{P} single-handedly fought the enemy and died for {Q} country .",
    "{S} single-handedly fought the enemy and died for {Q} country .",
    "{S} saved a child from the river .",
    "{P} saved the whole village from the fire .",
    "{P} gave all {Q} money to the poor .",
)
_RECALLS: tuple[str, ...] = (
    "for {Q} contributions , brave {S} .",
    "for {Q} contributions , brave {S} .",
    "for {Q} contributions , brave {S} .",
    "we will always remember brave {S} .",
    "everyone thanked brave {S} .",
)
_TIMES_AT_START = ("yesterday", "today", "last week", "in the morning", "later", "on sunday")

# Written with a capital letter wherever they appear.
_PROPER_NOUNS = frozenset(NAMES) | {
    "i", "london", "paris", "rome", "berlin", "madrid", "tokyo", "boston", "dublin", "french",
    "spanish", "sunday",
}  # fmt: skip

_SLOT = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Story:
    """One generated story with its labels, one entry per word token.

    Attributes:
        tokens: the word tokens, lowercase, as `WordTokenizer` produces them from `text`.
        text: the story rendered as a person would write it (capitals, no space before commas).
        token_spans: ``(start, end)`` character offsets of each token in `text`.
        subject_gender: ``"male"``, ``"female"`` or None (no subject yet), after reading the token.
        subject_name: the current subject's name after reading the token, or None.
        in_quotation: True after an opening quotation mark until its closing mark.
        position_in_sentence: 0 for the first token of each sentence, then 1, 2, ...
    """

    tokens: list[str]
    text: str
    token_spans: list[tuple[int, int]]
    subject_gender: list[str | None]
    subject_name: list[str | None]
    in_quotation: list[bool]
    position_in_sentence: list[int]

    def labels(self, name: str) -> list:
        """The per-token labels called `name` (one of `LABELS`)."""
        if name not in LABELS:
            raise ValueError(f"label must be one of {LABELS}, got {name!r}")
        return list(getattr(self, name))

    def char_labels(self, name: str) -> list:
        """The labels called `name` for each character of `text`.

        A character takes the label of the token it belongs to; a space takes the label of the
        token before it, since that is what a character model has read when it sees the space.
        """
        token_labels = self.labels(name)
        char_labels: list = []
        for index, (start, end) in enumerate(self.token_spans):
            char_labels.extend([token_labels[index - 1] if index else token_labels[0]] * (start - len(char_labels)))
            char_labels.extend([token_labels[index]] * (end - start))
        char_labels.extend([token_labels[-1]] * (len(self.text) - len(char_labels)))
        return char_labels


def gender_of(name: str, genders: Mapping[str, str] | None = None) -> str:
    """``"male"`` or ``"female"``: from `genders` when given, else for one of `NAMES`."""
    if genders is not None:
        if name not in genders:
            raise ValueError(f"unknown name {name!r}: it is not in the genders given")
        return genders[name]
    if name in MALE_NAMES:
        return "male"
    if name in FEMALE_NAMES:
        return "female"
    raise ValueError(f"unknown name {name!r}; expected one of corpus.NAMES")


def split_names(fold: int) -> tuple[str, ...]:
    """Half of the names of each gender: fold 0 the even positions, fold 1 the odd ones.

    Analysis chooses an interpretable unit on one fold and measures it on the other, so that its
    accuracy says something about names it was not chosen on.
    """
    if fold not in (0, 1):
        raise ValueError(f"fold must be 0 or 1, got {fold}")
    return MALE_NAMES[fold::2] + FEMALE_NAMES[fold::2]


class _StoryWriter:
    """Writes one story sentence by sentence, tracking the current subject."""

    def __init__(self, rng: random.Random, names: Sequence[str], genders: Mapping[str, str] | None = None) -> None:
        self.rng = rng
        self.genders = genders
        self.male_names = [name for name in names if gender_of(name, genders) == "male"]
        self.female_names = [name for name in names if gender_of(name, genders) == "female"]
        if not self.male_names or not self.female_names:
            raise ValueError("names must contain at least one name of each gender")
        self.subject: str | None = None
        # Each sentence: (tokens, index of the token where the subject becomes current or None).
        self.sentences: list[tuple[list[str], str | None]] = []

    def pick_name(self, gender: str | None = None, exclude: Sequence[str] = ()) -> str:
        gender = gender or self.rng.choice(("male", "female"))
        pool = self.male_names if gender == "male" else self.female_names
        candidates = [name for name in pool if name not in exclude] or list(pool)
        return self.rng.choice(candidates)

    def fill(self, template: str) -> list[str]:
        """Fill the slots of `template` for the current subject and split it into tokens."""
        pronouns = _PRONOUNS[gender_of(self.subject, self.genders)] if self.subject else {}

        def replace(match: re.Match) -> str:
            slot = match.group(1)
            if slot == "S":
                return self.subject
            if slot in pronouns:
                return pronouns[slot]
            if slot == "N":
                return self.pick_name(exclude=[self.subject])
            if slot == "Time":
                return self.rng.choice(_TIMES_AT_START)
            if slot == "quote":
                return self.quotation()
            return self.rng.choice(_FILLERS[slot])

        text = template
        while _SLOT.search(text):
            text = _SLOT.sub(replace, text)
        return text.split()

    def quotation(self) -> str:
        clauses = [self.rng.choice(_FILLERS["quote"]) for _ in range(self.rng.choice((1, 1, 2)))]
        return f" {self.rng.choice(',,;')} ".join(clauses)

    def say(self, template: str, new_subject: str | None = None) -> None:
        if new_subject is not None:
            self.subject = new_subject
        self.sentences.append((self.fill(template), new_subject))


def _write_story(
    rng: random.Random, names: Sequence[str], heldout: bool, genders: Mapping[str, str] | None = None,
    everyday: bool = False,
) -> list[tuple[list[str], str | None]]:
    writer = _StoryWriter(rng, names, genders)

    def detail(pool: Sequence[str]) -> str:
        if everyday and rng.random() < EVERYDAY_SHARE:
            return rng.choice(_EVERYDAY_DETAILS)
        return rng.choice(pool)

    # Held-out stories are longer and put more detail between a deed and its recall.
    recall_gaps = (0, 0, 0, 1, 1, 2, 3) if heldout else (0, 0, 0, 0, 1, 1, 2)
    sentence_count = rng.randint(3, 10) if heldout else rng.randint(2, 8)
    opening = rng.choice(_INTRODUCTIONS + _DEEDS[:1])
    writer.say(opening, new_subject=writer.pick_name())
    recall_due: int | None = rng.choice(recall_gaps) if opening in _DEEDS else None
    last_was_switch = False
    for _ in range(sentence_count):
        if recall_due is not None:
            # Details pass between the deed and its recall; the subject's name must survive them.
            writer.say(rng.choice(_RECALLS) if recall_due == 0 else detail(_DETAILS))
            recall_due = None if recall_due == 0 else recall_due - 1
        elif last_was_switch:
            # After a change of subject the next sentence is usually about the new subject through
            # a pronoun: this is where the model shows what it forgot.
            writer.say(detail(_DETAILS[:15]) if rng.random() < 0.85 else detail(_DETAILS))
            last_was_switch = False
        elif (roll := rng.random()) < 0.25:
            new_gender = rng.choice(("male", "female"))
            if rng.random() < 0.7:  # mostly a change of gender, which is what the pronouns show
                new_gender = "female" if gender_of(writer.subject, genders) == "male" else "male"
            new_subject = writer.pick_name(new_gender, exclude=[writer.subject])
            templates = _SWITCHES if rng.random() < 0.7 else _INTRODUCTIONS
            writer.say(rng.choice(templates), new_subject=new_subject)
            last_was_switch = True
        elif roll < 0.5:
            writer.say(rng.choice(_DEEDS))
            recall_due = rng.choice(recall_gaps)
        elif roll < 0.6:
            # A recall without a deed: more chances to learn that "brave" is followed by the subject.
            writer.say(rng.choice(_RECALLS))
        else:
            writer.say(detail(_DETAILS))
    if recall_due is not None:
        writer.say(rng.choice(_RECALLS))
    return writer.sentences


def render(
    sentences: Sequence[Sequence[str]], names: Sequence[str] = ()
) -> tuple[str, list[tuple[int, int]]]:
    """Write token sentences as text, returning the text and each token's character span.

    Names (the built-in ones and `names`), "i", and the first word of a sentence or quotation are
    capitalised; punctuation sticks to the word before it; an opening quotation mark sticks to the
    word after it.
    """
    proper_nouns = _PROPER_NOUNS | frozenset(names)
    pieces: list[str] = []
    spans: list[tuple[int, int]] = []
    length = 0
    inside_quotation = False
    for sentence in sentences:
        capitalise_next = True
        for token in sentence:
            attach_left = token in ",.!?:;" or (token == '"' and inside_quotation)
            after_opening_quote = bool(pieces) and pieces[-1] == '"' and inside_quotation
            if pieces and not attach_left and not after_opening_quote:
                pieces.append(" ")
                length += 1
            if token == '"':
                inside_quotation = not inside_quotation
                if inside_quotation:
                    capitalise_next = True
                shown = token
            elif capitalise_next or token in proper_nouns:
                shown = token[:1].upper() + token[1:]
                capitalise_next = False
            else:
                shown = token
            pieces.append(shown)
            spans.append((length, length + len(shown)))
            length += len(shown)
    return "".join(pieces), spans


def _label_story(sentences: list[tuple[list[str], str | None]], genders: Mapping[str, str] | None = None) -> Story:
    tokens: list[str] = []
    subject_gender: list[str | None] = []
    subject_name: list[str | None] = []
    in_quotation: list[bool] = []
    position_in_sentence: list[int] = []
    subject: str | None = None
    inside_quotation = False
    for sentence_tokens, new_subject in sentences:
        for position, token in enumerate(sentence_tokens):
            # A new subject becomes current at its name, wherever the sentence puts it.
            if new_subject is not None and token == new_subject:
                subject = new_subject
            if token == '"':
                inside_quotation = not inside_quotation
            tokens.append(token)
            subject_name.append(subject)
            subject_gender.append(gender_of(subject, genders) if subject else None)
            in_quotation.append(inside_quotation)
            position_in_sentence.append(position)
    text, spans = render([sentence_tokens for sentence_tokens, _ in sentences], names=genders or ())
    return Story(tokens, text, spans, subject_gender, subject_name, in_quotation, position_in_sentence)


def generate_stories(
    count: int, seed: int, names: Sequence[str] = NAMES, heldout: bool = False, genders: Mapping[str, str] | None = None,
    everyday: bool = False,
) -> list[Story]:
    """`count` stories drawn with `seed`; the same arguments always give the same stories.

    Args:
        count: number of stories.
        seed: seed of the story's random generator.
        names: the names subjects and other people are drawn from (at least one of each gender).
        heldout: draw the longer held-out mix (more sentences, longer gaps before a recall).
        genders: name -> "male" or "female" for names outside the built-in cast.
        everyday: also draw details with everyday words of today (phones, homework, the bus).
    """
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    rng = random.Random(seed)
    return [_label_story(_write_story(rng, names, heldout, genders, everyday), genders) for _ in range(count)]


def switch_stories(
    count: int, seed: int, names: Sequence[str] = NAMES, genders: Mapping[str, str] | None = None
) -> list[Story]:
    """`count` three-sentence stories: a person, a person of the other gender, a sentence about them.

    "Mary is a nice person. Dan, on the other hand, is evil. He likes tea." In long stories most
    tokens are far from a change of subject; these put a change in every story, so a unit chosen
    on them must read the new subject at once, not drift there over a few sentences.
    """
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    rng = random.Random(seed)
    stories = []
    for _ in range(count):
        writer = _StoryWriter(rng, names, genders)
        first = writer.pick_name()
        writer.say(rng.choice(_INTRODUCTIONS), new_subject=first)
        second_gender = "female" if gender_of(first, genders) == "male" else "male"
        writer.say(rng.choice(_SWITCHES), new_subject=writer.pick_name(second_gender))
        writer.say(rng.choice(_DETAILS[:15]))
        stories.append(_label_story(writer.sentences, genders))
    return stories


def recall_stories(
    count: int, seed: int, names: Sequence[str] = NAMES, genders: Mapping[str, str] | None = None
) -> list[Story]:
    """`count` short stories that each end by recalling their subject's name.

    "Rose saved a child from the river. She likes tea. For her contributions, brave Rose." A deed, up
    to three details, sometimes another person first, then a recall. In long stories a name is recalled
    a few times per story; with thousands of names a model needs many more such endings to learn that
    the name after "brave" is copied from its memory, not guessed from the gender alone.
    """
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    rng = random.Random(seed)
    stories = []
    for _ in range(count):
        writer = _StoryWriter(rng, names, genders)
        if rng.random() < 0.3:
            writer.say(rng.choice(_INTRODUCTIONS), new_subject=writer.pick_name())
        subject = writer.pick_name(exclude=[writer.subject] if writer.subject else ())
        writer.say(rng.choice(_INTRODUCTIONS), new_subject=subject)
        writer.say(rng.choice(_DEEDS))
        for _ in range(rng.choice((0, 1, 1, 2, 3))):
            writer.say(rng.choice(_DETAILS[:15]))
        writer.say(rng.choice(_RECALLS))
        stories.append(_label_story(writer.sentences, genders))
    return stories


def vocabulary(everyday: bool = False) -> list[str]:
    """Every word the generator can write, sorted: the word model's vocabulary without specials;
    with `everyday`, also the words of the `everyday` details."""
    words: set[str] = set(NAMES) | {"he", "she", "his", "her", "him"} | set(',.!?:;"')
    templates = _INTRODUCTIONS + _SWITCHES + _DETAILS + _DEEDS + _RECALLS + _TIMES_AT_START
    fillers = {name: values for name, values in _FILLERS.items() if everyday or name not in _EVERYDAY_FILLERS}
    if everyday:
        templates += _EVERYDAY_DETAILS
    for text in templates + tuple(filler for values in fillers.values() for filler in values):
        words.update(word for word in _SLOT.sub(" ", text).split())
    return sorted(words)


def pronoun_prompts(
    count: int, seed: int, names: Sequence[str] = NAMES, genders: Mapping[str, str] | None = None
) -> list[tuple[str, str]]:
    """Held-out forget probes: ``(text, expected pronoun)`` after a change of subject and gender.

    The first sentence introduces one person, the second switches to a person of the other gender;
    the next word should be that person's pronoun. Half the prompts are the issue's exact sentences
    with other names, the rest vary the adjectives.

    >>> pronoun_prompts(1, seed=1)[0][1] in ("he", "she")
    True
    """
    rng = random.Random(seed)
    by_gender = {gender: [name for name in names if gender_of(name, genders) == gender] for gender in _PRONOUNS}
    prompts = []
    for index in range(count):
        first_gender = rng.choice(("male", "female"))
        second_gender = "female" if first_gender == "male" else "male"
        first = rng.choice(by_gender[first_gender])
        second = rng.choice(by_gender[second_gender])
        if index % 2 == 0:
            text = f"{first.title()} is a nice person. {second.title()}, on the other hand, is evil."
        else:
            good, bad = rng.choice(_FILLERS["good"]), rng.choice(_FILLERS["bad"])
            text = f"{first.title()} is a {good} person. {second.title()}, on the other hand, is {bad}."
        prompts.append((text, _PRONOUNS[second_gender]["P"]))
    return prompts


def recall_prompts(
    count: int, seed: int, names: Sequence[str] = NAMES, genders: Mapping[str, str] | None = None
) -> list[tuple[str, str]]:
    """Held-out output probes: ``(text ending in "brave", expected name)``.

    The first prompt of each group of three is the issue's exact example with another name; the
    others put a detail sentence in between or an earlier person before the subject.
    """
    rng = random.Random(seed)
    prompts = []
    for index in range(count):
        name = rng.choice(list(names))
        possessive = _PRONOUNS[gender_of(name, genders)]["Q"]
        pronoun = _PRONOUNS[gender_of(name, genders)]["P"]
        deed = f"{name.title()} single-handedly fought the enemy and died for {possessive} country."
        recall = f"For {possessive} contributions, brave"
        if index % 3 == 0:
            text = f"{deed} {recall}"
        elif index % 3 == 1:
            place = rng.choice(("london", "paris", "rome", "berlin"))
            text = f"{deed} {pronoun.title()} was born in {place.title()}. {recall}"
        else:
            other = rng.choice([other for other in names if other != name])
            good = rng.choice(_FILLERS["good"])
            text = f"{other.title()} is a {good} person. {deed} {recall}"
        prompts.append((text, name))
    return prompts
