"""Reading and checking recurrent weights in PyTorch's names and layout.

`torch.nn.LSTM` and `torch.nn.RNN` name their parameters `weight_ih_l{k}`, `weight_hh_l{k}`,
`bias_ih_l{k}`, `bias_hh_l{k}`, with the suffix `_reverse` for the backward direction. The rows of an
LSTM's matrices are four blocks of `hidden_size` (gates i, f, g, o); a plain RNN's are one block.
Everything here is shared by `LSTM` and `RNN` so both accept and refuse state dicts the same way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

_KEY = re.compile(r"^(weight_ih|weight_hh|bias_ih|bias_hh|weight_hr)_l(\d+)(_reverse)?$")
FLOAT_DTYPES = (np.float32, np.float64)


@dataclass(frozen=True)
class Shape:
    """Sizes of a stacked recurrent network, as inferred from its weights."""

    input_size: int
    hidden_size: int
    num_layers: int
    num_directions: int
    bias: bool


def param_name(kind: str, layer: int, direction: int) -> str:
    """`param_name("weight_ih", 1, 1) == "weight_ih_l1_reverse"`."""
    return f"{kind}_l{layer}" + ("_reverse" if direction == 1 else "")


def as_float_dtype(dtype: DTypeLike) -> np.dtype:
    dtype = np.dtype(dtype)
    if dtype.type not in FLOAT_DTYPES:
        raise ValueError(f"dtype must be float32 or float64, got {dtype}")
    return dtype


def to_numpy(value: object, name: str) -> np.ndarray:
    """An array from a NumPy array, a list or a torch tensor (without importing torch)."""
    if hasattr(value, "detach"):  # a torch tensor, possibly requiring grad or on another device
        value = value.detach().cpu().numpy()
    try:
        array = np.asarray(value)
    except Exception as error:  # ragged lists, odd objects
        raise ValueError(f"{name}: cannot be read as an array ({error})") from None
    if array.dtype.kind not in "fiub":
        raise ValueError(f"{name}: expected a real numeric array, got dtype {array.dtype}")
    return array


def check_finite(array: np.ndarray, name: str) -> None:
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise ValueError(f"{name}: contains {bad} NaN or infinite value(s); all values must be finite")


def read_state_dict(
    state_dict: Mapping[str, ArrayLike], gate_count: int, dtype: np.dtype, prefix: str = "", what: str = "LSTM"
) -> tuple[Shape, dict[str, np.ndarray]]:
    """Infer the shape of a stacked recurrent net from its state dict and check every key and shape.

    Keys not starting with `prefix` are ignored (so a whole language model's state dict can be passed
    with `prefix="lstm."`); under the prefix every key must be a recurrent parameter. Returns the shape
    and the parameters, without the prefix, converted to `dtype`.
    """
    if not isinstance(state_dict, Mapping):
        raise ValueError(f"state_dict must be a mapping of names to arrays, got {type(state_dict).__name__}")
    params: dict[str, np.ndarray] = {}
    for key, value in state_dict.items():
        if not isinstance(key, str) or not key.startswith(prefix):
            continue
        name = key[len(prefix) :]
        match = _KEY.match(name)
        if match is None:
            raise ValueError(
                f"unexpected key {key!r} in the {what} state dict: expected names like "
                f"{prefix}weight_ih_l0, {prefix}weight_hh_l0, {prefix}bias_ih_l0, {prefix}bias_hh_l0 "
                "(with _reverse for the backward direction)"
            )
        if match.group(1) == "weight_hr":
            raise ValueError(
                f"{key!r}: LSTMs with a projection (proj_size > 0) are not supported; use an LSTM with proj_size=0"
            )
        params[name] = to_numpy(value, repr(key))
    if "weight_ih_l0" not in params or "weight_hh_l0" not in params:
        raise ValueError(f"the {what} state dict has no {prefix}weight_ih_l0 and {prefix}weight_hh_l0")

    layers = sorted({int(_KEY.match(name).group(2)) for name in params})
    if layers != list(range(len(layers))):
        raise ValueError(f"layers must be numbered 0..{len(layers) - 1} without gaps, found layers {layers}")
    num_layers = len(layers)
    num_directions = 2 if "weight_ih_l0_reverse" in params else 1
    bias = "bias_ih_l0" in params

    w_hh = params["weight_hh_l0"]
    if w_hh.ndim != 2 or w_hh.shape[0] != gate_count * w_hh.shape[1] or w_hh.shape[1] == 0:
        raise ValueError(
            f"{prefix}weight_hh_l0 has shape {w_hh.shape}: expected ({gate_count} * hidden_size, hidden_size)"
        )
    hidden_size = w_hh.shape[1]
    w_ih = params["weight_ih_l0"]
    if w_ih.ndim != 2 or w_ih.shape[1] == 0:
        raise ValueError(
            f"{prefix}weight_ih_l0 has shape {w_ih.shape}: expected ({gate_count * hidden_size}, input_size)"
        )
    input_size = w_ih.shape[1]

    expected: dict[str, tuple[int, ...]] = {}
    for layer in range(num_layers):
        layer_input = input_size if layer == 0 else num_directions * hidden_size
        for direction in range(num_directions):
            expected[param_name("weight_ih", layer, direction)] = (gate_count * hidden_size, layer_input)
            expected[param_name("weight_hh", layer, direction)] = (gate_count * hidden_size, hidden_size)
            if bias:
                expected[param_name("bias_ih", layer, direction)] = (gate_count * hidden_size,)
                expected[param_name("bias_hh", layer, direction)] = (gate_count * hidden_size,)
    for name in params:
        if name not in expected:
            raise ValueError(
                f"unexpected key {prefix + name!r}: a {what} with {num_layers} layer(s), "
                f"{num_directions} direction(s) and bias={bias} has no such parameter"
            )
    checked: dict[str, np.ndarray] = {}
    for name, shape in expected.items():
        if name not in params:
            raise ValueError(f"missing key {prefix + name!r} (expected shape {shape})")
        if params[name].shape != shape:
            raise ValueError(f"{prefix + name!r} has shape {params[name].shape}, expected {shape}")
        check_finite(params[name], repr(prefix + name))
        checked[name] = np.ascontiguousarray(params[name], dtype=dtype)
    return Shape(input_size, hidden_size, num_layers, num_directions, bias), checked


def check_sequence(x: ArrayLike, input_size: int, dtype: np.dtype, name: str = "x") -> np.ndarray:
    """One input sequence as a C-contiguous (T, input_size) array of `dtype`, or a clear ValueError."""
    array = to_numpy(x, name)
    if array.ndim != 2:
        raise ValueError(f"{name} must have shape (T, input_size={input_size}), got shape {array.shape}")
    if array.shape[0] == 0:
        raise ValueError(f"{name} is an empty sequence: it needs at least one timestep")
    if array.shape[1] != input_size:
        raise ValueError(f"{name} has {array.shape[1]} features per timestep, expected input_size={input_size}")
    check_finite(array, name)
    return np.ascontiguousarray(array, dtype=dtype)


def check_state(state: ArrayLike | None, shape: tuple[int, int], dtype: np.dtype, name: str) -> np.ndarray:
    """An initial state of shape (num_layers * num_directions, hidden_size); zeros when None."""
    if state is None:
        return np.zeros(shape, dtype=dtype)
    array = to_numpy(state, name)
    if array.shape != shape:
        raise ValueError(
            f"{name} has shape {array.shape}, expected (num_layers * num_directions, hidden_size) = {shape}"
        )
    check_finite(array, name)
    return np.ascontiguousarray(array, dtype=dtype)
