"""Train the shipped language models with torch and write them to `assets/<name>/`.

    python -m lstm_core.training.language words      # word-level model, a few minutes on 2 CPU cores
    python -m lstm_core.training.language chars      # character-level model
    python -m lstm_core.training.language words --quick   # a tiny run to check the pipeline

The torch model is `nn.Embedding` -> `nn.LSTM` -> `nn.Linear`, so its state dict copies straight
into the NumPy `LanguageModel`. Training data comes from the seeded story world (`corpus`); every
evaluation uses other seeds and the held-out story mix. After training, the NumPy model is
evaluated, the subject-gender unit is found (`analysis.find_subject_gender_unit`), and the
weights, vocabulary and a model card are written.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from lstm_core import analysis
from lstm_core.config import ASSETS_DIR
from lstm_core.data import corpus
from lstm_core.lstm import LSTM
from lstm_core.models.language_model import LanguageModel, UnitInfo
from lstm_core.models.tokenize import UNKNOWN_TOKEN, CharTokenizer, WordTokenizer

__all__ = ["TrainConfig", "CONFIGS", "TorchLanguageModel", "train", "train_tiny", "main"]


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run; stored in the checkpoint and the model card."""

    kind: str  # "words" or "chars": what one token is
    embedding_size: int
    hidden_size: int
    num_layers: int
    steps: int
    batch_size: int  # stories per step
    learning_rate: float
    train_stories: int  # distinct training stories, drawn once with `seed`
    max_length: int  # tokens per story kept; stories rarely exceed it
    # The decoder shares the embedding matrix (Press & Wolf, 2017). Without it the word model never
    # learns to recall the subject's name (it plateaus guessing a name of the right gender); with it,
    # writing a name's embedding into the state is already a way to predict that name.
    tie_weights: bool = True
    seed: int = 1234
    grad_clip: float = 1.0
    log_every: int = 100


# Words seed 7: of the two seeds tried (1234, 7), both learn the three behaviours; with 7 the
# subject-gender unit also reads a new subject from its first token (97% vs 94% held out).
CONFIGS: dict[str, TrainConfig] = {
    "words": TrainConfig(
        kind="words", embedding_size=128, hidden_size=128, num_layers=1, steps=6000,
        batch_size=64, learning_rate=3e-3, train_stories=40_000, max_length=128, seed=7,
    ),
    "chars": TrainConfig(
        kind="chars", embedding_size=128, hidden_size=128, num_layers=1, steps=2500,
        batch_size=32, learning_rate=3e-3, train_stories=20_000, max_length=320,
    ),
}  # fmt: skip

# Evaluation seeds: never used for training data (training draws with `TrainConfig.seed`).
HELDOUT_STORY_SEED = 2_000_001
PRONOUN_SEED = 2_000_002
RECALL_SEED = 2_000_003
UNIT_CHOOSE_SEED = 2_000_004
UNIT_SCORE_SEED = 2_000_005


class TorchLanguageModel(nn.Module):
    """The training twin of `LanguageModel`: same parameters under the same names."""

    def __init__(
        self, vocab_size: int, embedding_size: int, hidden_size: int, num_layers: int, tie_weights: bool = True
    ) -> None:
        super().__init__()
        if tie_weights and embedding_size != hidden_size:
            raise ValueError(f"tied weights need embedding_size == hidden_size, got {embedding_size} and {hidden_size}")
        self.embedding = nn.Embedding(vocab_size, embedding_size)
        self.lstm = nn.LSTM(embedding_size, hidden_size, num_layers, batch_first=True)
        self.decoder = nn.Linear(hidden_size, vocab_size)
        # Forget-gate bias 1 (Jozefowicz et al., 2015): gates start mostly open, so a name read at
        # one token still gets gradient from a recall twenty tokens later.
        with torch.no_grad():
            for layer in range(num_layers):
                getattr(self.lstm, f"bias_ih_l{layer}")[hidden_size : 2 * hidden_size].fill_(1.0)
                getattr(self.lstm, f"bias_hh_l{layer}")[hidden_size : 2 * hidden_size].fill_(0.0)
        if tie_weights:
            self.decoder.weight = self.embedding.weight  # state_dict still lists both names

    def forward(self, token_ids: torch.Tensor) -> torch.Tensor:
        """token_ids: (B, T) -> next-token logits (B, T, V)."""
        output, _ = self.lstm(self.embedding(token_ids))
        return self.decoder(output)


def make_tokenizer(kind: str) -> WordTokenizer | CharTokenizer:
    if kind == "words":
        return WordTokenizer([UNKNOWN_TOKEN, *corpus.vocabulary()])
    if kind == "chars":
        return CharTokenizer()
    raise ValueError(f"kind must be 'words' or 'chars', got {kind!r}")


def encode_stories(
    stories: list[corpus.Story], tokenizer: WordTokenizer | CharTokenizer, max_length: int
) -> list[np.ndarray]:
    """Token ids of each story, cut to `max_length`."""
    return [np.asarray(tokenizer.encode(story.text)[:max_length], dtype=np.int64) for story in stories]


def _batches(sequences: list[np.ndarray], batch_size: int, rng: np.random.Generator):
    """Endless padded batches (inputs, targets); stories of similar length share a batch."""
    lengths = np.array([len(sequence) for sequence in sequences])
    while True:
        order = rng.permutation(len(sequences))
        pool_size = batch_size * 32
        batches = []
        for start in range(0, len(order) - batch_size + 1, pool_size):
            pool = order[start : start + pool_size]
            pool = pool[np.argsort(lengths[pool], kind="stable")]  # less padding per batch
            batches += [pool[i : i + batch_size] for i in range(0, len(pool) - batch_size + 1, batch_size)]
        for batch_index in rng.permutation(len(batches)):
            members = batches[batch_index]
            width = int(lengths[members].max())
            inputs = np.zeros((len(members), width - 1), dtype=np.int64)
            # -100 is cross_entropy's ignore_index: padding contributes no loss.
            targets = np.full((len(members), width - 1), -100, dtype=np.int64)
            for row, member in enumerate(members):
                sequence = sequences[member]
                inputs[row, : len(sequence) - 1] = sequence[:-1]
                targets[row, : len(sequence) - 1] = sequence[1:]
            yield torch.from_numpy(inputs), torch.from_numpy(targets)


def to_numpy_model(
    torch_model: TorchLanguageModel, name: str, tokenizer: WordTokenizer | CharTokenizer
) -> LanguageModel:
    """Copy the trained weights into a NumPy `LanguageModel`, checking every name and shape."""
    state = {key: value.detach().cpu().numpy() for key, value in torch_model.state_dict().items()}
    expected = {"embedding.weight", "decoder.weight", "decoder.bias"}
    missing = expected - state.keys()
    assert not missing, f"torch state dict lacks {missing}"
    return LanguageModel(
        name=name,
        tokenizer=tokenizer,
        embedding=state["embedding.weight"],
        lstm=LSTM.from_state_dict(state, prefix="lstm."),
        decoder_weight=state["decoder.weight"],
        decoder_bias=state["decoder.bias"],
    )


def train(
    config: TrainConfig, log: Callable[[str], None] = print
) -> tuple[TorchLanguageModel, WordTokenizer | CharTokenizer, list[float]]:
    """Train a torch model from scratch; returns it, its tokenizer and the loss every step."""
    torch.manual_seed(config.seed)
    np.random.seed(config.seed)  # noqa: NPY002 - also seeds any library code on the legacy global generator
    random.seed(config.seed)
    torch.set_num_threads(2)  # the machine's cores are shared; more threads only add contention
    tokenizer = make_tokenizer(config.kind)
    started = time.perf_counter()
    stories = corpus.generate_stories(config.train_stories, seed=config.seed)
    sequences = encode_stories(stories, tokenizer, config.max_length)
    token_count = sum(len(sequence) for sequence in sequences)
    log(f"[{config.kind}] {len(stories)} training stories, {token_count} tokens, vocab {len(tokenizer.vocab)}")
    model = TorchLanguageModel(
        len(tokenizer.vocab), config.embedding_size, config.hidden_size, config.num_layers, config.tie_weights
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    # Linear warm-down to a tenth: a high rate finds the structure, a low one polishes it.
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0 - 0.9 * step / max(config.steps, 1))
    batches = _batches(sequences, config.batch_size, np.random.default_rng(config.seed))
    losses: list[float] = []
    for step in range(1, config.steps + 1):
        inputs, targets = next(batches)
        logits = model(inputs)
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
        if step % config.log_every == 0 or step == config.steps:
            recent = np.mean(losses[-config.log_every :])
            log(
                f"[{config.kind}] step {step:5d}/{config.steps}  loss {recent:.4f}  elapsed {time.perf_counter() - started:6.1f}s"
            )
    return model, tokenizer, losses


def train_tiny(steps: int = 60, seed: int = 0) -> list[float]:
    """Train a very small word model for a few seconds; returns the per-step losses (for tests)."""
    config = TrainConfig(
        kind="words", embedding_size=24, hidden_size=24, num_layers=1, steps=steps, batch_size=16,
        learning_rate=1e-2, train_stories=400, max_length=64, seed=seed, log_every=10**9,
    )  # fmt: skip
    _, _, losses = train(config, log=lambda message: None)
    return losses


def evaluate(model: LanguageModel, log: Callable[[str], None] = print) -> tuple[dict, dict[str, UnitInfo]]:
    """Held-out metrics of a trained model and, for the word model, its named units."""
    heldout = corpus.generate_stories(600, seed=HELDOUT_STORY_SEED, heldout=True)
    metrics: dict = {"heldout_perplexity": analysis.perplexity(model, heldout), "heldout_stories": len(heldout)}
    units: dict[str, UnitInfo] = {}
    if model.kind == "words":
        pronoun = corpus.pronoun_prompts(1000, seed=PRONOUN_SEED)
        recall = corpus.recall_prompts(600, seed=RECALL_SEED)
        metrics["pronoun_agreement"] = analysis.pronoun_agreement(model, pronoun)
        metrics["recall_accuracy"] = analysis.recall_accuracy(model, recall)
        example = "Bob single-handedly fought the enemy and died for his country. For his contributions, brave"
        metrics["recall_example"] = {"text": example, "top": model.predict_next(example, k=3)}
        unit = analysis.find_subject_gender_unit(model, choose_seed=UNIT_CHOOSE_SEED, score_seed=UNIT_SCORE_SEED)
        units[unit.name] = unit
        metrics["gender_unit_switch_flip_rate"] = analysis.switch_flip_rate(model, unit, pronoun)
    quotation_unit = analysis.find_quotation_unit(model, choose_seed=UNIT_CHOOSE_SEED, score_seed=UNIT_SCORE_SEED)
    units[quotation_unit.name] = quotation_unit
    for key, value in metrics.items():
        log(f"[{model.name}] {key}: {value}")
    return metrics, units


def write_model_card(
    directory: Path, model: LanguageModel, config: TrainConfig, seconds: float, losses: list[float]
) -> None:
    metrics, units = model.metrics, model.units
    parameter_count = sum(array.size for array in model.tensors().values())
    lines = [
        f"# Model card: `{model.name}`",
        "",
        f"A {model.kind[:-1]}-level LSTM language model for the LSTM Gate Explorer: "
        "embedding -> LSTM -> linear decoder. Trained with torch, run with NumPy (`lstm_core.load_pretrained`).",
        "",
        "## Data",
        "",
        f"- {config.train_stories} stories from the seeded story world `lstm_core.data.corpus` (seed {config.seed}), "
        f"{len(corpus.NAMES)} names ({len(corpus.MALE_NAMES)} male, {len(corpus.FEMALE_NAMES)} female), "
        "subject changes (forget), unimportant details and distractor names (input), deeds recalled by name "
        "(output), quotations.",
        f"- Each story is a training sequence from a zero state, cut at {config.max_length} {model.kind}.",
        f"- Held-out evaluation: other seeds ({HELDOUT_STORY_SEED}..{UNIT_SCORE_SEED}) and the longer held-out story mix.",
        "",
        "## Sizes",
        "",
        f"- vocabulary: {len(model.vocab)} tokens (`vocab.json`, id order; `<unk>` for unknown {model.kind})",
        f"- embedding {config.embedding_size}, LSTM hidden {config.hidden_size} x {config.num_layers} layer(s), "
        f"decoder {model.decoder_weight.shape[1]} -> {len(model.vocab)}"
        + (" (tied to the embedding)" if config.tie_weights else "")
        + f"; {parameter_count} parameters counting the tied matrix twice",
        "",
        "## Training",
        "",
        f"- Adam, learning rate {config.learning_rate} decayed linearly to a tenth, {config.steps} steps of "
        f"{config.batch_size} stories, gradient clip {config.grad_clip}, seed {config.seed}, 2 CPU threads; "
        "forget-gate bias initialised to 1",
        f"- final training loss {np.mean(losses[-100:]):.4f}; wall time {seconds / 60:.1f} min",
        f"- rebuild: `python -m lstm_core.training.language {model.name}`",
        "",
        "## Held-out metrics",
        "",
        f"- perplexity per {model.kind[:-1]}: {metrics['heldout_perplexity']:.3f} on {metrics['heldout_stories']} held-out stories",
    ]
    if model.kind == "words":
        example = metrics["recall_example"]
        top = ", ".join(f"{token} {probability:.3f}" for token, probability in example["top"])
        lines += [
            f'- pronoun agreement after a change of subject and gender ("Mary is a nice person. Dan, on the other '
            f'hand, is evil. ___": P(he) > P(she)): {100 * metrics["pronoun_agreement"]:.1f}% of 1000 held-out prompts',
            f'- "For his contributions, brave ___": the subject\'s name above every other name in '
            f'{100 * metrics["recall_accuracy"]:.1f}% of 600 held-out prompts; "{example["text"]}" -> {top}',
        ]
    if units:
        lines += ["", "## Interpretable units", ""]
        for unit in units.values():
            line = (
                f"- **{unit.name}**: layer {unit.layer}, unit {unit.unit}, {unit.signal} state > {unit.threshold:.3f} "
                f'reads "{unit.above}", otherwise "{unit.below}". Held-out accuracy {100 * unit.accuracy:.1f}% '
                f"({100 * unit.chosen_accuracy:.1f}% on the data it was chosen on). {unit.description}"
            )
            if unit.name == "subject gender":
                line += (
                    f" It changes sides at {100 * metrics['gender_unit_switch_flip_rate']:.1f}% of 1000 held-out "
                    "switches to a subject of the other gender."
                )
            lines.append(line)
    (directory / "model_card.md").write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("name", choices=sorted(CONFIGS))
    parser.add_argument("--quick", action="store_true", help="a short run to check the pipeline")
    parser.add_argument("--out", type=Path, default=None, help="output directory (default assets/<name>)")
    args = parser.parse_args(argv)
    config = CONFIGS[args.name]
    if args.quick:
        config = dataclasses.replace(config, steps=100, train_stories=2000, log_every=20)
    out = args.out or (ASSETS_DIR / args.name if not args.quick else Path("/tmp") / f"lstm_quick_{args.name}")
    started = time.perf_counter()
    torch_model, tokenizer, losses = train(config)
    model = to_numpy_model(torch_model, args.name, tokenizer)
    metrics, units = evaluate(model)
    model.metrics, model.units = metrics, units
    seconds = time.perf_counter() - started
    model.metrics["train_seconds"] = round(seconds, 1)
    model.save(out, extra_config={"train_config": dataclasses.asdict(config)})
    write_model_card(out, model, config, seconds, losses)
    print(f"[{args.name}] wrote {out} in {seconds / 60:.1f} min")


if __name__ == "__main__":
    main()
