"""What a student or teacher takes away from /gates and /step: the trace as CSV or `.npz`, figures as
standalone HTML, and the chart config that gives a figure Plotly's own "download as PNG" button.

Pure functions, no Streamlit. The pages hand them to `st.download_button(data=callable)`, so nothing
here runs on a rerun, only when someone clicks a download.

Bounded: the CSV holds at most `MAX_CSV_ROWS` rows and the `.npz` at most `MAX_NPZ_BYTES` of arrays,
each as many whole tokens around the selected one as fit (`csv_window`, `npz_window`), since a long text
read by a wide model would otherwise make hundreds of thousands of rows or hundreds of megabytes, all
built in the server's memory at once; each download's label says which tokens it holds.

Safety: a token is whatever the user typed. In the CSV it is quoted by the `csv` module (commas,
quotes, newlines) and a leading ``= + - @`` (or tab, carriage return) is neutralised with a ``'`` so a
spreadsheet never runs it as a formula (OWASP "CSV injection"). In the HTML it only travels inside
Plotly's JSON, which escapes ``<`` and ``>``, so a typed ``</script>`` cannot close the script.

>>> import dataclasses, numpy as np
>>> from lstm_core import LSTM
>>> trace = LSTM.random(input_size=3, hidden_size=2, seed=0).run(np.ones((2, 3)))
>>> trace = dataclasses.replace(trace, tokens=("=1+1", "b"))
>>> trace_csv(trace).splitlines()[1].split(",")[:5]
['0', "'=1+1", '0', 'forward', '0']
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from lstm_core import Trace
from ui.figures import token_window

__all__ = [
    "CSV_COLUMNS",
    "EXPORT_GATE_NAMES",
    "MAX_CSV_ROWS",
    "MAX_NPZ_BYTES",
    "csv_label",
    "csv_window",
    "figure_html",
    "figures_html",
    "file_stem",
    "npz_label",
    "npz_window",
    "png_chart_config",
    "spreadsheet_safe",
    "trace_csv",
    "trace_npz",
]

# PyTorch's gate order (i, f, g, o), as `weight_ih_l{k}` stacks them; the CSV and the .npz use it too.
EXPORT_GATE_NAMES: tuple[str, ...] = ("input", "forget", "candidate", "output")
CSV_COLUMNS: tuple[str, ...] = ("t", "token", "layer", "direction", "unit", *EXPORT_GATE_NAMES, "cell", "hidden")
MAX_CSV_ROWS = 100_000  # about 8 MB of text, a second to build; a spreadsheet opens it
# The .npz's arrays, 24 bytes per unit per token: every shipped model's longest text fits whole but the
# character model's (5,000 tokens of 256 units, 31 MB); an uploaded model's longest trace can reach 240 MB.
MAX_NPZ_BYTES = 16 * 2**20
_DIRECTIONS = ("forward", "backward")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str) -> str:
    """`text` with a leading formula character (= + - @, tab, CR) made inert by a ``'`` in front.

    >>> spreadsheet_safe("=HYPERLINK(\\"x\\")"), spreadsheet_safe("bob")
    ('\\'=HYPERLINK("x")', 'bob')
    """
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _tokens_of(trace: Trace) -> list[str]:
    return list(trace.tokens) if trace.tokens is not None else [str(index) for index in range(trace.length)]


def csv_window(trace: Trace, selected: int = 0, max_rows: int = MAX_CSV_ROWS) -> tuple[int, int]:
    """[start, stop) of the tokens the CSV holds: every token when all T * L * D * H rows fit in
    `max_rows`, else as many whole tokens as fit, around token `selected` (as the pages draw a window
    around it). At least one token.

    >>> import numpy as np
    >>> from lstm_core import LSTM
    >>> trace = LSTM.random(input_size=1, hidden_size=10, seed=0).run(np.ones((500, 1)))  # 10 rows a token
    >>> csv_window(trace, selected=300, max_rows=1_000), csv_window(trace, max_rows=10_000)
    ((250, 350), (0, 500))
    """
    layers, directions, _, hidden_size = trace.cell.shape
    return _window(trace, selected, max_rows // (layers * directions * hidden_size))


def npz_window(trace: Trace, selected: int = 0, max_bytes: int = MAX_NPZ_BYTES) -> tuple[int, int]:
    """[start, stop) of the tokens the `.npz` holds: every token when its arrays fit in `max_bytes`, else
    as many whole tokens as fit, around token `selected`. At least one token.

    A token costs its 6 float32 values (four gates, cell, hidden) per unit of every layer and direction,
    its place ``t``, and its text at the width of the longest token (NumPy's fixed-width strings).

    >>> import numpy as np
    >>> from lstm_core import LSTM
    >>> trace = LSTM.random(input_size=1, hidden_size=10, seed=0).run(np.ones((500, 1)))  # 260 bytes a token
    >>> npz_window(trace, selected=300, max_bytes=26_000), npz_window(trace)
    ((250, 350), (0, 500))
    """
    layers, directions, _, hidden_size = trace.cell.shape
    longest = max((len(token) for token in _tokens_of(trace)), default=1)
    token_bytes = 6 * 4 * layers * directions * hidden_size + 8 + 4 * max(longest, 1)
    return _window(trace, selected, max_bytes // token_bytes)


def _window(trace: Trace, selected: int, tokens: int) -> tuple[int, int]:
    """At most `tokens` whole tokens (at least one) around token `selected`, clamped into the trace."""
    length = trace.length
    return token_window(length, min(max(int(selected), 0), max(length - 1, 0)), max(1, tokens))


def csv_label(trace: Trace, window: tuple[int, int]) -> str:
    """The download's label: which tokens the CSV holds when it is not all of them.

    >>> import numpy as np
    >>> from lstm_core import LSTM
    >>> trace = LSTM.random(input_size=1, hidden_size=10, seed=0).run(np.ones((5_000, 1)))
    >>> csv_label(trace, (0, 5_000)), csv_label(trace, (250, 350))
    ('Trace as CSV', 'Trace as CSV, tokens 250 to 349 of 5,000')
    """
    return _window_label("Trace as CSV", trace, window)


def npz_label(trace: Trace, window: tuple[int, int]) -> str:
    """The `.npz` download's label: which tokens it holds when it is not all of them (as `csv_label`)."""
    return _window_label("Trace as NumPy .npz", trace, window)


def _window_label(label: str, trace: Trace, window: tuple[int, int]) -> str:
    start, stop = window
    if (start, stop) == (0, trace.length):
        return label
    return f"{label}, tokens {start} to {stop - 1} of {trace.length:,}"


def trace_csv(trace: Trace, selected: int = 0, max_rows: int = MAX_CSV_ROWS) -> str:
    """The recorded values as CSV text: a header (`CSV_COLUMNS`), then one row per token x layer x
    direction x unit, token-major, with the four gates, the cell and the hidden state; for the tokens
    of `csv_window(trace, selected, max_rows)`, which is every token of a trace that fits.

    Numbers are written with 6 significant digits (float32 carries about 7).
    """
    layers, directions, _, hidden_size = trace.cell.shape
    start, stop = csv_window(trace, selected, max_rows)
    columns = [trace.gates[name] for name in EXPORT_GATE_NAMES] + [trace.cell, trace.hidden]
    # (T', L, D, H, 6): one row of numbers per output line, formatted in one NumPy call per token.
    values = np.stack([np.asarray(column[:, :, start:stop], dtype=np.float32) for column in columns], axis=-1)
    values = values.transpose(2, 0, 1, 3, 4)
    units = [str(unit) for unit in range(hidden_size)]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for t, token in enumerate(_tokens_of(trace)[start:stop], start=start):
        token_cell = spreadsheet_safe(token)
        numbers = np.char.mod("%.6g", values[t - start]).tolist()  # (L, D, H, 6) strings
        for layer in range(layers):
            for direction in range(directions):
                lead = (str(t), token_cell, str(layer), _DIRECTIONS[direction])
                writer.writerows((*lead, units[unit], *numbers[layer][direction][unit]) for unit in range(hidden_size))
    return buffer.getvalue()


def trace_npz(trace: Trace, selected: int = 0, max_bytes: int = MAX_NPZ_BYTES) -> bytes:
    """The trace as `.npz` bytes that `np.load(..., allow_pickle=False)` reads back, for the tokens of
    `npz_window(trace, selected, max_bytes)`, which is every token of a trace that fits.

    Arrays: ``gates`` (4, L, D, T', H) float32 in the order of ``gate_names`` (input, forget, candidate,
    output); ``cell`` and ``hidden`` (L, D, T', H) float32; ``t`` (T',) int64, each token's place in the
    whole text; ``tokens`` (T',) and ``gate_names`` (4,) as fixed-width unicode arrays (never object
    arrays, which would need pickle).
    """
    start, stop = npz_window(trace, selected, max_bytes)
    buffer = io.BytesIO()
    np.savez(
        buffer,
        gates=np.stack(
            [np.asarray(trace.gates[name][:, :, start:stop], dtype=np.float32) for name in EXPORT_GATE_NAMES]
        ),
        gate_names=np.array(EXPORT_GATE_NAMES, dtype=np.str_),
        cell=np.asarray(trace.cell[:, :, start:stop], dtype=np.float32),
        hidden=np.asarray(trace.hidden[:, :, start:stop], dtype=np.float32),
        t=np.arange(start, stop, dtype=np.int64),
        tokens=np.array(_tokens_of(trace)[start:stop], dtype=np.str_).reshape(-1),
    )
    return buffer.getvalue()


def figure_html(figure: go.Figure) -> str:
    """One figure as a standalone HTML page (plotly.js inlined: it opens offline, about 5 MB)."""
    return figure.to_html(include_plotlyjs=True, full_html=True)


def figures_html(figures: Sequence[go.Figure], title: str) -> str:
    """Several figures, one under the other, in one standalone HTML page titled `title` (escaped)."""
    if not figures:
        raise ValueError("figures_html needs at least one figure")
    parts = [
        figure.to_html(include_plotlyjs=index == 0, full_html=False, default_width="100%")
        for index, figure in enumerate(figures)
    ]
    heading = html.escape(title)
    return (
        f'<!DOCTYPE html>\n<html>\n<head><meta charset="utf-8" /><title>{heading}</title></head>\n'
        f'<body style="font-family: sans-serif">\n<h1 style="font-size: 1.3em">{heading}</h1>\n'
        + "\n".join(parts)
        + "\n</body>\n</html>\n"
    )


def file_stem(*parts: object) -> str:
    """A file name stem from free text (a model's name may be "my text (chars)"): letters, digits and
    dashes only, at most 60 characters.

    >>> file_stem("gates", "my text (chars)", "t", 5)
    'gates-my-text-chars-t-5'
    """
    stem = re.sub(r"[^A-Za-z0-9]+", "-", "-".join(str(part) for part in parts)).strip("-")
    return stem[:60].rstrip("-") or "lstm"


def png_chart_config(file_name: str, base: dict | None = None) -> dict:
    """A `st.plotly_chart(config=...)` whose mode bar holds only Plotly's "Download plot as a PNG"
    button, at twice the shown size (sharp on a projector). The PNG is drawn in the browser: no server
    side renderer (kaleido) is needed.
    """
    return {
        **(base or {}),
        "displayModeBar": "hover",
        "displaylogo": False,
        "modeBarButtons": [["toImage"]],
        "toImageButtonOptions": {"format": "png", "filename": file_stem(file_name), "scale": 2},
    }
