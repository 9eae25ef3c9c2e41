"""What `LSTM` and `RNN` share, as PyTorch's `RNNBase` is shared by `nn.LSTM` and `nn.RNN`.

`RecurrentBase` reads and checks a state dict in PyTorch's names and layout, and gives both networks
the same construction (`from_state_dict`, `from_torch`, `random`), export (`state_dict`) and
accessors (`weight`, `shape`, `astype`). The two differ only in `gate_count`, the blocks of
`hidden_size` rows each weight matrix stacks: 4 for the LSTM (i, f, g, o), 1 for the plain RNN.

Below it are the pieces both traces and both backward passes use: `Gradients` and a few helpers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Self

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from lstm_core._weights import Shape, as_float_dtype, param_name, read_state_dict, to_numpy

if TYPE_CHECKING:
    import torch


class RecurrentBase:
    """A stacked, optionally bidirectional recurrent network with PyTorch's parameters, in NumPy.

    Attributes: input_size, hidden_size, num_layers, num_directions (1 or 2), bias, dtype (float32
    or float64). The parameters are read-only: traces keep a reference to the model that made them.
    """

    gate_count: ClassVar[int]  # blocks of hidden_size rows per weight matrix
    torch_mode: ClassVar[str]  # the `mode` of the torch module `from_torch` takes
    torch_name: ClassVar[str]  # that module, as an error message names it

    def __init__(self, params: Mapping[str, ArrayLike], dtype: DTypeLike = np.float32, prefix: str = "") -> None:
        dtype = as_float_dtype(dtype)
        shape, checked = read_state_dict(params, self.gate_count, dtype, prefix=prefix, what=type(self).__name__)
        self.input_size = shape.input_size
        self.hidden_size = shape.hidden_size
        self.num_layers = shape.num_layers
        self.num_directions = shape.num_directions
        self.bias = shape.bias
        self.dtype = dtype
        self._params = checked
        for array in checked.values():
            array.flags.writeable = False  # traces keep a reference to this model: keep it fixed

    # ----------------------------------------------------------------- construction and export
    @classmethod
    def from_state_dict(
        cls, state_dict: Mapping[str, ArrayLike], dtype: DTypeLike = np.float32, prefix: str = ""
    ) -> Self:
        """From a torch state dict (arrays or tensors); layers, directions and sizes are inferred from
        the keys and every name and shape is checked. Keys outside `prefix` are ignored."""
        return cls(state_dict, dtype=dtype, prefix=prefix)

    @classmethod
    def from_torch(cls, module: torch.nn.Module, dtype: DTypeLike = np.float32) -> Self:
        """From the matching torch module (either `batch_first`; dropout is a training-time setting only)."""
        if getattr(module, "mode", None) != cls.torch_mode:
            raise ValueError(f"expected a {cls.torch_name}, got {type(module).__name__}")
        if getattr(module, "proj_size", 0):
            raise ValueError(
                f"LSTMs with a projection are not supported (proj_size={module.proj_size}); use proj_size=0"
            )
        return cls.from_state_dict(module.state_dict(), dtype=dtype)

    @classmethod
    def random(
        cls,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bidirectional: bool = False,
        bias: bool = True,
        scale: float | None = None,
        seed: int | None = None,
        dtype: DTypeLike = np.float32,
    ) -> Self:
        """Uniform(-scale, scale) weights; `scale` defaults to torch's 1 / sqrt(hidden_size)."""
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size), ("num_layers", num_layers)):
            if not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        rng = np.random.default_rng(seed)
        scale = 1.0 / np.sqrt(hidden_size) if scale is None else scale
        directions = 2 if bidirectional else 1
        rows = cls.gate_count * hidden_size
        params = {}
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else directions * hidden_size
            for d in range(directions):
                sizes = {"weight_ih": (rows, layer_input), "weight_hh": (rows, hidden_size)}
                if bias:
                    sizes |= {"bias_ih": (rows,), "bias_hh": (rows,)}
                for kind, size in sizes.items():
                    params[param_name(kind, layer, d)] = rng.uniform(-scale, scale, size)
        return cls(params, dtype=dtype)

    def state_dict(self) -> dict[str, np.ndarray]:
        """PyTorch's names and layout; `torch_module.load_state_dict({k: torch.from_numpy(v) ...})` takes it."""
        return {name: array.copy() for name, array in self._params.items()}

    def astype(self, dtype: DTypeLike) -> Self:
        return type(self)(self._params, dtype=dtype)

    @property
    def shape(self) -> Shape:
        return Shape(self.input_size, self.hidden_size, self.num_layers, self.num_directions, self.bias)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(input_size={self.input_size}, hidden_size={self.hidden_size}, "
            f"num_layers={self.num_layers}, bidirectional={self.num_directions == 2}, bias={self.bias}, "
            f"dtype={self.dtype.name})"
        )

    def weight(self, kind: str, layer: int = 0, direction: int = 0) -> np.ndarray:
        """One parameter in PyTorch's layout, read-only: `weight("weight_hh", 0, 0)` is (gate_count·H, H)."""
        for name, value, count in (("layer", layer, self.num_layers), ("direction", direction, self.num_directions)):
            if not isinstance(value, int | np.integer) or not 0 <= value < count:
                raise ValueError(f"{name} must be an integer in 0..{count - 1}, got {value!r}")
        name = param_name(kind, layer, direction)
        if name not in self._params:
            raise ValueError(f"this {type(self).__name__} has no parameter {name!r}")
        return self._params[name]


@dataclass(frozen=True, eq=False)
class Gradients:
    """dL/d(everything) for one sequence, from `LSTM.backward` or `RNN.backward`.

    inputs: (T, input_size); hidden: (L, D, T, H), the total derivative with respect to h_t (through
    the outputs, the layer above and later timesteps); cell: the same for c_t (None for a plain RNN);
    h0, c0: (L * D, H); weights: PyTorch's names.
    """

    inputs: np.ndarray
    hidden: np.ndarray
    cell: np.ndarray | None
    h0: np.ndarray
    c0: np.ndarray | None
    weights: dict[str, np.ndarray]


def final_states(states: np.ndarray) -> np.ndarray:
    """(L, D, T, H) -> (L * D, H): the state each direction ended on (t = T-1 forward, t = 0 backward)."""
    L, D, T, H = states.shape
    last = [states[layer, d, 0 if d == 1 else T - 1] for layer in range(L) for d in range(D)]
    return np.stack(last)


def previous_states(states: np.ndarray, initial: np.ndarray, reverse: bool) -> np.ndarray:
    """(T, H) states -> the state each timestep started from, in that direction's reading order."""
    if reverse:
        return np.concatenate([states[1:], initial[None]])
    return np.concatenate([initial[None], states[:-1]])


def grad_or_zeros(grad: ArrayLike | None, shape: tuple[int, ...], dtype: np.dtype, name: str) -> np.ndarray:
    """A given gradient checked against `shape`, or zeros when None."""
    if grad is None:
        return np.zeros(shape, dtype=dtype)
    array = to_numpy(grad, name)
    if array.shape != shape:
        raise ValueError(f"{name} has shape {array.shape}, expected {shape}")
    return array.astype(dtype, copy=False)


def read_only(array: np.ndarray) -> np.ndarray:
    """A view of `array` that cannot be written through."""
    view = array.view()
    view.flags.writeable = False
    return view
