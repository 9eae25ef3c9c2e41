"""Settings that the pages and the training code both read, without importing torch.

The limits of what a student can set on /train, the configuration dataclasses that check them, and
where the shipped weights live. `lstm_core.training` imports this module to train; the pages import
it to draw their sliders, so opening /train never loads torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lstm_core.data.tasks import TASKS
from lstm_core.models.tokenize import CharTokenizer

__all__ = [
    "ASSETS_DIR", "LONGLAG_DIR", "LONGLAG_HIDDEN_SIZE",
    "MAX_UPLOAD_TENSORS", "MAX_UPLOAD_LAYERS", "MAX_UPLOAD_HIDDEN", "MAX_UPLOAD_INPUT", "MAX_UPLOAD_VOCAB",
    "MAX_UPLOAD_TEXT_TOKENS", "MAX_UPLOAD_WORK",
    "LIMITS", "MAX_SECONDS", "TaskTrainConfig", "Progress", "SHIPPED", "DEFAULT", "DEFAULTS",
    "MIN_TEXT_CHARS", "MAX_TEXT_CHARS", "TEXT_LIMITS", "TextTrainConfig", "TextProgress", "check_training_text",
]  # fmt: skip

ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"  # shipped weights, vocabularies, model cards
LONGLAG_DIR = ASSETS_DIR / "longlag"

# ------------------------------------------------------------------ the long-lag tasks (/train, /gradients)
# Safe bounds for anything a user can set on the /train page. Each bound alone keeps a run small;
# `MAX_SECONDS` stops a run that the product of large values would make long.
LIMITS = {
    "lag": (1, 200),
    "hidden_size": (2, 128),
    "steps": (1, 3000),
    "learning_rate": (1e-4, 0.1),
    "batch_size": (1, 256),
    "noise": (0.0, 1.0),
}
MAX_SECONDS = 240.0  # a side-by-side run ends here whatever its settings, and says it was cut short


@dataclass(frozen=True)
class TaskTrainConfig:
    """One training run. `noise`: Gaussian noise on every distractor step of `remember_first` (0 for
    the adding problem, whose inputs are already random numbers)."""

    task: str = "remember_first"
    lag: int = 60
    hidden_size: int = 32
    steps: int = 1500
    batch_size: int = 64
    learning_rate: float = 0.003
    noise: float = 0.0
    seed: int = 0

    def __post_init__(self):
        if self.task not in TASKS:
            raise ValueError(f"unknown task {self.task!r}; expected one of {sorted(TASKS)}")
        for name, (low, high) in LIMITS.items():
            value = getattr(self, name)
            is_number = isinstance(value, float | int) if isinstance(low, float) else isinstance(value, int)
            if not is_number or isinstance(value, bool) or not low <= value <= high:
                raise ValueError(f"{name} must be between {low} and {high}, got {value!r}")
        if self.task != "remember_first" and self.noise:
            raise ValueError(f"noise applies to the remember_first task only, got noise={self.noise} for {self.task}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")


@dataclass(frozen=True)
class Progress:
    """One evaluation during training on a fixed validation batch of 512 sequences: `score` is
    accuracy (classification) or mean squared error (regression)."""

    kind: str
    step: int
    loss: float
    score: float
    seconds: float


SHIPPED = TaskTrainConfig(task="remember_first", lag=60, hidden_size=32, steps=1500, batch_size=64,
                          learning_rate=0.003, noise=0.3, seed=0)  # fmt: skip
DEFAULT = SHIPPED
# The page's starting values for each task.
DEFAULTS = {
    "remember_first": DEFAULT,
    # Learning rate 0.01: at 0.003 neither cell leaves the constant guess in 1500 steps at lag 60; at
    # 0.01 the LSTM's error falls below 0.002 by step 1000 in seeds 0-2 and the RNN's stays at 0.15-0.18.
    "adding_problem": TaskTrainConfig(task="adding_problem", lag=60, hidden_size=32, steps=1500, batch_size=64,
                                      learning_rate=0.01, noise=0.0, seed=0),
}  # fmt: skip
LONGLAG_HIDDEN_SIZE = SHIPPED.hidden_size


# ------------------------------------------------------------------ a model a student uploads (/your-model)
# Each bound keeps one cost of an uploaded model small for the whole server, whatever the file says:
# a refused file is told which bound it broke. The layers bound the Python loop every token runs
# through; the work bound the memory of one trace (about 24 bytes per unit per token); the vocabulary
# bound the next-token table beside it (4 bytes per token of the vocabulary per token read).
MAX_UPLOAD_TENSORS = 256  # an 8-layer bidirectional LSTM with an embedding and a decoder has 67
MAX_UPLOAD_LAYERS = 8
MAX_UPLOAD_HIDDEN = 1_024  # units per layer and direction
MAX_UPLOAD_INPUT = 2_048  # numbers in each input vector (the embedding's width)
MAX_UPLOAD_VOCAB = 10_000  # a next-token table of 200 MB over the longest text
MAX_UPLOAD_TEXT_TOKENS = 5_000  # the longest text a page runs through a model: ui.typed_text.MAX_TEXT_CHARS characters
MAX_UPLOAD_WORK = 10_000_000  # layers × directions × units × tokens read: 2 layers of 1,000 units fit any text


# ------------------------------------------------------------------ a character model of a user's text
MIN_TEXT_CHARS = 40  # shorter than this there is nothing to learn beyond the letters themselves
MAX_TEXT_CHARS = 50_000  # about 25 pages: plenty for a few hundred steps, small enough to hold per session
MIN_KNOWN_SHARE = 0.5  # at least half the characters must be in the alphabet, or the model learns "<unk>"
# Safe bounds for what the /train page lets a user set: a run stays within about a minute.
TEXT_LIMITS = {
    "hidden_size": (4, 128),
    "steps": (1, 2000),
    "learning_rate": (1e-4, 0.1),
    "sequence_length": (8, 200),
    "batch_size": (1, 64),
}
@dataclass(frozen=True)
class TextTrainConfig:
    hidden_size: int = 64
    steps: int = 400
    learning_rate: float = 0.01
    sequence_length: int = 64  # characters per training window: the longest span the model learns across
    batch_size: int = 32
    seed: int = 0

    def __post_init__(self):
        for name, (low, high) in TEXT_LIMITS.items():
            value = getattr(self, name)
            is_number = isinstance(value, float | int) if isinstance(low, float) else isinstance(value, int)
            if not is_number or isinstance(value, bool) or not low <= value <= high:
                raise ValueError(f"{name} must be between {low} and {high}, got {value!r}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")


@dataclass(frozen=True)
class TextProgress:
    """One evaluation on fixed windows of the text: cross-entropy per character and next-character
    accuracy (on the training text itself: this model is for looking inside, not for generalising)."""

    kind: str  # always "lstm": the curves share the task runs' plotting
    step: int
    loss: float
    score: float
    seconds: float


def check_training_text(text: object) -> str:
    """The text as the model will read it (Windows line ends and tabs made plain), or ValueError with
    a message for the student: not a str, empty, too short, too long, or mostly unknown characters."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    if not text.strip():
        raise ValueError("The text is empty: paste or upload some text for the model to learn from.")
    if len(text) > MAX_TEXT_CHARS:
        raise ValueError(f"The text has {len(text):,} characters; at most {MAX_TEXT_CHARS:,} can be trained on.")
    if len(text.strip()) < MIN_TEXT_CHARS:
        raise ValueError(f"The text is too short ({len(text.strip())} characters); give at least {MIN_TEXT_CHARS}.")
    tokenizer = CharTokenizer()
    known = sum(character in tokenizer.token_to_id for character in text)
    if known < MIN_KNOWN_SHARE * len(text):
        raise ValueError(
            f"Only {known:,} of the {len(text):,} characters are ones the character model knows (English letters, "
            "digits, spaces and punctuation); emoji and other scripts read as <unk>. Give a text mostly in those."
        )
    return text
