"""Train a plain RNN and an LSTM on a long-lag task with torch, side by side.

    python -m lstm_core.train_tasks            # rebuilds assets/longlag/ (about a minute on 2 cores)

Used by the /train page (one bounded run per session, with progress and a stop button) and to make
the shipped long-lag weights the /gradients page compares. The torch modules are `nn.LSTM` /
`nn.RNN` plus a `nn.Linear` readout of the last hidden state, so the weights copy straight into the
NumPy `TaskModel`.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .task_model import CELL_KINDS, LONGLAG_DIR, TaskModel
from .tasks import TASKS, chance_level, make_batch

__all__ = ["TaskTrainConfig", "LIMITS", "Progress", "train_task_model", "main"]

# Safe bounds for anything a user can set on the /train page: a run stays within about a minute.
LIMITS = {"lag": (1, 200), "hidden_size": (2, 128), "steps": (1, 2000), "learning_rate": (1e-4, 0.1), "batch_size": (1, 256)}


@dataclass(frozen=True)
class TaskTrainConfig:
    task: str = "remember_first"
    lag: int = 40
    hidden_size: int = 32
    steps: int = 800
    batch_size: int = 64
    learning_rate: float = 0.005
    seed: int = 0

    def __post_init__(self):
        if self.task not in TASKS:
            raise ValueError(f"unknown task {self.task!r}; expected one of {sorted(TASKS)}")
        for name, (low, high) in LIMITS.items():
            value = getattr(self, name)
            if not isinstance(value, int | float) or isinstance(value, bool) or not low <= value <= high:
                raise ValueError(f"{name} must be between {low} and {high}, got {value!r}")


@dataclass(frozen=True)
class Progress:
    """One evaluation during training: `score` is accuracy (classification) or squared error."""

    kind: str
    step: int
    loss: float
    score: float
    seconds: float


FORGET_BIAS = 3.0


class TorchTaskModel(nn.Module):
    def __init__(self, kind: str, features: int, hidden_size: int, outputs: int):
        super().__init__()
        if kind == "lstm":
            self.cell = nn.LSTM(features, hidden_size, batch_first=True)
            # Start by remembering: a forget-gate bias of 3 keeps σ(3)^40 ≈ 0.15 of the cell state across
            # 40 steps instead of σ(0)^40 ≈ 1e-12 (Gers et al., 2000; Tallec and Ollivier, 2018).
            with torch.no_grad():
                self.cell.bias_ih_l0[hidden_size : 2 * hidden_size].fill_(FORGET_BIAS)
        elif kind == "rnn":
            self.cell = nn.RNN(features, hidden_size, batch_first=True, nonlinearity="tanh")
        else:
            raise ValueError(f"unknown cell kind {kind!r}; expected 'lstm' or 'rnn'")
        self.readout = nn.Linear(hidden_size, outputs)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:  # (B, T, F) -> (B, outputs)
        output, _ = self.cell(inputs)
        return self.readout(output[:, -1])


def _loss_and_score(scores: torch.Tensor, targets: torch.Tensor, classification: bool) -> tuple[torch.Tensor, float]:
    if classification:
        loss = nn.functional.cross_entropy(scores, targets)
        return loss, float((scores.argmax(dim=1) == targets).float().mean())
    loss = nn.functional.mse_loss(scores[:, 0], targets)
    return loss, float(loss)


def train_task_model(
    kind: str,
    config: TaskTrainConfig,
    on_progress: Callable[[Progress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    evaluate_every: int = 25,
) -> tuple[TaskModel, list[Progress]]:
    """Train one cell kind on `config`'s task; returns the NumPy model and the evaluation history.

    `should_stop()` is asked after every step, so a stop button takes effect at once.
    """
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    validation = make_batch(config.task, 512, config.lag, np.random.default_rng(config.seed + 10_000))
    classification = validation.kind == "classification"
    outputs = validation.num_classes if classification else 1
    model = TorchTaskModel(kind, validation.inputs.shape[2], config.hidden_size, outputs)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    valid_inputs = torch.from_numpy(validation.inputs)
    valid_targets = torch.from_numpy(validation.targets)
    history: list[Progress] = []
    start = time.perf_counter()
    for step in range(1, config.steps + 1):
        batch = make_batch(config.task, config.batch_size, config.lag, rng)
        loss, _ = _loss_and_score(model(torch.from_numpy(batch.inputs)), torch.from_numpy(batch.targets), classification)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        stopping = should_stop is not None and should_stop()
        if step % evaluate_every == 0 or step == config.steps or stopping:
            with torch.no_grad():
                valid_loss, score = _loss_and_score(model(valid_inputs), valid_targets, classification)
            history.append(Progress(kind, step, float(valid_loss), score, time.perf_counter() - start))
            if on_progress is not None:
                on_progress(history[-1])
        if stopping:
            break
    state = {k: v.detach().numpy() for k, v in model.cell.state_dict().items()}
    metrics = {"validation_score": history[-1].score if history else None, "steps": history[-1].step if history else 0,
               "chance": chance_level(config.task), "config": asdict(config)}  # fmt: skip
    numpy_model = TaskModel(CELL_KINDS[kind].from_state_dict(state), model.readout.weight.detach().numpy().copy(),
                            model.readout.bias.detach().numpy().copy(), config.task, config.lag, metrics)  # fmt: skip
    return numpy_model, history


SHIPPED = TaskTrainConfig(task="remember_first", lag=40, hidden_size=32, steps=800, batch_size=64, learning_rate=0.005, seed=0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train the shipped long-lag RNN and LSTM.")
    parser.add_argument("--out", type=Path, default=LONGLAG_DIR)
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    args.out.mkdir(parents=True, exist_ok=True)
    lines = [
        "# Long-lag models: a plain RNN and an LSTM on the same task",
        "",
        f"Task: remember the first of 4 symbols across {SHIPPED.lag} distractors (chance: 25% accuracy).",
        f"Both: one layer of {SHIPPED.hidden_size} units and a linear readout of the last hidden state, Adam "
        f"(learning rate {SHIPPED.learning_rate}), {SHIPPED.steps} steps of {SHIPPED.batch_size} sequences, "
        "gradient norm clipped at 1, seed 0. The LSTM's forget-gate bias starts at 1.",
        "Made by `python -m lstm_core.train_tasks`.",
        "",
        "| cell | validation accuracy | training time |",
        "|---|---|---|",
    ]
    for kind in ("rnn", "lstm"):
        report = lambda p: print(f"{p.kind:>4} step {p.step:4d}  loss {p.loss:.3f}  accuracy {p.score:.3f}  {p.seconds:5.1f} s")  # noqa: E731
        model, history = train_task_model(kind, SHIPPED, on_progress=report)
        model.save(args.out / f"{kind}.safetensors")
        lines.append(f"| {kind.upper()} | {history[-1].score:.1%} | {history[-1].seconds:.0f} s |")
    (args.out / "model_card.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
