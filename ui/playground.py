"""/playground's logic: one LSTM unit whose every weight a student sets by hand, run on a sequence they type.

The unit has hidden size 1 and reads one number per step, x_t. Its twelve parameters are named as a
student reads the equations, one input weight w, one recurrent weight u and one bias b per gate:

    i_t = σ(w_i x_t + u_i h_{t-1} + b_i)        input gate
    f_t = σ(w_f x_t + u_f h_{t-1} + b_f)        forget gate
    g_t = tanh(w_g x_t + u_g h_{t-1} + b_g)     candidate (PyTorch's g)
    o_t = σ(w_o x_t + u_o h_{t-1} + b_o)        output gate
    c_t = f_t c_{t-1} + i_t g_t,   h_t = o_t tanh(c_t)

They become a `torch.nn.LSTM(1, 1)` state dict (w -> `weight_ih_l0`, u -> `weight_hh_l0`, b ->
`bias_ih_l0`, `bias_hh_l0` zero; rows in PyTorch's order i, f, g, o) and run through the project's
`lstm_core.LSTM` in float64, so every number drawn is exactly what the real cell computes. The step
shown inside the cell comes from `Trace.step`, which computes it with the plain equations of
`lstm_core.cell.lstm_cell_step`.

Sequences are typed as numbers ("1 0 0 -1 0"): the unit reads a single number per step, and a
number shows that honestly. The presets give the numbers their roles: 1 is the thing to store or
count, 0 is a blank step, -1 is the marker that erases.

"The 1997 cell" switch removes the forget gate, as in Hochreiter and Schmidhuber's original LSTM
(1997): c_t = c_{t-1} + i_t g_t. Gers, Schmidhuber and Cummins added the forget gate in 2000 because
such a cell, fed a long stream, can only add: its state grows until h sticks at o.

    >>> preset = PRESETS["count"]
    >>> trace = run_unit(preset.weights, parse_sequence(preset.sequence).values)
    >>> round(float(unit_values(trace)["cell"][-1]), 2)        # eight 1s, 0.29 each
    2.31

Everything here is pure (no Streamlit), so it is tested without a server.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import plotly.graph_objects as go

from lstm_core import GATE_NAMES, LSTM, Trace
from ui import palette
from ui.figures import plotly_figure, selected_band, selected_legend_entry, signed_scale
from ui.query import first_value

__all__ = [
    "PARAMETER_NAMES", "GATE_LETTERS", "WEIGHT_LIMIT", "INPUT_LIMIT", "C0_LIMIT", "H0_LIMIT", "MAX_STEPS",
    "NO_FORGET_BIAS", "EQUATIONS", "COLORS", "SEQUENCE_KEY", "NO_FORGET_KEY", "PRESET_KEY", "STEP_KEY", "C0_KEY",
    "H0_KEY", "Preset", "PRESETS", "DEFAULT_PRESET", "ParsedSequence", "LinkCheck", "parse_sequence", "format_number",
    "check_link", "check_step", "state_dict", "pytorch_code", "unit_lstm", "run_unit", "unit_values", "describe_step", "playground_figure",
]  # fmt: skip

GATE_LETTERS = {"input": "i", "forget": "f", "candidate": "g", "output": "o"}
# w_i, w_f, w_g, w_o, u_i, ..., b_o: the slider keys and the URL names, in PyTorch's row order.
PARAMETER_NAMES: tuple[str, ...] = tuple(f"{kind}_{GATE_LETTERS[gate]}" for kind in "wub" for gate in GATE_NAMES)
WEIGHT_LIMIT = 10.0  # sliders run -10..10: σ(±10) is 0 or 1 to four decimals, far enough for any switch
INPUT_LIMIT = 10.0
C0_LIMIT = 5.0
H0_LIMIT = 1.0  # h = o tanh(c) never leaves (-1, 1)
MAX_STEPS = 60  # the figure keeps one readable column per step
MAX_SEQUENCE_CHARS = 2_000  # longer text (a pasted essay, a hostile link) is cut before it is read
# The 1997 cell is the same LSTM with the forget row's weights at 0 and its bias at 50: 1 - σ(50) ≈ 2e-22
# is below half an ulp of 1.0 in float64, so f is exactly 1 and c_t = c_{t-1} + i_t g_t, no approximation.
NO_FORGET_BIAS = 50.0

# Widget keys, which are also the URL's query parameter names.
SEQUENCE_KEY = "sequence"
NO_FORGET_KEY = "no_forget"
PRESET_KEY = "preset"
STEP_KEY = "step"
C0_KEY, H0_KEY = "c0", "h0"

# The app's line colours and dashes (`ui.palette`): no line takes a gate or sign colour, so only the
# input row and the cell diagram colour a value. Each line also has its own dash and marker, so nothing
# depends on colour alone.
COLORS = palette.LINE_COLORS
_DASH = palette.LINE_DASHES
_MARKER = {"input": "square", "forget": "circle", "output": "diamond", "candidate": "triangle-up", "hidden": "x",
           "cell": "circle-open"}  # fmt: skip
_NAMES = {
    "input": "input gate i",
    "forget": "forget gate f",
    "output": "output gate o",
    "candidate": "candidate g",
    "hidden": "hidden state h",
    "cell": "cell state c",
}


# The cell's equations for one unit, lowercase like the sliders: every quantity is one number here.
EQUATIONS: tuple[str, ...] = (
    r"i_t = \sigma(w_i\,x_t + u_i\,h_{t-1} + b_i)",
    r"f_t = \sigma(w_f\,x_t + u_f\,h_{t-1} + b_f)",
    r"g_t = \tanh(w_g\,x_t + u_g\,h_{t-1} + b_g)",
    r"o_t = \sigma(w_o\,x_t + u_o\,h_{t-1} + b_o)",
    r"c_t = f_t\,c_{t-1} + i_t\,g_t",
    r"h_t = o_t \tanh(c_t)",
)


# ------------------------------------------------------------------------------------- presets
def _weights(**nonzero: float) -> Mapping[str, float]:
    unknown = set(nonzero) - set(PARAMETER_NAMES)
    if unknown:
        raise ValueError(f"unknown parameters {sorted(unknown)}; expected some of {PARAMETER_NAMES}")
    return MappingProxyType({name: float(nonzero.get(name, 0.0)) for name in PARAMETER_NAMES})


@dataclass(frozen=True)
class Preset:
    """A setting of every slider and the sequence that shows one idea; `note` says what to look at."""

    key: str  # its short name, which a hand-written link may use: /playground?preset=count
    title: str  # the button's label, which the bound control writes into the URL
    sequence: str
    weights: Mapping[str, float] = field(repr=False)
    note: str  # Markdown with $...$ math, our own text: what to look at, with the preset's numbers
    no_forget_gate: bool = False
    c0: float = 0.0
    h0: float = 0.0
    step: int = 1  # the step the cell diagram opens on, 1-based like the figure

    def widget_values(self) -> dict[str, object]:
        """Widget key -> value: what choosing this preset writes into `st.session_state`."""
        return {
            **self.weights, C0_KEY: self.c0, H0_KEY: self.h0, SEQUENCE_KEY: self.sequence,
            NO_FORGET_KEY: self.no_forget_gate, STEP_KEY: self.step,
        }  # fmt: skip

    def matches(self, shown: Mapping[str, object]) -> bool:
        """Whether the widget values `shown` (any of `widget_values`' keys) are this preset's. Numbers
        compare to 1e-9: a slider stepped back by 0.1s can land on 0.30000000000000004."""
        own = self.widget_values()
        for key, value in shown.items():
            if isinstance(value, float) and not isinstance(own[key], bool):
                if not math.isclose(value, float(own[key]), abs_tol=1e-9):
                    return False
            elif value != own[key]:
                return False
        return True


# The reset and 1997 presets share their weights and their sequence: they differ only by the forget gate.
_RESET_WEIGHTS = _weights(w_i=10, b_i=-5, w_f=10, b_f=6, w_g=2, b_o=4)
_STREAM = "1 0 1 0 -1 0 1 1 0 -1 0 1 0 1 -1 0 1 1 0 -1"

PRESETS: Mapping[str, Preset] = MappingProxyType(
    {
        preset.key: preset
        for preset in (
            Preset(
                key="keep",
                title="Keep a bit",
                sequence="1 0 0 0 0 0 0 0 0 0 1 0 0 0 0 0 0 0 0 0 1 0 0 0",
                weights=_weights(w_i=6, u_i=-10, b_i=-3, b_f=8, w_g=2, b_o=4),
                note=(
                    "The first 1 opens the input gate ($i = 0.95$) and writes $c = 0.92$. From then on the forget "
                    "gate sits at $f = 0.9997$, so 23 steps later the cell still holds $0.94$. The later 1s hardly "
                    "get in ($i = 0.02$): $u_i = -10$ shuts the input gate once $h$ is high, so the bit is written once."
                ),
            ),
            Preset(
                key="reset",
                title="Reset on a marker",
                sequence=_STREAM,
                weights=_RESET_WEIGHTS,
                step=5,
                note=(
                    "Each 1 writes about $0.96$ into the cell and the forget gate ($f = 0.998$) keeps it. The marker "
                    "−1 pulls the forget gate down to $f = 0.02$, so the cell drops to $c = 0.03$ at once, however "
                    "much it held."
                ),
            ),
            Preset(
                key="count",
                title="Count the 1s",
                sequence="1 0 1 1 0 0 1 0 1 1 1 0 0 1 0",
                weights=_weights(w_i=10, b_i=-5, b_f=10, w_g=0.3, b_o=4),
                step=3,
                note=(
                    "Every 1 opens the input gate and adds $0.29$ to the cell, every 0 adds nothing, and the forget "
                    "gate ($f = 0.99995$) keeps the sum: after eight 1s, $c = 2.31 = 8 \\times 0.29$. The output "
                    "$h = o \\tanh(c)$ bends towards 1 while $c$ keeps counting."
                ),
            ),
            Preset(
                key="1997",
                title="The 1997 cell",
                sequence=_STREAM,
                weights=_RESET_WEIGHTS,
                no_forget_gate=True,
                step=5,
                note=(
                    "The reset preset without its forget gate ($f = 1$, as in the 1997 LSTM): $c_t = c_{t-1} + i_t g_t$ "
                    "can only add, so the markers do nothing, $c$ climbs to $7.66$ and $h$ sticks at $o = 0.98$, no "
                    "longer telling one step from the next. Gers, Schmidhuber and Cummins (2000) added the forget "
                    "gate for exactly this: switch it back on and the resets return."
                ),
            ),
        )
    }
)
DEFAULT_PRESET = "keep"


# ------------------------------------------------------------------------------- typed input
@dataclass(frozen=True)
class ParsedSequence:
    """A typed sequence, read: the numbers, how to label them, and what had to change.

    `labels` are made from the numbers, never from the typed text, so they are safe anywhere.
    `notices` may quote what was typed: show them through `ui.explain.as_markdown`.
    """

    values: tuple[float, ...]
    labels: tuple[str, ...]
    notices: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not self.values


_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_SEPARATORS = re.compile(r"[\s,;]+")
_MINUS_SIGNS = str.maketrans({"−": "-", "–": "-", "—": "-", "﹣": "-", "－": "-"})


def format_number(value: float) -> str:
    """A number as a short label: 1, 0, -1, 0.5, 0.333 (at most 3 significant digits after rounding).

    >>> [format_number(v) for v in (1.0, -0.0, 0.5, 1 / 3, 7.25)]
    ['1', '0', '0.5', '0.333', '7.25']
    """
    text = f"{value:.3g}"
    return "0" if text in ("-0", "0") else text


def _quoted(text: str, limit: int = 12) -> str:
    return f"“{text if len(text) <= limit else text[: limit - 1] + '…'}”"


def parse_sequence(text: object, max_steps: int = MAX_STEPS) -> ParsedSequence:
    """Read a typed sequence of numbers; never raises.

    Numbers are separated by spaces, commas or semicolons; "−1" with a typographic minus counts. What
    is not a number is left out, a number beyond ±`INPUT_LIMIT` is clipped to it, and only the first
    `max_steps` numbers are kept; each change gets one notice.

    >>> parsed = parse_sequence("1, 0 −1 abc 99")
    >>> parsed.values, parsed.labels
    ((1.0, 0.0, -1.0, 10.0), ('1', '0', '-1', '10'))
    >>> len(parsed.notices)
    2
    """
    raw = "" if text is None else str(text)
    notices = []
    if len(raw) > MAX_SEQUENCE_CHARS:
        raw = raw[:MAX_SEQUENCE_CHARS]
        notices.append(f"The sequence is very long; only its first {MAX_SEQUENCE_CHARS} characters were read.")
    pieces = [piece for piece in _SEPARATORS.split(raw.translate(_MINUS_SIGNS)) if piece]
    values, rejected, clipped = [], [], 0
    for piece in pieces:
        if not _NUMBER.fullmatch(piece):
            rejected.append(piece)
            continue
        value = float(piece)
        if not math.isfinite(value) or abs(value) > INPUT_LIMIT:
            clipped += 1
            value = math.copysign(INPUT_LIMIT, value)
        values.append(value + 0.0)  # + 0.0 turns -0.0 into 0.0
    if rejected:
        shown = ", ".join(_quoted(piece) for piece in rejected[:5]) + (" …" if len(rejected) > 5 else "")
        notices.append(
            f"Left out what is not a number: {shown}. Type numbers between −{INPUT_LIMIT:g} and {INPUT_LIMIT:g} "
            "separated by spaces, like 1 0 0 −1."
        )
    if clipped:
        notices.append(
            f"{clipped} number{'s' if clipped > 1 else ''} beyond ±{INPUT_LIMIT:g} clipped to ±{INPUT_LIMIT:g}."
        )
    if len(values) > max_steps:
        notices.append(f"The sequence has {len(values)} steps; the playground reads the first {max_steps}.")
        values = values[:max_steps]
    return ParsedSequence(tuple(values), tuple(format_number(value) for value in values), tuple(notices))


@dataclass(frozen=True)
class LinkCheck:
    """What a shared link asked for, checked: the preset, the values to use instead of bad ones, notices."""

    preset: str
    corrected: dict[str, object]  # widget key -> value, only for values the link got wrong
    notices: tuple[str, ...]
    repaired: dict[str, str] | None = None  # the link's query with `corrected` written in; None if it is fine


def _limits(key: str) -> float:
    return {C0_KEY: C0_LIMIT, H0_KEY: H0_LIMIT}.get(key, WEIGHT_LIMIT)


def check_link(raw: Mapping[str, object]) -> LinkCheck:
    """Check `st.query_params.to_dict()` before any widget reads it.

    Streamlit silently drops a bound value it cannot use (`w_i=abc`, `w_i=99`); this says what was
    wrong and, for a number out of range, gives the nearest limit to show instead (what is not a number
    falls back to the slider's default, the preset's value). `repaired` is the query to reopen the page
    with when something was corrected (without what cannot be used), so the address bar then shows what
    the page shows. The preset control writes its button's label into the URL (`preset=Count the 1s`);
    a hand-written link may use the short name (`preset=count`), in any case.

    >>> check = check_link({"preset": "evil", "w_i": "99", "b_o": "abc", "sequence": "1 0"})
    >>> check.preset, check.corrected, check.repaired
    ('keep', {'w_i': 10.0}, {'w_i': '10', 'sequence': '1 0'})
    >>> check_link({"preset": "Count the 1s"}).corrected   # the button's label, as the control writes it
    {}
    >>> check_link({"preset": "count"}).corrected          # or the short name, which the control is given
    {'preset': 'count'}
    """
    notices = []
    preset = DEFAULT_PRESET
    corrected: dict[str, object] = {}
    unusable = set()
    if PRESET_KEY in raw:
        asked = str(first_value(raw[PRESET_KEY]))
        by_name = {name.lower(): key for key, preset_ in PRESETS.items() for name in (key, preset_.title)}
        if asked.strip().lower() in by_name:
            preset = by_name[asked.strip().lower()]
            if asked != PRESETS[preset].title:  # the bound control reads only its own labels
                corrected[PRESET_KEY] = preset
        else:
            unusable.add(PRESET_KEY)
            names = ", ".join(PRESETS)
            notices.append(
                f"There is no preset called {_quoted(asked, 20)}; showing “{PRESETS[preset].title}” (presets: {names})."
            )
    defaults = PRESETS[preset].widget_values()
    for key in (*PARAMETER_NAMES, C0_KEY, H0_KEY):
        if key not in raw:
            continue
        asked = str(first_value(raw[key])).strip()
        limit = _limits(key)
        cleaned = asked.translate(_MINUS_SIGNS)
        number = float(cleaned) if _NUMBER.fullmatch(cleaned) else math.nan
        if not math.isfinite(number):  # the bound slider drops it and shows its default, the preset's value
            unusable.add(key)
            notices.append(
                f"The link sets {key} to {_quoted(asked, 20)}, which is not a number; using the preset's "
                f"{format_number(float(defaults[key]))}."
            )
        elif abs(number) > limit:
            corrected[key] = math.copysign(limit, number)
            notices.append(f"The link sets {key} to {format_number(number)}; the slider stops at ±{limit:g}.")
    if NO_FORGET_KEY in raw and str(first_value(raw[NO_FORGET_KEY])).lower() not in ("true", "false"):
        unusable.add(NO_FORGET_KEY)
        notices.append(
            f"The link sets {NO_FORGET_KEY} to {_quoted(str(first_value(raw[NO_FORGET_KEY])), 20)}; it can be true or false."
        )
    repaired = None
    if corrected:
        repaired = {key: str(first_value(value)) for key, value in raw.items() if key not in unusable}
        for key, value in corrected.items():
            repaired[key] = PRESETS[str(value)].title if key == PRESET_KEY else f"{value:g}"
    return LinkCheck(preset, corrected, tuple(notices), repaired)


def check_step(raw: Mapping[str, object], length: int) -> tuple[int | None, str | None]:
    """The step a link asks the cell diagram to show, checked against a sequence of `length` steps:
    (the step to show instead, a notice), or (None, None) when the link names a valid step or none.

    >>> check_step({"step": "77"}, 15)
    (15, 'The link asks for step “77”, but the sequence has 15 steps; showing step 15.')
    """
    if STEP_KEY not in raw:
        return None, None
    asked = str(first_value(raw[STEP_KEY])).strip()
    if asked.isdigit() and 1 <= int(asked) <= length:
        return None, None
    shown = min(max(int(asked), 1), length) if re.fullmatch(r"[+-]?\d{1,9}", asked) else 1
    return (
        shown,
        f"The link asks for step {_quoted(asked, 20)}, but the sequence has {length} steps; showing step {shown}.",
    )


# ---------------------------------------------------------------------------------- the unit
def _checked_weights(weights: Mapping[str, float]) -> dict[str, float]:
    missing = [name for name in PARAMETER_NAMES if name not in weights]
    if missing:
        raise ValueError(f"weights is missing {missing}; it needs all of {PARAMETER_NAMES}")
    values = {name: float(weights[name]) for name in PARAMETER_NAMES}
    bad = [name for name, value in values.items() if not math.isfinite(value)]
    if bad:
        raise ValueError(f"weights {bad} are not finite numbers")
    return values


def state_dict(weights: Mapping[str, float], no_forget_gate: bool = False) -> dict[str, np.ndarray]:
    """The unit as a `torch.nn.LSTM(1, 1)` state dict: rows i, f, g, o; w -> weight_ih_l0 (4, 1), u ->
    weight_hh_l0 (4, 1), b -> bias_ih_l0 (4,), bias_hh_l0 zero. Without the forget gate its row is
    0 x + 0 h + `NO_FORGET_BIAS`, so f = 1 exactly."""
    values = _checked_weights(weights)
    rows = {kind: np.array([values[f"{kind}_{GATE_LETTERS[gate]}"] for gate in GATE_NAMES]) for kind in "wub"}
    if no_forget_gate:
        forget = GATE_NAMES.index("forget")
        rows["w"][forget], rows["u"][forget], rows["b"][forget] = 0.0, 0.0, NO_FORGET_BIAS
    return {
        "weight_ih_l0": rows["w"][:, None],  # (4, 1)
        "weight_hh_l0": rows["u"][:, None],  # (4, 1)
        "bias_ih_l0": rows["b"],
        "bias_hh_l0": np.zeros(4),
    }


def pytorch_code(weights: Mapping[str, float], no_forget_gate: bool = False) -> str:
    """Python that builds this very unit in PyTorch, for a student to paste and check.

    >>> print(pytorch_code(PRESETS["count"].weights).splitlines()[3])
        "weight_ih_l0": torch.tensor([[10.0], [0.0], [0.3], [0.0]], dtype=torch.float64),
    """
    tensors = state_dict(weights, no_forget_gate)

    def column(array: np.ndarray) -> str:
        return "[" + ", ".join(f"[{round(float(value), 6)!r}]" for value in array[:, 0]) + "]"

    def row(array: np.ndarray) -> str:
        return "[" + ", ".join(repr(round(float(value), 6)) for value in array) + "]"

    return "\n".join(
        [
            "import torch",
            "lstm = torch.nn.LSTM(input_size=1, hidden_size=1, dtype=torch.float64)  # rows: i, f, g, o",
            "lstm.load_state_dict({",
            f'    "weight_ih_l0": torch.tensor({column(tensors["weight_ih_l0"])}, dtype=torch.float64),',
            f'    "weight_hh_l0": torch.tensor({column(tensors["weight_hh_l0"])}, dtype=torch.float64),',
            f'    "bias_ih_l0": torch.tensor({row(tensors["bias_ih_l0"])}, dtype=torch.float64),',
            f'    "bias_hh_l0": torch.tensor({row(tensors["bias_hh_l0"])}, dtype=torch.float64),',
            "})",
        ]
    )


def unit_lstm(weights: Mapping[str, float], no_forget_gate: bool = False) -> LSTM:
    """The one-unit `lstm_core.LSTM` (float64) for these slider values."""
    return LSTM.from_state_dict(state_dict(weights, no_forget_gate), dtype=np.float64)


def run_unit(
    weights: Mapping[str, float],
    inputs: Sequence[float],
    c0: float = 0.0,
    h0: float = 0.0,
    no_forget_gate: bool = False,
) -> Trace:
    """Run the unit on `inputs` (T numbers) from the initial state (c0, h0); every value in the `Trace`."""
    if len(inputs) == 0:
        raise ValueError("inputs is empty; the unit needs at least one step")
    x = np.asarray(inputs, dtype=np.float64).reshape(-1, 1)  # (T, 1)
    return unit_lstm(weights, no_forget_gate).run(x, h0=np.array([[float(h0)]]), c0=np.array([[float(c0)]]))


def unit_values(trace: Trace) -> dict[str, np.ndarray]:
    """Name -> (T,) float64: the four gates (`GATE_NAMES`), "cell", "hidden" and "x" of the one unit."""
    values = {name: trace.gates[name][0, 0, :, 0] for name in GATE_NAMES}
    values |= {"cell": trace.cell[0, 0, :, 0], "hidden": trace.hidden[0, 0, :, 0], "x": trace.inputs[:, 0]}
    return {name: np.array(value, dtype=np.float64) for name, value in values.items()}


def _two(value: float) -> str:
    text = f"{value:.2f}"
    return "0.00" if text == "-0.00" else text


def _term(value: float) -> str:
    """A number to add after "+": negative ones in parentheses, so signs never collide."""
    text = _two(value)
    return f"({text})" if text.startswith("-") else text


def describe_step(trace: Trace, step: int, no_forget_gate: bool = False) -> list[str]:
    """What the unit did at 1-based `step`, one plain sentence per equation, 2 decimals.

    The sentences hold only numbers (never typed text), as Markdown with $...$ math.

    >>> trace = run_unit(PRESETS["reset"].weights, parse_sequence(PRESETS["reset"].sequence).values)
    >>> describe_step(trace, 5)[1]
    'The forget gate is $f = 0.02$: of the $1.91$ the cell held, it keeps $0.03$.'
    """
    if not 1 <= step <= trace.length:
        raise ValueError(f"step must be in 1..{trace.length}, got {step!r}")
    detail = trace.step(step - 1)  # the step recomputed by lstm_core.cell.lstm_cell_step
    i, f, g, o = (float(detail.gates[name][0]) for name in GATE_NAMES)
    c_prev, c, h = float(detail.c_prev[0]), float(detail.cell[0]), float(detail.hidden[0])
    kept, added, tanh_c = float(detail.forgotten[0]), float(detail.written[0]), float(detail.cell_tanh[0])
    sentences = [f"Step {step} reads $x_{{{step}}} = {format_number(float(detail.x[0]))}$."]
    if no_forget_gate:
        sentences.append(f"There is no forget gate: $f = 1$, so the cell keeps all of its ${_two(c_prev)}$.")
    else:
        sentences.append(
            f"The forget gate is $f = {_two(f)}$: of the ${_two(c_prev)}$ the cell held, it keeps ${_two(kept)}$."
        )
    if i < 0.05:
        written = "lets almost nothing in"
    elif i > 0.95:
        written = "is open"
    else:
        written = f"lets in {i:.0%}"
    sentences.append(
        f"The input gate is $i = {_two(i)}$ and {written}: of the candidate $g = {_two(g)}$ it writes "
        f"$i \\cdot g = {_two(added)}$."
    )
    sentences.append(f"So the cell goes from ${_two(c_prev)}$ to ${_two(kept)} + {_term(added)} = {_two(c)}$.")
    sentences.append(f"The output gate $o = {_two(o)}$ shows $\\tanh(c) = {_two(tanh_c)}$ as $h = {_two(h)}$.")
    return sentences


# ---------------------------------------------------------------------------------- the figure
# Four panels over one shared x axis (step t), top to bottom; domains in paper coordinates.
_PANELS = {
    "x": ("y4", (0.885, 0.965)),
    "gates": ("y3", (0.575, 0.835)),
    "tanh": ("y2", (0.31, 0.52)),
    "cell": ("y", (0.0, 0.255)),
}
_PANEL_TITLES = {
    "x": "input x<sub>t</sub>",
    "gates": "gates, always between 0 and 1",
    "tanh": "candidate g and hidden state h, between −1 and 1",
    "cell": "cell state c: the memory, any size",
}


def _cell_range(cell: np.ndarray, c0: float) -> list[float]:
    low, high = min(0.0, float(cell.min()), c0), max(0.0, float(cell.max()), c0)
    if high - low < 1.0:  # a nearly flat cell still gets a readable axis, with 0 on it
        high = low + 1.0 if high > 0 or low == 0 else high
        low = high - 1.0
    pad = 0.08 * (high - low)
    return [low - pad, high + pad]


def playground_figure(
    trace: Trace,
    *,
    selected_step: int | None = None,
    no_forget_gate: bool = False,
    height: int = 580,
) -> go.Figure:
    """The unit across the sequence: the input, the three gates, g and h, and the cell, one column a step.

    Args:
        trace: from `run_unit` (hidden size 1, input size 1).
        selected_step: 1-based step to shade light blue in every panel (the one the cell diagram shows),
            named "selected step" in the legend; or None.
        no_forget_gate: names the forget line "f = 1 (no forget gate)".

    x is the step t = 1..T; t = 0 carries the initial state c_0, h_0. The gate panel is fixed to 0..1
    and the g, h panel to -1..1, so a gate's height always means the same; the cell panel fits c. Lines
    use the app's line colours (`COLORS`), each with its own dash and marker; the input row is on the
    signed scale (purple < 0, orange > 0). Hovering a step shows every value at it, 4 decimals.
    """
    if trace.model.hidden_size != 1 or trace.model.input_size != 1:
        raise ValueError(f"playground_figure draws one unit with one input, got {trace.model!r}")
    values = unit_values(trace)
    length = trace.length
    steps = np.arange(1, length + 1)
    c0, h0 = float(trace.c0[0, 0]), float(trace.h0[0, 0])
    labels = [format_number(value) for value in values["x"]]
    x_limit = max(1.0, float(np.abs(values["x"]).max()))
    data: list[dict] = [
        {
            "type": "heatmap", "z": values["x"][None, :], "x": steps, "y": [0], "yaxis": _PANELS["x"][0],
            **signed_scale(x_limit), "showscale": False, "xgap": 2,
            "text": [labels], "texttemplate": "%{text}", "textfont": {"size": 12 if length <= 30 else 9},
            "hoverinfo": "skip", "showlegend": False, "name": "input x",
        },
        # a line at y=0 under the heatmap gives the unified hover its "input x" row
        {
            "type": "scatter", "x": steps, "y": np.zeros(length), "yaxis": _PANELS["x"][0], "mode": "markers",
            "marker": {"opacity": 0, "size": 1}, "customdata": values["x"], "name": "input x",
            "hovertemplate": "input x = %{customdata:.4~g}<extra></extra>", "showlegend": False,
        },
    ]  # fmt: skip
    for name in ("input", "forget", "output"):
        label = "forget gate f = 1 (no forget gate)" if name == "forget" and no_forget_gate else _NAMES[name]
        data.append(_line(steps, values[name], name, label, _PANELS["gates"][0]))
    # g has no value before the first step; h and c start from their initial values at t = 0
    data.append(_line(steps, values["candidate"], "candidate", _NAMES["candidate"], _PANELS["tanh"][0]))
    data.append(_line(np.r_[0, steps], np.r_[h0, values["hidden"]], "hidden", _NAMES["hidden"], _PANELS["tanh"][0]))
    data.append(_line(np.r_[0, steps], np.r_[c0, values["cell"]], "cell", _NAMES["cell"], _PANELS["cell"][0]))

    layout: dict = {
        "height": height,
        "margin": {"l": 10, "r": 10, "t": 70, "b": 10},
        "plot_bgcolor": "white",
        "paper_bgcolor": "white",
        "hovermode": "x unified",
        "hoversubplots": "axis",  # one hover box for the step, across all four panels
        "hoverlabel": {"bgcolor": "white"},
        "dragmode": False,
        "legend": {"orientation": "h", "x": 0, "xanchor": "left", "y": 1.0, "yanchor": "bottom", "font": {"size": 12}},
        "xaxis": {
            "range": [-0.6, length + 0.6], "fixedrange": True, "anchor": "y", "showgrid": False, "zeroline": False,
            "tickmode": "linear", "tick0": 0, "dtick": 1 if length <= 30 else 5, "hoverformat": "d",
            "title": {"text": "step t (t = 0 is the starting state c<sub>0</sub>, h<sub>0</sub>)", "standoff": 6,
                      "font": {"size": 12}},
        },
        "shapes": [],
        "annotations": [],
    }  # fmt: skip
    axis_ranges = {
        "x": [-0.5, 0.5],
        "gates": [-0.05, 1.05],
        "tanh": [-1.1, 1.1],
        "cell": _cell_range(values["cell"], c0),
    }
    for panel, (axis, domain) in _PANELS.items():
        layout_name = "yaxis" if axis == "y" else f"yaxis{axis[1:]}"
        layout[layout_name] = {
            "domain": list(domain), "range": axis_ranges[panel], "fixedrange": True, "anchor": "x",
            "gridcolor": "#e6e6e6", "zeroline": panel != "x", "zerolinecolor": "#9a9a9a", "tickfont": {"size": 11},
        }  # fmt: skip
        if panel == "x":
            layout[layout_name] |= {"visible": False}
        if panel == "gates":
            layout[layout_name] |= {"tickvals": [0, 0.5, 1]}
        if panel == "tanh":
            layout[layout_name] |= {"tickvals": [-1, 0, 1]}
        layout["annotations"].append(
            {
                "text": f"<b>{_PANEL_TITLES[panel]}</b>", "x": 0, "xref": "paper", "xanchor": "left",
                "y": domain[1], "yref": "paper", "yanchor": "bottom", "showarrow": False,
                "font": {"size": 12, "color": "#333333"},
            }
        )  # fmt: skip
    if selected_step is not None:
        if not 1 <= selected_step <= length:
            raise ValueError(f"selected_step must be in 1..{length} or None, got {selected_step!r}")
        layout["shapes"].append(selected_band(selected_step, y1=0.97))
        data.append(selected_legend_entry("selected step"))
    return plotly_figure({"data": data, "layout": layout})


def _line(x: np.ndarray, y: np.ndarray, key: str, name: str, axis: str) -> dict:
    return {
        "type": "scatter", "x": x, "y": y, "yaxis": axis, "name": name, "mode": "lines+markers",
        "line": {"color": COLORS[key], "width": 3 if key == "cell" else 2.2, "dash": _DASH[key]},
        "marker": {"color": COLORS[key], "size": 6, "symbol": _MARKER[key]},
        "hovertemplate": f"{name.split(' (')[0]} = %{{y:.4f}}<extra></extra>",
    }  # fmt: skip
