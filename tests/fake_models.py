"""A small random-weight language model with a shipped model's tokenizer, for tests that need some
model to read text with, not the trained one: it is quick to build and its numbers do not change when
the shipped models are retrained."""

from __future__ import annotations

import numpy as np

from lstm_core import LSTM
from lstm_core.data import corpus
from lstm_core.models.language_model import LanguageModel, UnitInfo
from lstm_core.models.tokenize import UNKNOWN_TOKEN, CharTokenizer, WordTokenizer


def fake_language_model(name: str, hidden_size: int = 24, seed: int = 0) -> LanguageModel:
    """A random-weight `LanguageModel` with the shipped model's tokenizer and a made-up gender unit."""
    tokenizer = WordTokenizer([UNKNOWN_TOKEN, *corpus.vocabulary()]) if name == "words" else CharTokenizer()
    rng = np.random.default_rng(seed)
    vocab_size = len(tokenizer.vocab)
    lstm = LSTM.random(input_size=16, hidden_size=hidden_size, seed=seed, scale=0.8)
    gender = UnitInfo(
        name="subject gender",
        layer=0,
        direction=0,
        unit=5,
        threshold=0.0,
        above="female",
        below="male",
        accuracy=0.9,
        chosen_accuracy=0.95,
    )
    return LanguageModel(
        name=name,
        tokenizer=tokenizer,
        embedding=rng.normal(size=(vocab_size, 16)),
        lstm=lstm,
        decoder_weight=rng.normal(size=(vocab_size, hidden_size)),
        decoder_bias=np.zeros(vocab_size),
        units={"subject gender": gender},
    )
