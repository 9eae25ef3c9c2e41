"""The core's speed and memory, as ratios against torch measured in the same run.

    python -m benchmarks.core_speed            # about a minute
    python -m benchmarks.core_speed --quick    # a few seconds, fewer repetitions

Prints, one thread each and runs interleaved (numpy, torch, numpy, torch, ...) so that machine noise
hits both alike:
1. the median ratio of the recorded NumPy forward (`LSTM.run`, every gate, cell and hidden value kept)
   to torch's fused, unrecorded `nn.LSTM` forward under `no_grad`, on the same weights and input;
2. where the NumPy time goes: the input projection, the time loop, and what one step costs;
3. the batched forward's throughput against torch's batched forward on padded sequences;
4. the bytes a Trace holds for T=2000, H=256, two layers, against the values it must keep.
"""

from __future__ import annotations

import os

# One thread each: set before NumPy and torch load their thread pools.
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = "1"

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from lstm_core import LSTM  # noqa: E402
from lstm_core.lstm import _recurrence  # noqa: E402

torch.set_num_threads(1)
TARGET = 1.5


def interleaved_ratio(numpy_run, torch_run, repeats: int) -> tuple[float, float, float]:
    """Median of per-pair time ratios, and the median times (s) of each side."""
    numpy_run(), torch_run()  # warm up caches and allocators
    ratios, numpy_times, torch_times = [], [], []
    for _ in range(repeats):
        start = time.perf_counter()
        numpy_run()
        middle = time.perf_counter()
        torch_run()
        end = time.perf_counter()
        numpy_times.append(middle - start)
        torch_times.append(end - middle)
        ratios.append((middle - start) / (end - middle))
    return float(np.median(ratios)), float(np.median(numpy_times)), float(np.median(torch_times))


def forward_case(input_size: int, hidden_size: int, length: int, repeats: int) -> float:
    torch.manual_seed(0)
    module = torch.nn.LSTM(input_size, hidden_size).eval()
    lstm = LSTM.from_torch(module)
    x = np.random.default_rng(0).normal(size=(length, input_size)).astype(np.float32)
    x_torch = torch.from_numpy(x)

    def torch_forward():
        with torch.no_grad():
            module(x_torch)

    ratio, numpy_time, torch_time = interleaved_ratio(lambda: lstm.run(x), torch_forward, repeats)
    verdict = "meets" if ratio <= TARGET else "misses"
    print(f"  E={input_size:<4} H={hidden_size:<4} T={length:<5} numpy {numpy_time * 1e3:8.3f} ms   torch "
          f"{torch_time * 1e3:8.3f} ms   ratio {ratio:4.2f}x  ({verdict} the {TARGET}x target)")  # fmt: skip
    return ratio


def where_the_time_goes(input_size: int, hidden_size: int, length: int, repeats: int) -> None:
    lstm = LSTM.random(input_size, hidden_size, seed=0)
    fast = lstm._fast[0][0]
    x = np.random.default_rng(0).normal(size=(length, input_size)).astype(np.float32)
    H = hidden_size
    rows = np.zeros((length + 2, 5, H), np.float32)  # one layer and direction's record rows
    fast.project(x, out=rows[1:-1, 1:])
    projected = rows.copy()
    hiddens = np.empty((length, H), np.float32)
    zeros = np.zeros(H, np.float32)

    def median_time(function, count):
        times = []
        for _ in range(count):
            start = time.perf_counter()
            function()
            times.append(time.perf_counter() - start)
        return float(np.median(times))

    def refill():
        np.copyto(rows, projected)  # the loop overwrites the projection with the gates

    def loop_once():
        refill()
        _recurrence(rows, fast, zeros, hiddens, False)

    whole = median_time(lambda: lstm.run(x), repeats)
    projection = median_time(lambda: fast.project(x, out=rows[1:-1, 1:]), repeats)
    loop = median_time(loop_once, repeats) - median_time(refill, repeats)
    h, z, a, b = zeros.copy(), np.empty(4 * H, np.float32), np.ones(H, np.float32), np.ones(H, np.float32)
    matvec = median_time(lambda: [h.dot(fast.w_hh_t, z) for _ in range(100)], 50) / 100
    ufunc = median_time(lambda: [np.multiply(a, b, a) for _ in range(100)], 50) / 100
    rest = whole - projection - loop
    rest_text = f"{rest * 1e3:.3f} ms" if rest > 0 else "within the noise"
    print(f"  E={input_size} H={hidden_size} T={length}: run {whole * 1e3:.3f} ms = input projection "
          f"{projection * 1e3:.3f} ms + time loop {loop * 1e3:.3f} ms ({loop / length * 1e6:.2f} µs a step) + checks and "
          f"bookkeeping {rest_text}")  # fmt: skip
    print(f"    one step = 1 matrix-vector product h·W_hh ({matvec * 1e6:.2f} µs alone) + 8 elementwise NumPy calls "
          f"(~{ufunc * 1e6:.2f} µs each alone, almost all of it call overhead at this size) + 6 row views; in the loop "
          f"each call also pays for the cache lines the product evicted")  # fmt: skip


def batched_case(hidden_size: int, batch: int, repeats: int) -> None:
    input_size = 32
    torch.manual_seed(0)
    module = torch.nn.LSTM(input_size, hidden_size).eval()
    lstm = LSTM.from_torch(module)
    rng = np.random.default_rng(0)
    lengths = rng.integers(20, 80, size=batch)
    sequences = [rng.normal(size=(n, input_size)).astype(np.float32) for n in lengths]
    padded = torch.nn.utils.rnn.pad_sequence([torch.from_numpy(s) for s in sequences])
    packed = torch.nn.utils.rnn.pack_padded_sequence(padded, torch.as_tensor(lengths), enforce_sorted=False)

    def torch_forward():
        with torch.no_grad():
            module(packed)

    ratio, numpy_time, torch_time = interleaved_ratio(lambda: lstm.run_batch(sequences), torch_forward, repeats)
    tokens = int(lengths.sum())
    one_by_one = interleaved_ratio(lambda: [lstm.run(s) for s in sequences], lambda: None, max(3, repeats // 3))[1]
    print(f"  B={batch} sequences of 20-79 tokens, E={input_size}, H={hidden_size}: numpy batched {tokens / numpy_time:,.0f} "
          f"tokens/s, torch packed {tokens / torch_time:,.0f} tokens/s, ratio {ratio:.2f}x; numpy one by one "
          f"{tokens / one_by_one:,.0f} tokens/s")  # fmt: skip


def trace_bytes() -> None:
    T, H, L, E = 2000, 256, 2, 128
    lstm = LSTM.random(E, H, num_layers=L, seed=0)
    trace = lstm.run(np.zeros((T, E), np.float32))
    needed = L * T * H * (4 + 1 + 1) * 4  # four gates, cell and hidden, float32
    extra = trace.nbytes - needed
    print(f"  T={T} H={H} L={L}: a Trace holds {trace.nbytes / 2**20:.2f} MiB; the gates, cells and hidden states "
          f"themselves are {needed / 2**20:.2f} MiB; the rest ({extra / 2**10:.0f} KiB) is the input x and the initial "
          f"states and the record's two end rows. gates and cell are views of one record, hidden, output and h_n of "
          f"one buffer: no copies.")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, for a smoke test")
    args = parser.parse_args()
    small, large = (60, 3) if args.quick else (400, 15)
    print(f"NumPy {np.__version__}, torch {torch.__version__}, one thread each; ratio = numpy time / torch time")
    print("\n1. Recorded NumPy forward against torch's fused forward (median of interleaved pairs)")
    ratios = [forward_case(32, 64, 50, small), forward_case(128, 256, 2000, large)]
    print("\n2. Where the NumPy time goes")
    where_the_time_goes(32, 64, 50, small)
    where_the_time_goes(128, 256, 2000, large)
    print("\n3. Batched forward throughput")
    batched_case(128, 64, max(3, small // 40))
    print("\n4. Memory")
    trace_bytes()
    print(f"\nworst forward ratio {max(ratios):.2f}x (target {TARGET}x)")


if __name__ == "__main__":
    main()
