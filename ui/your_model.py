"""What /your-model shows beside the uploads: the documented key names, how to save a model, a summary
of what was read, example input, and the bare LSTM a session keeps. Pure functions, no Streamlit, except
that the bare LSTM is stored in the session state mapping the page passes in.

    >>> example_input_csv(2, steps=3).splitlines()[0]
    'x0,x1'
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath

import numpy as np

from lstm_core import LSTM, Trace
from lstm_core.config import (
    MAX_UPLOAD_HIDDEN,
    MAX_UPLOAD_INPUT,
    MAX_UPLOAD_LAYERS,
    MAX_UPLOAD_TEXT_TOKENS,
    MAX_UPLOAD_VOCAB,
    MAX_UPLOAD_WORK,
)
from lstm_core.io.model_files import MAX_INPUT_STEPS, MAX_MODEL_BYTES, UploadedModel, read_model, read_vocabulary
from lstm_core.models.tokenize import UNKNOWN_TOKEN
from ui.model_store import session_model_label

__all__ = [
    "KEY_NAMES_MARKDOWN", "SAVE_SNIPPET", "VOCAB_SNIPPET", "BareModel", "describe_lstm", "tensor_rows",
    "example_text", "example_input_csv", "model_label", "upload_fingerprint", "bare_model", "keep_bare_model",
    "forget_bare_model", "UploadRead", "read_uploads", "unreadable_message",
]  # fmt: skip

log = logging.getLogger(__name__)

KEY_NAMES_MARKDOWN = f"""
| key | shape | |
|---|---|---|
| `weight_ih_l0`, `weight_hh_l0` | (4·H, E), (4·H, H) | the LSTM, PyTorch's `nn.LSTM` names and layout (gates i, f, g, o) |
| `bias_ih_l0`, `bias_hh_l0` | (4·H,), (4·H,) | optional (`bias=False`) |
| `…_l1`, `…_l2`, `…_reverse` | | more layers; the backward direction of a bidirectional LSTM |
| `embedding.weight` or `encoder.weight` | (V, E) | optional: with it the model reads text |
| `decoder.weight`, `decoder.bias` | (V, D·H), (V,) | with the embedding: the next-token guesses (bias optional) |

H is the hidden size, E the input size, V the vocabulary size, D the number of directions. The LSTM
keys may all carry one prefix, such as `lstm.` or `rnn.` (a whole model's `state_dict`); the embedding
and decoder then sit beside it (`model.lstm.weight_ih_l0` with `model.embedding.weight`). Weights must
be float16, float32 or float64 and finite. Files up to {MAX_MODEL_BYTES // 2**20} MB.

**Sizes.** Everyone on this server shares it, so a model may have at most {MAX_UPLOAD_LAYERS} layers,
{MAX_UPLOAD_HIDDEN:,} units per layer, input vectors of {MAX_UPLOAD_INPUT:,} numbers and a vocabulary of
{MAX_UPLOAD_VOCAB:,} tokens; and layers × directions × units × the longest input ({MAX_UPLOAD_TEXT_TOKENS:,}
tokens of text, {MAX_INPUT_STEPS:,} vectors) may be at most {MAX_UPLOAD_WORK:,}.

**Vocabulary** (for a model with an embedding): a JSON list of tokens in id order, a JSON object
(`{{"the": 1}}` token → id, or `{{"1": "the"}}` id → token), or a text file with one token a line. One
token per embedding row. When every token is a single character (besides specials such as `<unk>`)
the model reads text character by character; otherwise word by word, lowercased, with punctuation as
tokens of their own. Unknown words are read as `<unk>` (also spelt `<UNK>` or `[UNK]`).

**Without an embedding** the LSTM reads vectors: one timestep a line, E numbers separated by commas,
at most {MAX_INPUT_STEPS:,} lines.
"""

SAVE_SNIPPET = """\
import json, torch

class WordModel(torch.nn.Module):        # the key names this page reads
    def __init__(self, vocab_size, embedding_size=32, hidden_size=64):
        super().__init__()
        self.embedding = torch.nn.Embedding(vocab_size, embedding_size)
        self.lstm = torch.nn.LSTM(embedding_size, hidden_size, batch_first=True)
        self.decoder = torch.nn.Linear(hidden_size, vocab_size)

model = WordModel(len(vocab))            # ... trained ...
torch.save(model.state_dict(), "model.pt")                  # .pt: the state_dict, never the model object

from safetensors.torch import save_file                     # or .safetensors
save_file(model.state_dict(), "model.safetensors")

import numpy as np                                          # or .npz
np.savez("model.npz", **{key: value.numpy() for key, value in model.state_dict().items()})

json.dump(vocab, open("vocab.json", "w"))                   # vocab: the tokens, in id order
torch.save(torch.nn.LSTM(3, 16).state_dict(), "lstm.pt")    # a bare LSTM: it reads vectors of 3 numbers
"""

VOCAB_SNIPPET = '["<unk>", "the", "cat", "sat", "."]'


@dataclass(eq=False)
class BareModel:
    """An uploaded LSTM without embedding, kept in one session; `trace` caches the last input's trace."""

    lstm: LSTM
    label: str
    fingerprint: str
    traced: dict[bytes, Trace] = field(default_factory=dict)

    def trace(self, inputs: np.ndarray) -> Trace:
        """The trace of (T, input_size) `inputs`; the last one is kept, so a rerun does not recompute it."""
        key = (
            hashlib.sha256(np.ascontiguousarray(inputs, dtype=np.float32).tobytes()).digest()
            + str(inputs.shape).encode()
        )
        if key not in self.traced:
            self.traced.clear()
            self.traced[key] = self.lstm.run(inputs)
        return self.traced[key]


_BARE_KEY = "_your_model_bare"


def bare_model(session: MutableMapping) -> BareModel | None:
    """The session's bare LSTM, or None."""
    model = session.get(_BARE_KEY)
    return model if isinstance(model, BareModel) else None


def keep_bare_model(session: MutableMapping, lstm: LSTM, label: str, fingerprint: str) -> BareModel:
    """Keep `lstm` in this session only (one at a time: a new upload replaces the old one)."""
    current = bare_model(session)
    if current is not None and current.fingerprint == fingerprint:
        return current
    session[_BARE_KEY] = BareModel(lstm, label, fingerprint)
    return session[_BARE_KEY]


def forget_bare_model(session: MutableMapping) -> None:
    session.pop(_BARE_KEY, None)


def upload_fingerprint(*parts: str | bytes | None) -> str:
    """One hash of what identifies the uploads (Streamlit's file ids, or the bytes themselves): the same
    upload after a rerun is recognised, and not read or added again."""
    digest = hashlib.sha256()
    for part in parts:
        data = b"" if part is None else part.encode("utf-8", "surrogatepass") if isinstance(part, str) else bytes(part)
        digest.update(hashlib.sha256(data).digest() + (b"-" if part is None else b"+"))
    return digest.hexdigest()


def describe_lstm(lstm: LSTM) -> str:
    """One line: "an LSTM of 2 layers, 64 units each, bidirectional, reading vectors of 32"."""
    layers = "1 layer" if lstm.num_layers == 1 else f"{lstm.num_layers} layers"
    parts = [f"{layers} of {lstm.hidden_size} units", "bidirectional" if lstm.num_directions == 2 else "one direction",
             f"input size {lstm.input_size}", "with biases" if lstm.bias else "without biases"]  # fmt: skip
    return "An LSTM: " + ", ".join(parts)


def tensor_rows(model: UploadedModel) -> list[dict[str, str]]:
    """One row per tensor of the file, saying what the page reads it as."""
    roles = {model.embedding_key: "embedding"}
    rows = []
    for key, shape, dtype in model.tensors:
        if key.startswith(model.lstm_prefix) and key[len(model.lstm_prefix) :].split("_l")[0] in (
            "weight_ih", "weight_hh", "bias_ih", "bias_hh"
        ):  # fmt: skip
            role = "LSTM"
        else:
            role = roles.get(key, "decoder")
        rows.append(
            {"key": key, "shape": " × ".join(str(n) for n in shape) or "scalar", "dtype": dtype, "read as": role}
        )
    return rows


def example_text(vocab: Sequence[str], kind: str, count: int = 12) -> str:
    """A text the model knows every token of: its first ordinary tokens, for the links to /gates and /step."""
    ordinary = [
        token for token in vocab if token != UNKNOWN_TOKEN and not (token.startswith("<") and token.endswith(">"))
    ]
    if kind == "chars":
        letters = [token for token in ordinary if token.isalpha() or token == " "]
        return "".join((letters or ordinary)[:count]).strip() or "a"
    words = [token for token in ordinary if token.strip() and token == token.lower()]
    return " ".join((words or ordinary)[:count]) or "a"


def example_input_csv(input_size: int, steps: int = 40) -> str:
    """CSV of smooth waves, one column per input, with a header row: something to run a bare LSTM on."""
    t = np.arange(steps)[:, None]
    columns = np.arange(input_size)[None, :]
    values = np.sin(2 * np.pi * t / (12 + 4 * columns) + columns)  # a different period and phase per column
    header = ",".join(f"x{index}" for index in range(input_size))
    return "\n".join([header, *(",".join(f"{value:.3f}" for value in row) for row in values)])


def model_label(filename: str, kind: str) -> str:
    """The name a model is listed under: its file name and kind, e.g. "my lstm (words)"."""
    stem = PurePath(str(filename or "")).stem or "my model"
    return session_model_label(f"{stem[:28]} ({kind})", kind)


@dataclass(frozen=True)
class UploadRead:
    """What the page read from one pair of uploads; `error` or `vocab_error` say what was refused."""

    model: UploadedModel | None = None
    error: str | None = None
    vocab: list[str] | None = None
    vocab_error: str | None = None


def read_uploads(weights: bytes, weights_name: str, vocab: bytes | None, vocab_name: str) -> UploadRead:
    """Read the weights and (when given) the vocabulary; every refusal becomes a message, never an exception.

    The readers refuse what they know to be wrong with a ValueError that says why. Anything else a
    file makes them raise is a case nobody foresaw: it is logged with its traceback for the maintainers,
    and the student reads that the file could not be read.
    """
    try:
        model = read_model(weights, weights_name)
    except ValueError as error:
        return UploadRead(error=_sentence(str(error)))
    except Exception as error:  # noqa: BLE001 - the last resort: a file never shows a traceback on the page
        return UploadRead(error=unreadable_message(error, weights_name))
    if vocab is None:
        return UploadRead(model)
    try:
        tokens = read_vocabulary(vocab, vocab_name)
    except ValueError as error:
        return UploadRead(model, vocab_error=_sentence(str(error)))
    except Exception as error:  # noqa: BLE001 - as above
        return UploadRead(model, vocab_error=unreadable_message(error, vocab_name))
    return UploadRead(model, vocab=tokens)


def unreadable_message(error: BaseException, filename: str) -> str:
    """Log `error`, which reading the upload `filename` raised unforeseen, with its traceback (call it
    in the `except` block), and return what the student reads instead."""
    log.exception("reading the upload %r failed unexpectedly", filename[:200])
    return (
        f"This file could not be read ({type(error).__name__}). It is damaged, or not a file this page reads: save "
        "the model again as shown under “Which files this page reads”."
    )


def _sentence(message: str) -> str:
    message = message.strip()
    message = message[:1].upper() + message[1:]
    return message if message.endswith((".", "!", "?")) else message + "."
