"""Train a plain RNN and an LSTM on a long-lag task with torch, side by side.

    python -m lstm_core.training.tasks            # rebuilds assets/longlag/ (under a minute on 2 cores)

Used by the /train page (one bounded run per session, with progress and a stop button) and to make
the shipped long-lag weights the /gradients page compares. The torch modules are `nn.LSTM` /
`nn.RNN` plus a `nn.Linear` readout of the last hidden state, so the weights copy straight into the
NumPy `TaskModel`.

Both cells get the same optimizer, learning rate, batches, budget and readout; the only difference
besides the cell is the LSTM's forget-gate bias (`FORGET_BIAS`), the standard LSTM initialisation.

    >>> config = TaskTrainConfig(lag=3, hidden_size=8, steps=60, learning_rate=0.02)
    >>> run = train_side_by_side(config)
    >>> sorted(run.models), run.history[-1].step
    (['lstm', 'rnn'], 60)
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

from lstm_core.analysis.gradient_comparison import memory_units
from lstm_core.config import LONGLAG_DIR, MAX_SECONDS, SHIPPED, Progress, TaskTrainConfig
from lstm_core.data.tasks import TASK_LABELS, chance_level, make_batch
from lstm_core.models.task_model import CELL_KINDS, TaskModel

# The settings (`TaskTrainConfig`, `LIMITS`, `SHIPPED`, ...) live in lstm_core.config, which the
# /train page reads without importing torch.
__all__ = ["TorchTaskModel", "SideBySideRun", "train_task_model", "train_side_by_side", "FORGET_BIAS", "main"]

VALIDATION_SIZE = 512


# Start by remembering: a forget-gate bias of 4 keeps σ(4)^60 ≈ 0.34 of the cell state across 60
# steps instead of σ(0)^60 ≈ 1e-18 (Gers et al., 2000; Jozefowicz et al., 2015). With 3 the LSTM
# learned lag 60 more slowly; with 5 the cell sums so many distractors that tanh(c) saturates.
FORGET_BIAS = 4.0


class TorchTaskModel(nn.Module):
    def __init__(self, kind: str, features: int, hidden_size: int, outputs: int):
        super().__init__()
        if kind == "lstm":
            self.cell = nn.LSTM(features, hidden_size, batch_first=True)
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
    return loss, loss.item()


class _Learner:
    """One cell kind's torch model and optimizer, stepped on batches it is handed."""

    def __init__(self, kind: str, config: TaskTrainConfig, features: int, outputs: int, classification: bool):
        torch.manual_seed(config.seed)  # each kind starts from the same seed, alone or side by side
        self.kind, self.config, self.classification = kind, config, classification
        self.model = TorchTaskModel(kind, features, config.hidden_size, outputs)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=config.learning_rate)

    def step(self, inputs: torch.Tensor, targets: torch.Tensor) -> None:
        loss, _ = _loss_and_score(self.model(inputs), targets, self.classification)
        self.optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.optimizer.step()

    def evaluate(self, inputs: torch.Tensor, targets: torch.Tensor, step: int, seconds: float) -> Progress:
        with torch.no_grad():
            loss, score = _loss_and_score(self.model(inputs), targets, self.classification)
        return Progress(self.kind, step, float(loss), score, seconds)

    def numpy_model(self, history: list[Progress], stopped: bool = False) -> TaskModel:
        mine = [progress for progress in history if progress.kind == self.kind]
        metrics = {"validation_score": mine[-1].score if mine else None, "steps": mine[-1].step if mine else 0,
                   "chance": chance_level(self.config.task), "stopped": stopped,
                   "config": asdict(self.config)}  # fmt: skip
        state = {key: value.detach().numpy().copy() for key, value in self.model.cell.state_dict().items()}
        readout = self.model.readout
        return TaskModel(CELL_KINDS[self.kind].from_state_dict(state), readout.weight.detach().numpy().copy(),
                         readout.bias.detach().numpy().copy(), self.config.task, self.config.lag, metrics)  # fmt: skip


def _validation(config: TaskTrainConfig):
    validation = make_batch(config.task, VALIDATION_SIZE, config.lag, np.random.default_rng(config.seed + 10_000),
                            noise=config.noise)  # fmt: skip
    classification = validation.kind == "classification"
    outputs = validation.num_classes if classification else 1
    tensors = torch.from_numpy(validation.inputs), torch.from_numpy(validation.targets)
    return tensors, validation.inputs.shape[2], outputs, classification


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
    run = train_side_by_side(config, on_progress, should_stop, evaluate_every, kinds=(kind,), max_seconds=None)
    return run.models[kind], run.history


@dataclass(frozen=True)
class SideBySideRun:
    """models: kind -> trained `TaskModel`; history: every evaluation of every kind, in order."""

    models: dict[str, TaskModel]
    history: list[Progress]
    stopped: bool  # by `should_stop` or by the time limit, before `config.steps`
    timed_out: bool
    seconds: float

    def final(self, kind: str) -> Progress:
        return [progress for progress in self.history if progress.kind == kind][-1]


def train_side_by_side(
    config: TaskTrainConfig,
    on_progress: Callable[[Progress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    evaluate_every: int = 25,
    kinds: tuple[str, ...] = ("rnn", "lstm"),
    max_seconds: float | None = MAX_SECONDS,
) -> SideBySideRun:
    """Train each cell kind on the same batches in lockstep: one step of each in turn, evaluated
    together every `evaluate_every` steps, so live curves grow side by side.

    Each kind's run equals `train_task_model(kind, config)`: same initial weights, same batches.
    `should_stop()` is asked after every pair of steps; a run also ends after `max_seconds`.
    """
    for kind in kinds:
        if kind not in CELL_KINDS:
            raise ValueError(f"unknown cell kind {kind!r}; expected 'lstm' or 'rnn'")
    if not isinstance(evaluate_every, int) or evaluate_every < 1:
        raise ValueError(f"evaluate_every must be a positive integer, got {evaluate_every!r}")
    (valid_inputs, valid_targets), features, outputs, classification = _validation(config)
    learners = [_Learner(kind, config, features, outputs, classification) for kind in kinds]
    rng = np.random.default_rng(config.seed)
    history: list[Progress] = []
    start = time.perf_counter()
    stopped = timed_out = False
    for step in range(1, config.steps + 1):
        batch = make_batch(config.task, config.batch_size, config.lag, rng, noise=config.noise)
        inputs, targets = torch.from_numpy(batch.inputs), torch.from_numpy(batch.targets)
        for learner in learners:
            learner.step(inputs, targets)
        timed_out = max_seconds is not None and time.perf_counter() - start > max_seconds
        stopped = step < config.steps and (timed_out or (should_stop is not None and bool(should_stop())))
        if step % evaluate_every == 0 or step == config.steps or stopped:
            for learner in learners:
                history.append(learner.evaluate(valid_inputs, valid_targets, step, time.perf_counter() - start))
                if on_progress is not None:
                    on_progress(history[-1])
        if stopped:
            break
    models = {learner.kind: learner.numpy_model(history, stopped) for learner in learners}
    return SideBySideRun(models, history, stopped, timed_out, time.perf_counter() - start)


# The shipped pair and the /train page's default run. Lag 60 with noise 0.3 on the distractors: in
# every seed the LSTM learns the task well within the steps and the RNN stays at chance, so the pair
# shows the difference (assets/longlag/model_card.md has the runs). Without the noise, Adam lets the
# RNN latch the first symbol in some seeds within this budget.
CARD_SEEDS = (0, 1, 2)


def _card(rows: list[tuple[int, Progress, Progress, int | None, float]], config: TaskTrainConfig,
          memory: tuple[np.ndarray, np.ndarray] | None = None) -> str:  # fmt: skip
    """rows: (seed, RNN's last evaluation, LSTM's last evaluation, LSTM's first step at ≥ 99%, seconds)."""
    chance = chance_level(config.task)
    lines = [
        "# Long-lag models: a plain RNN and an LSTM on the same task",
        "",
        f"Task: {TASK_LABELS[config.task].lower()}: one of 4 symbols, then {config.lag} distractors (one of 4 other "
        f"symbols, one-hot, plus Gaussian noise of standard deviation {config.noise} on every feature of every "
        f"distractor step); say the first symbol at the end. Chance: {chance:.0%} accuracy.",
        "",
        f"Both cells: one layer of {config.hidden_size} units and a linear readout of the last hidden state; "
        f"the same batches, Adam (learning rate {config.learning_rate}), {config.steps} steps of "
        f"{config.batch_size} sequences, gradient norm clipped at 1, PyTorch's default initialisation. "
        f"The only change to it: the LSTM's forget-gate bias starts at {FORGET_BIAS:g}, the standard LSTM "
        "initialisation (Gers et al., 2000; Jozefowicz et al., 2015).",
        "",
        f"Shipped: seed {config.seed} (`rnn.safetensors`, `lstm.safetensors`). Made by `python -m "
        "lstm_core.training.tasks`, which also trains the other seeds below to show the result is not luck. "
        f"Accuracy on {VALIDATION_SIZE} held-out sequences; wall time for both cells together (2 CPU threads).",
        "",
        "| seed | RNN accuracy | LSTM accuracy | LSTM first at ≥ 99% | both cells, wall time |",
        "|---|---|---|---|---|",
    ]
    for seed, rnn, lstm, solved_at, seconds in rows:
        solved = f"step {solved_at}" if solved_at is not None else "never"
        lines.append(f"| {seed} | {rnn.score:.1%} | {lstm.score:.1%} | {solved} | {seconds:.0f} s |")
    lines += [
        "",
        "Development runs (an earlier script, same settings, other random streams; seeds 0-4): the LSTM was at 100% by step 750 in every seed and "
        "the RNN at chance (21-30%) at step 1500 in every seed. The RNN is not incapable, only slow to learn: given "
        "5000 steps, one seed of five found a way to hold the symbol (100% after about 3000 steps) and one reached "
        "53%; without the distractor noise, some seeds latch two of the four symbols (about 50%) within 1500 "
        "steps. Its gradient from the end of the sequence back to the first symbol has all but vanished, while the "
        "LSTM's forget gate near 1 keeps a path open along the cell state.",
    ]
    if memory is not None:
        units, forget = memory
        lines += [
            "",
            f"In the shipped LSTM, the {len(units)} units whose last cell state best tells the first symbol apart "
            f"(units {', '.join(str(unit) for unit in units)}) keep their forget gate at "
            f"{', '.join(f'{value:.3f}' for value in forget)} on average over the distractors of clean sequences.",
        ]
    lines += [
        "",
        "Beside them: `text_rnn.safetensors`, a plain RNN trained on the story world with the `words` LSTM's "
        "budget, for the same comparison on text (its card: `text_rnn_card.md`; rebuild with "
        "`python -m lstm_core.training.text_rnn`).",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train the shipped long-lag RNN and LSTM.")
    parser.add_argument("--out", type=Path, default=LONGLAG_DIR)
    parser.add_argument("--seeds", type=int, nargs="*", default=list(CARD_SEEDS),
                        help="seeds for the model card's table; the shipped seed is always trained")  # fmt: skip
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    args.out.mkdir(parents=True, exist_ok=True)
    rows, memory = [], None
    for seed in dict.fromkeys([SHIPPED.seed, *args.seeds]):
        config = TaskTrainConfig(**(asdict(SHIPPED) | {"seed": seed}))
        run = train_side_by_side(config, max_seconds=None)
        solved = [progress.step for progress in run.history if progress.kind == "lstm" and progress.score >= 0.99]
        rows.append((seed, run.final("rnn"), run.final("lstm"), solved[0] if solved else None, run.seconds))
        print(f"seed {seed}: RNN {run.final('rnn').score:.1%}, LSTM {run.final('lstm').score:.1%} "
              f"(≥ 99% from step {rows[-1][3]}), {run.seconds:.1f} s")  # fmt: skip
        if seed == SHIPPED.seed:
            memory = memory_units(run.models["lstm"])
            for kind, model in run.models.items():
                model.save(args.out / f"{kind}.safetensors")
    (args.out / "model_card.md").write_text(_card(rows, SHIPPED, memory))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
