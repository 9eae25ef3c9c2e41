"""Reading an LSTM a user uploads: weights, an optional vocabulary, and numeric input for a bare LSTM.

Everything here turns bytes into checked NumPy arrays or refuses them with a `ValueError` whose message
names what is wrong, in words a student can act on. Nothing here runs code from a file: `.safetensors`
and `.npz` go through `lstm_core.io.checkpoint` (a bounds-checked copy of bytes, no pickles), and a PyTorch
`.pt`/`.pth` goes through `torch.load(..., weights_only=True)`, whose unpickler builds tensors, dicts and
lists only and refuses any other class or function. torch is imported inside `read_torch_file` alone.

A file of a few kilobytes can describe gigabytes: a tensor expanded with stride 0, hundreds of views of
one storage, byte ranges shared between entries. So before anything is copied the bytes every tensor
will take are added up (elements × item size) and checked against `MAX_MODEL_BYTES`, and strides of 0,
tensors that share bytes, too many tensors, nested JSON and odd zip members are refused. Then the model
itself must fit the limits of `lstm_core.config` (layers, units, input size, vocabulary, and layers ×
units × the longest text a page reads), and a refusal names the limit it broke.

Accepted key names (PyTorch's own, see `nn.LSTM`):

    weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, ..._l1, ..._reverse   the LSTM, (4H, E), (4H, H), (4H,)
    embedding.weight or encoder.weight                                        (V, E), optional
    decoder.weight, decoder.bias                                              (V, D*H), (V,), with the embedding

The LSTM keys may share one prefix (``lstm.``, ``rnn.``, ``model.lstm.``), which is stripped; the
embedding and decoder then sit beside the LSTM (``model.embedding.weight`` with ``model.lstm.``).

    >>> tensors = {"lstm.weight_ih_l0": np.zeros((8, 3), np.float32), "lstm.weight_hh_l0": np.zeros((8, 2), np.float32)}
    >>> model = split_model(tensors)
    >>> model.lstm.input_size, model.lstm.hidden_size, model.lstm_prefix, model.is_language_model
    (3, 2, 'lstm.', False)
"""

from __future__ import annotations

import io
import itertools
import math
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePath

import numpy as np

from lstm_core.config import (
    MAX_UPLOAD_HIDDEN,
    MAX_UPLOAD_INPUT,
    MAX_UPLOAD_LAYERS,
    MAX_UPLOAD_TENSORS,
    MAX_UPLOAD_TEXT_TOKENS,
    MAX_UPLOAD_VOCAB,
    MAX_UPLOAD_WORK,
)
from lstm_core.io.checkpoint import MAX_ZIP_MEMBERS, load_checkpoint, parse_json, zip_members
from lstm_core.lstm import LSTM
from lstm_core.models.language_model import LanguageModel
from lstm_core.models.tokenize import UNKNOWN_TOKEN, CharTokenizer, WordTokenizer

__all__ = [
    "MAX_MODEL_BYTES", "MAX_VOCAB_BYTES", "MAX_INPUT_BYTES", "MAX_INPUT_STEPS", "MAX_HEADER_BYTES", "MAX_PICKLE_BYTES",
    "WEIGHT_SUFFIXES", "VOCAB_SUFFIXES", "EMBEDDING_NAMES", "DECODER_WEIGHT", "DECODER_BIAS", "UNKNOWN_SPELLINGS",
    "UploadedModel", "LanguageModelBuild", "read_weights", "read_torch_file", "split_model", "read_model",
    "read_vocabulary", "build_language_model", "check_lstm_size", "check_language_model_size", "read_input_vectors",
]  # fmt: skip

# A 1,000-unit, 2-layer LSTM with a 10,000-word vocabulary fits; reading a refused upload costs little.
MAX_MODEL_BYTES = 50 * 2**20
MAX_VOCAB_BYTES = 5 * 2**20
MAX_INPUT_BYTES = 2 * 2**20
MAX_INPUT_STEPS = 2_000  # timesteps of pasted input kept; the heatmaps draw a window of them anyway
# A state_dict's pickle and a safetensors header take about 100 bytes per tensor; what is read from
# them becomes Python objects many times their size, so a larger one is refused before it is read.
MAX_HEADER_BYTES = 2**20
MAX_PICKLE_BYTES = 2**20
WEIGHT_SUFFIXES = ("pt", "pth", "safetensors", "npz")
VOCAB_SUFFIXES = ("json", "txt")
EMBEDDING_NAMES = ("embedding.weight", "encoder.weight")  # nn.Embedding in our models; PyTorch's word LM example
DECODER_WEIGHT, DECODER_BIAS = "decoder.weight", "decoder.bias"
# Other spellings of the unknown token; one of them is read as <unk>, which the tokenizers expect.
UNKNOWN_SPELLINGS = (UNKNOWN_TOKEN, "<UNK>", "[UNK]", "<oov>", "<OOV>", "<unknown>", "UNK")
# A token of this shape is a special one (<pad>, <eos>, [CLS]): it does not make a vocabulary of words.
_SPECIAL_TOKEN = re.compile(r"^(<[^<>\s]+>|\[[A-Z]+\])$")
_LSTM_KEY = re.compile(r"^(?P<prefix>(?:.*\.)?)(weight_ih|weight_hh|bias_ih|bias_hh|weight_hr)_l\d+(_reverse)?$")
_FLOAT_ITEMSIZES = (2, 4, 8)
_FLOAT32_MAX = float(np.finfo(np.float32).max)  # a larger input would become inf in the LSTM
_UNKNOWN_ROW_BIAS = -1e4  # the decoder bias of an added <unk>: exp(-1e4) is 0 in float32, so it is never predicted
_STATE_DICT_KEYS = ("state_dict", "model_state_dict", "model")  # where training scripts nest the weights


@dataclass(frozen=True)
class UploadedModel:
    """An uploaded LSTM, checked, with its embedding and decoder when the file has them.

    lstm: the core `LSTM` (float32). embedding: (V, E) or None. decoder_weight: (V, D*H) or None;
    decoder_bias: (V,) (zeros when the file has none) or None. tensors: (key, shape, dtype) of every
    tensor the file held, for the summary the page shows.
    """

    lstm: LSTM
    lstm_prefix: str
    embedding: np.ndarray | None
    decoder_weight: np.ndarray | None
    decoder_bias: np.ndarray | None
    embedding_key: str | None
    tensors: tuple[tuple[str, tuple[int, ...], str], ...]

    @property
    def is_language_model(self) -> bool:
        return self.embedding is not None

    @property
    def vocab_size(self) -> int | None:
        return None if self.embedding is None else int(self.embedding.shape[0])


@dataclass(frozen=True)
class LanguageModelBuild:
    model: LanguageModel
    notices: tuple[str, ...]  # what was changed or will surprise, e.g. "<UNK> is read as <unk>"


# ------------------------------------------------------------------------------------ weights
def read_weights(data: bytes, filename: str = "") -> dict[str, np.ndarray]:
    """Name -> array from the bytes of a `.pt`/`.pth`, `.safetensors` or `.npz` file.

    The format is recognised from the content (a PyTorch file is a zip holding ``data.pkl``; an npz a
    zip of ``.npy``; a safetensors file starts with its header length); `filename` only words messages.
    Raises ValueError for a file over `MAX_MODEL_BYTES`, a pickle, or anything malformed.
    """
    data = _bounded(data, MAX_MODEL_BYTES, "the weights file")
    if not data:
        raise ValueError("the weights file is empty")
    if data[:4] == b"PK\x03\x04" and data.count(b"PK\x01\x02") > MAX_ZIP_MEMBERS:  # before the zip is parsed
        raise ValueError(
            f"the weights file is a zip archive of more than {MAX_ZIP_MEMBERS:,} entries; a model has far fewer"
        )
    if _is_torch_file(data):
        return read_torch_file(data)
    if data[:1] == b"\x80":  # the first byte of every pickle of protocol 2 or later
        raise ValueError(
            "refused: this file is a plain Python pickle (or a PyTorch file in the old format from before version "
            "1.6). Loading a pickle can run any code, so it is never opened here. In PyTorch, save the weights "
            "again with torch.save(model.state_dict(), 'model.pt'), or as .safetensors."
        )
    suffix = PurePath(filename).suffix.lower()
    try:
        tensors, _ = load_checkpoint(
            data, max_bytes=MAX_MODEL_BYTES, max_tensors=MAX_UPLOAD_TENSORS, max_header_bytes=MAX_HEADER_BYTES
        )
    except ValueError as error:
        hint = (
            ""
            if suffix in (".safetensors", ".npz")
            else " Accepted: .pt or .pth (a PyTorch state_dict), .safetensors, .npz."
        )
        raise ValueError(f"{error}.{hint}") from None
    return tensors


def read_torch_file(data: bytes) -> dict[str, np.ndarray]:
    """Name -> array from a file written by `torch.save(state_dict, ...)`, read with
    `torch.load(..., weights_only=True)`, which refuses any pickled class or function instead of
    calling it. Accepts a mapping of names to tensors, or one nested under ``state_dict``,
    ``model_state_dict`` or ``model`` (other entries, such as an epoch number, are ignored).

    torch reads each storage whole from its own zip member (whose sizes are checked first) and makes
    tensors as views of them, which costs nothing; the tensors' shapes, strides and byte ranges are
    then checked (`_check_tensor_layout`) before any of them is copied."""
    data = _bounded(data, MAX_MODEL_BYTES, "the weights file")
    if not _is_torch_file(data):
        raise ValueError("not a PyTorch file: a file written by torch.save is a zip archive holding data.pkl")
    _check_torch_archive(data)
    try:
        import torch  # only here: the app runs on NumPy, and only this reader needs torch

        loaded = torch.load(io.BytesIO(data), weights_only=True, map_location="cpu")
    except Exception as error:  # noqa: BLE001 - every failure of a foreign file becomes one plain message
        raise ValueError(_torch_failure(error)) from None
    if isinstance(loaded, Mapping):
        for key in _STATE_DICT_KEYS:
            if isinstance(loaded.get(key), Mapping):
                loaded = loaded[key]
                break
    if not isinstance(loaded, Mapping):
        raise ValueError(
            f"the PyTorch file holds a {type(loaded).__name__}, not a state_dict; save one with "
            "torch.save(model.state_dict(), 'model.pt')"
        )
    if len(loaded) > MAX_UPLOAD_TENSORS:
        raise ValueError(f"the state_dict holds {len(loaded):,} entries, more than the limit of {MAX_UPLOAD_TENSORS:,}")
    for key, value in loaded.items():
        if not isinstance(key, str):
            raise ValueError(f"the state_dict has a key {_short(key)} that is not a string")
        if not isinstance(value, torch.Tensor):
            raise ValueError(
                f"{_short(key)} is a {type(value).__name__}, not a tensor: the state_dict must hold tensors only"
            )
        if value.dtype == torch.bfloat16:
            raise ValueError(f"{_short(key)} is bfloat16; save the model as float32 (model.float()) first")
    _check_tensor_layout(loaded)
    tensors = {}
    for key, value in loaded.items():
        try:
            tensors[key] = np.array(value.detach().numpy(), order="C", copy=True)
        except Exception as error:  # noqa: BLE001 - quantized or complex-conjugate tensors, unusual dtypes
            raise ValueError(
                f"{_short(key)} cannot be read as a plain array ({type(error).__name__}: {error})"
            ) from None
    return tensors


def _is_torch_file(data: bytes) -> bool:
    if data[:4] != b"PK\x03\x04" or data.count(b"PK\x01\x02") > MAX_ZIP_MEMBERS:
        return False
    try:
        names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    except Exception:  # noqa: BLE001 - whatever a broken zip raises, it is not a PyTorch file
        return False
    return any(name == "data.pkl" or name.endswith("/data.pkl") for name in names)


def _check_torch_archive(data: bytes) -> None:
    """Refuse before torch reads a byte: a zip that declares entries far bigger than itself (a
    decompression bomb), encrypted or oddly compressed members, and a pickle too large to unpickle."""
    members = zip_members(data, "PyTorch file")
    declared = sum(member.file_size for member in members)
    if declared > MAX_MODEL_BYTES:
        raise ValueError(f"the PyTorch file unpacks to {declared:,} bytes, more than the limit of {MAX_MODEL_BYTES:,}")
    for member in members:
        if member.filename.endswith("data.pkl") and member.file_size > MAX_PICKLE_BYTES:
            raise ValueError(
                f"the PyTorch file's {member.filename[:80]!r} is {member.file_size:,} bytes, more than the limit of "
                f"{MAX_PICKLE_BYTES:,}: save the weights alone, torch.save(model.state_dict(), 'model.pt')"
            )


def _check_tensor_layout(tensors: Mapping[str, object]) -> None:
    """Refuse torch tensors that would cost more once copied than the file is worth: more than
    `MAX_MODEL_BYTES` in all (elements × item size, whatever the strides), a stride of 0 (torch's
    `expand`: one value standing for many), a tensor that reads some bytes twice, and two tensors that
    share bytes (one storage viewed twice). Tensors may share a storage in ranges of their own, as an
    LSTM trained on a GPU saves its weights."""
    import torch

    total = sum(math.prod(tensor.shape) * tensor.element_size() for tensor in tensors.values())
    if total > MAX_MODEL_BYTES:
        raise ValueError(
            f"the tensors of the file would take {total:,} bytes once copied, more than the limit of "
            f"{MAX_MODEL_BYTES:,}"
        )
    spans = []
    for key, tensor in tensors.items():
        if tensor.layout != torch.strided:
            raise ValueError(f"{_short(key)} is a {tensor.layout} tensor; save dense tensors (tensor.to_dense())")
        if tensor.numel() == 0:
            continue
        dimensions = sorted(
            (stride, size) for size, stride in zip(tensor.shape, tensor.stride(), strict=True) if size > 1
        )
        if any(stride == 0 for stride, _ in dimensions):
            raise ValueError(
                f"{_short(key)} repeats one stored value along a dimension (a stride of 0, as tensor.expand makes); "
                "save a real copy: tensor.contiguous()"
            )
        reach = 1  # elements from the first to one past the last that the dimensions so far can address
        for stride, size in dimensions:
            if stride < reach:
                raise ValueError(
                    f"{_short(key)} has strides {tuple(tensor.stride())} that read some of its values twice; "
                    "save a real copy: tensor.contiguous()"
                )
            reach += (size - 1) * stride
        spans.append((tensor.data_ptr(), tensor.data_ptr() + reach * tensor.element_size(), key))
    spans.sort()
    for (_, end, first), (begin, _, second) in itertools.pairwise(spans):
        if begin < end:
            raise ValueError(
                f"{_short(first)} and {_short(second)} are views of the same stored values (tied weights or one "
                "tensor saved twice); save each as its own copy: {key: value.clone() for key, value in "
                "model.state_dict().items()}"
            )


def _short(key: object) -> str:
    """A key as a message quotes it: its repr, cut (a file chooses its keys, and their length)."""
    text = repr(key)
    return text if len(text) <= 80 else text[:77] + "..."


def _torch_failure(error: Exception) -> str:
    text = str(error)
    forbidden = re.search(r"GLOBAL ([\w.]+)", text)
    if "Weights only load failed" in text or forbidden:
        what = f" ({forbidden.group(1)})" if forbidden else ""
        return (
            f"refused: the PyTorch file holds Python objects{what}, not only tensors. Opening it would run code "
            "from the file, so it is not opened. If it is a whole model saved with torch.save(model), save its "
            "weights instead: torch.save(model.state_dict(), 'model.pt')."
        )
    first_line = text.strip().splitlines()[0][:300] if text.strip() else type(error).__name__
    return f"the PyTorch file could not be read: {first_line}"


# ------------------------------------------------------------------------------ the model's parts
def read_model(data: bytes, filename: str = "") -> UploadedModel:
    """`split_model(read_weights(data, filename))`."""
    return split_model(read_weights(data, filename))


def split_model(tensors: Mapping[str, np.ndarray]) -> UploadedModel:
    """Find the LSTM, the embedding and the decoder among `tensors` and check every key, dtype and shape.

    Refuses (ValueError) keys it does not know, non-float or non-finite weights, LSTM weights under
    two prefixes, an embedding whose width is not the LSTM's input size, a decoder without an
    embedding or with the wrong shape.
    """
    if not tensors:
        raise ValueError("the file holds no tensors")
    if len(tensors) > MAX_UPLOAD_TENSORS:
        raise ValueError(f"the file holds {len(tensors):,} tensors, more than the limit of {MAX_UPLOAD_TENSORS:,}")
    arrays = {}
    for key, value in tensors.items():
        array = np.asarray(value)
        if array.dtype.kind != "f" or array.dtype.itemsize not in _FLOAT_ITEMSIZES:
            raise ValueError(f"{key!r} has dtype {array.dtype}: weights must be float16, float32 or float64")
        if not np.isfinite(array).all():
            bad = int(array.size - np.count_nonzero(np.isfinite(array)))
            raise ValueError(f"{key!r} holds {bad:,} NaN or infinite value(s): every weight must be a finite number")
        arrays[key] = array
    prefixes = sorted({match["prefix"] for key in arrays if (match := _LSTM_KEY.match(key))})
    if not prefixes:
        raise ValueError(
            "no LSTM weights found: expected PyTorch nn.LSTM names such as weight_ih_l0, weight_hh_l0, bias_ih_l0, "
            f"bias_hh_l0 (optionally under a prefix like lstm.); the file has {_some(arrays)}"
        )
    if len(prefixes) > 1:
        shown = ", ".join(repr(prefix or "(none)") for prefix in prefixes)
        raise ValueError(f"the file holds LSTM weights under several prefixes ({shown}); upload one LSTM at a time")
    prefix = prefixes[0]
    _check_layer_count(key for key in arrays if key.startswith(prefix) and _LSTM_KEY.match(key))
    lstm = LSTM.from_state_dict({key: value for key, value in arrays.items() if key.startswith(prefix) and _LSTM_KEY.match(key)},
                                prefix=prefix)  # fmt: skip
    check_lstm_size(lstm)
    beside = prefix[: prefix.rstrip(".").rfind(".") + 1] if prefix else ""  # "model.lstm." -> "model."
    rest = {key: value for key, value in arrays.items() if not (key.startswith(prefix) and _LSTM_KEY.match(key))}
    known = {name: _find(rest, beside, name) for name in (*EMBEDDING_NAMES, DECODER_WEIGHT, DECODER_BIAS)}
    unknown = sorted(set(rest) - {key for key in known.values() if key is not None})
    if unknown:
        raise ValueError(
            f"the file has key(s) this page cannot use: {_some(unknown)}. Besides the LSTM it reads only "
            f"{beside}embedding.weight (or {beside}encoder.weight), {beside}decoder.weight and {beside}decoder.bias"
        )
    embedding_keys = [known[name] for name in EMBEDDING_NAMES if known[name] is not None]
    if len(embedding_keys) > 1:
        raise ValueError(f"the file has two embeddings, {embedding_keys[0]!r} and {embedding_keys[1]!r}; keep one")
    embedding_key = embedding_keys[0] if embedding_keys else None
    decoder_key, bias_key = known[DECODER_WEIGHT], known[DECODER_BIAS]
    summary = tuple((key, tuple(int(n) for n in value.shape), str(value.dtype)) for key, value in arrays.items())
    if embedding_key is None:
        if decoder_key or bias_key:
            raise ValueError(
                f"the file has {decoder_key or bias_key!r} but no embedding: a language model needs "
                f"{beside}embedding.weight (V, {lstm.input_size}) too; upload the LSTM alone to feed it vectors"
            )
        return UploadedModel(lstm, prefix, None, None, None, None, summary)
    embedding = arrays[embedding_key]
    if embedding.ndim != 2 or embedding.shape[0] == 0:
        raise ValueError(
            f"{embedding_key!r} has shape {embedding.shape}: expected (vocabulary size, {lstm.input_size})"
        )
    check_language_model_size(lstm, embedding.shape[0])
    if embedding.shape[1] != lstm.input_size:
        raise ValueError(
            f"{embedding_key!r} has {embedding.shape[1]} columns but the LSTM's weight_ih_l0 reads vectors of "
            f"{lstm.input_size}: they must be equal"
        )
    if decoder_key is None:
        raise ValueError(
            f"the file has an embedding ({embedding_key!r}) but no {beside}decoder.weight: a language model needs "
            "a decoder from the hidden state to the vocabulary; upload the LSTM alone to feed it vectors"
        )
    vocab_size, output_size = embedding.shape[0], lstm.num_directions * lstm.hidden_size
    decoder_weight = arrays[decoder_key]
    if decoder_weight.shape != (vocab_size, output_size):
        raise ValueError(
            f"{decoder_key!r} has shape {decoder_weight.shape}, expected ({vocab_size}, {output_size}): one row per "
            f"token of the embedding ({vocab_size}) and one column per LSTM output "
            f"({lstm.num_directions} direction(s) x {lstm.hidden_size} units)"
        )
    decoder_bias = arrays[bias_key] if bias_key else np.zeros(vocab_size, np.float32)
    if decoder_bias.shape != (vocab_size,):
        raise ValueError(f"{bias_key!r} has shape {decoder_bias.shape}, expected ({vocab_size},)")
    as_float = lambda array: np.ascontiguousarray(array, dtype=np.float32)  # noqa: E731
    return UploadedModel(lstm, prefix, as_float(embedding), as_float(decoder_weight), as_float(decoder_bias),
                         embedding_key, summary)  # fmt: skip


def _find(tensors: Mapping[str, object], beside: str, name: str) -> str | None:
    for key in (beside + name, name):
        if key in tensors:
            return key
    return None


def _some(keys, count: int = 5) -> str:
    keys = list(keys)
    shown = ", ".join(_short(key) for key in keys[:count])
    return shown + (f" and {len(keys) - count} more" if len(keys) > count else "")


# ------------------------------------------------------------------------------ size limits
def _check_layer_count(lstm_keys) -> None:
    """Refuse more than `MAX_UPLOAD_LAYERS` layers from the key names alone, before any layer is built."""
    layers = {re.search(r"_l(\d+)(?:_reverse)?$", key).group(1) for key in lstm_keys}
    too_high = sorted(digits for digits in layers if len(digits) > 3 or int(digits) >= MAX_UPLOAD_LAYERS)
    if len(layers) > MAX_UPLOAD_LAYERS or too_high:
        shown = f" (a key names layer {too_high[0][:12]}{'...' if len(too_high[0]) > 12 else ''})" if too_high else ""
        raise ValueError(
            f"the LSTM has more than {MAX_UPLOAD_LAYERS} layers{shown}, the limit: every token runs through the "
            "layers one after another"
        )


def check_lstm_size(lstm: LSTM, steps: int = MAX_INPUT_STEPS) -> None:
    """Refuse (ValueError naming the limit) an LSTM over the limits of `lstm_core.config`: layers,
    units per layer, input size, and layers × directions × units × `steps`, the longest input it
    will be given (`MAX_INPUT_STEPS` vectors)."""
    if lstm.num_layers > MAX_UPLOAD_LAYERS:
        raise ValueError(
            f"the LSTM has {lstm.num_layers:,} layers, more than the limit of {MAX_UPLOAD_LAYERS} layers: every token "
            "runs through the layers one after another"
        )
    if lstm.hidden_size > MAX_UPLOAD_HIDDEN:
        raise ValueError(
            f"the LSTM has {lstm.hidden_size:,} units per layer (hidden size), more than the limit of "
            f"{MAX_UPLOAD_HIDDEN:,}"
        )
    if lstm.input_size > MAX_UPLOAD_INPUT:
        raise ValueError(
            f"the LSTM reads vectors of {lstm.input_size:,} numbers (input size), more than the limit of "
            f"{MAX_UPLOAD_INPUT:,}"
        )
    _check_work(lstm, steps, f"the longest input this page reads ({steps:,} vectors)")


def check_language_model_size(lstm: LSTM, vocab_size: int, tokens: int = MAX_UPLOAD_TEXT_TOKENS) -> None:
    """Refuse (ValueError naming the limit) a language model whose vocabulary is over
    `MAX_UPLOAD_VOCAB` or whose LSTM is too large to read `tokens` tokens (the longest text a page
    reads) within `MAX_UPLOAD_WORK`: each token read makes a row of next-token probabilities, one per
    token of the vocabulary, and a trace row per unit of every layer."""
    check_lstm_size(lstm)
    if vocab_size > MAX_UPLOAD_VOCAB:
        raise ValueError(
            f"the vocabulary has {vocab_size:,} tokens, more than the limit of {MAX_UPLOAD_VOCAB:,} tokens: every "
            "token of a text gets a probability for each token of the vocabulary"
        )
    _check_work(lstm, tokens, f"the longest text a page reads ({tokens:,} tokens)")


def _check_work(lstm: LSTM, steps: int, longest: str) -> None:
    units = lstm.num_layers * lstm.num_directions * lstm.hidden_size
    if units * steps > MAX_UPLOAD_WORK:
        raise ValueError(
            f"the LSTM is too large to run here: {lstm.num_layers} layer(s) × {lstm.num_directions} direction(s) × "
            f"{lstm.hidden_size:,} units × {longest} is {units * steps:,}, more than the limit of "
            f"{MAX_UPLOAD_WORK:,} (layers × directions × units × length); at most {MAX_UPLOAD_WORK // steps:,} "
            "units in all layers and directions together"
        )


# ---------------------------------------------------------------------------------- vocabulary
def read_vocabulary(data: bytes, filename: str = "") -> list[str]:
    """The tokens, in id order, from a JSON list, a JSON object, or a text file with one token a line.

    A JSON object maps tokens to ids (``{"<unk>": 0, "the": 1}``) or ids to tokens (``{"0": "<unk>"}``);
    the ids must be 0..V-1, each once. In a text file a line is one token exactly as written (a line of
    one space is the space token); empty lines at the end are ignored, others refused. Tokens that
    contain a newline need JSON. Raises ValueError for invalid files, empty vocabularies and duplicates.
    """
    data = _bounded(data, MAX_VOCAB_BYTES, "the vocabulary file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(f"the vocabulary is not UTF-8 text (byte {error.start} cannot be read)") from None
    stripped = text.strip()
    as_json = PurePath(filename).suffix.lower() == ".json" or stripped[:1] in ("[", "{")
    tokens = _json_tokens(stripped) if as_json else _line_tokens(text)
    if not tokens:
        raise ValueError("the vocabulary is empty: it needs one token for each row of the embedding")
    first_position: dict[str, int] = {}
    for position, token in enumerate(tokens):
        if token in first_position:
            raise ValueError(
                f"the token {_short(token)} appears twice in the vocabulary, at ids {first_position[token]} and "
                f"{position}"
            )
        first_position[token] = position
    return tokens


def _json_tokens(text: str) -> list[str]:
    value = parse_json(text, "the vocabulary")
    if isinstance(value, list):
        for index, token in enumerate(value):
            if not isinstance(token, str):
                raise ValueError(f"vocabulary entry {index} is {_short(token)}: every token must be a string")
        return list(value)
    if not isinstance(value, dict):
        raise ValueError(f"the vocabulary JSON is a {type(value).__name__}: expected a list of tokens or an object")
    if not value:
        return []
    if all(isinstance(v, int) and not isinstance(v, bool) for v in value.values()):
        by_id = {int(v): token for token, v in value.items()}  # {"the": 1}: token -> id
    elif all(isinstance(v, str) for v in value.values()) and all(re.fullmatch(r"\d{1,9}", k) for k in value):
        by_id = {int(k): token for k, token in value.items()}  # {"1": "the"}: id -> token
    else:
        raise ValueError(
            'the vocabulary object must map every token to its id ({"<unk>": 0, "the": 1, ...}) or every id to '
            'its token ({"0": "<unk>", "1": "the", ...})'
        )
    if len(by_id) != len(value):
        raise ValueError("two tokens of the vocabulary have the same id")
    missing = sorted(set(range(len(by_id))) - set(by_id))
    if missing:
        raise ValueError(f"the vocabulary's ids must be 0 to {len(by_id) - 1}, each once; id {missing[0]} is missing")
    return [by_id[index] for index in range(len(by_id))]


def _line_tokens(text: str) -> list[str]:
    lines = text.split("\n")
    lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    while lines and lines[-1] == "":
        lines.pop()
    for number, line in enumerate(lines, start=1):
        if line == "":
            raise ValueError(
                f"line {number} of the vocabulary is empty: every line must hold one token (write the vocabulary "
                "as a JSON list for tokens such as a newline)"
            )
    return lines


def build_language_model(model: UploadedModel, vocab: Sequence[str], name: str) -> LanguageModelBuild:
    """A `LanguageModel` from an uploaded model with an embedding and its vocabulary.

    Characters tokenizer when every token but the special ones (``<unk>``, ``<pad>``, ``[CLS]``) is one
    character, else the word tokenizer. The unknown token may be spelt as any of `UNKNOWN_SPELLINGS`;
    a vocabulary with none gets an ``<unk>`` that reads as a zero vector and is never predicted.
    """
    if not model.is_language_model:
        raise ValueError("this file has no embedding and decoder: it reads vectors, not text")
    vocab = list(vocab)
    check_language_model_size(model.lstm, model.vocab_size)
    if len(vocab) != model.vocab_size:
        raise ValueError(
            f"the vocabulary has {len(vocab):,} tokens but {model.embedding_key!r} has {model.vocab_size:,} rows: "
            "they must match one to one (token id = row)"
        )
    notices = []
    embedding, decoder_weight, decoder_bias = model.embedding, model.decoder_weight, model.decoder_bias
    if UNKNOWN_TOKEN not in vocab:
        spelling = next((token for token in UNKNOWN_SPELLINGS if token in vocab), None)
        if spelling is not None:
            vocab[vocab.index(spelling)] = UNKNOWN_TOKEN
            notices.append(f"The token {spelling} is read as the unknown token {UNKNOWN_TOKEN}.")
        else:
            vocab.append(UNKNOWN_TOKEN)
            embedding = np.vstack([embedding, np.zeros((1, embedding.shape[1]), np.float32)])
            decoder_weight = np.vstack([decoder_weight, np.zeros((1, decoder_weight.shape[1]), np.float32)])
            decoder_bias = np.append(decoder_bias, np.float32(_UNKNOWN_ROW_BIAS)).astype(np.float32)
            notices.append(
                f"The vocabulary has no unknown token ({UNKNOWN_TOKEN}): anything outside it is read as a vector of "
                "zeros and is never predicted."
            )
    ordinary = [token for token in vocab if token != UNKNOWN_TOKEN and not _SPECIAL_TOKEN.match(token)]
    if ordinary and all(len(token) == 1 for token in ordinary):
        tokenizer = CharTokenizer(vocab)
    else:
        tokenizer = WordTokenizer(vocab)
        capitals = [token for token in ordinary if token != token.lower()]
        if capitals:
            notices.append(
                f"{len(capitals):,} token(s) have capital letters (such as {capitals[0]!r}); the text is lowercased "
                "before it is read, so they are never matched."
            )
    language_model = LanguageModel(name, tokenizer, embedding, model.lstm, decoder_weight, decoder_bias)
    return LanguageModelBuild(language_model, tuple(notices))


# ------------------------------------------------------------------------------- numeric input
def read_input_vectors(
    text: str, input_size: int, max_steps: int = MAX_INPUT_STEPS
) -> tuple[np.ndarray, tuple[str, ...]]:
    """(T, input_size) float32 from CSV text, one row per timestep, and notices.

    Values are separated by commas (or semicolons, tabs, spaces when a row has no comma). Blank lines
    and lines starting with ``#`` are skipped; a first row of names (a header) is skipped too. Rows
    past `max_steps` are dropped with a notice. Raises ValueError naming the row and column of a wrong
    count, a non-number or a NaN/infinite value.
    """
    if not isinstance(text, str):
        raise ValueError(f"the input must be text, got {type(text).__name__}")
    if len(text.encode("utf-8", "surrogatepass")) > MAX_INPUT_BYTES:
        raise ValueError(f"the input is more than {MAX_INPUT_BYTES // 2**20} MB of text; paste fewer rows")
    rows: list[list[float]] = []
    notices = []
    dropped = 0
    seen_data = False
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = _fields(line)
        if not seen_data and not any(_is_number(field) for field in fields):
            seen_data = True  # column names, as spreadsheets and pandas write them: documented, so no notice
            continue
        seen_data = True
        if len(rows) >= max_steps:
            dropped += 1
            continue
        if len(fields) != input_size:
            raise ValueError(f"row {number} has {len(fields)} value(s); this LSTM reads {input_size} per timestep")
        values = []
        for column, field in enumerate(fields, start=1):
            if field == "":
                raise ValueError(f"row {number}, column {column} is empty")
            try:
                value = float(field)
            except ValueError:
                raise ValueError(f"row {number}, column {column}: {field[:40]!r} is not a number") from None
            if not math.isfinite(value) or abs(value) > _FLOAT32_MAX:
                raise ValueError(
                    f"row {number}, column {column} is {field[:40]!r}: every value must be a finite number"
                )
            values.append(value)
        rows.append(values)
    if not rows:
        raise ValueError(f"no rows of numbers: write one timestep a line, {input_size} value(s) separated by commas")
    if dropped:
        notices.append(f"The input has {len(rows) + dropped:,} rows; only the first {max_steps:,} are read.")
    return np.asarray(rows, dtype=np.float32), tuple(notices)


def _fields(line: str) -> list[str]:
    if "," in line:
        return [field.strip() for field in line.split(",")]
    if ";" in line:
        return [field.strip() for field in line.split(";")]
    return line.split()


def _is_number(field: str) -> bool:
    try:
        float(field)
    except ValueError:
        return False
    return True


def _bounded(data, limit: int, what: str) -> bytes:
    if isinstance(data, memoryview | bytearray):
        data = bytes(data)
    if not isinstance(data, bytes):
        raise ValueError(f"{what} must be bytes, got {type(data).__name__}")
    if len(data) > limit:
        raise ValueError(f"{what} is {len(data) / 2**20:.1f} MB, more than the limit of {limit // 2**20} MB")
    return data
