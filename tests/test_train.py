"""Training: a tiny model learns in a few seconds, and its weights copy exactly into NumPy."""

import numpy as np
import torch

from lstm_core.training import language as train


def test_tiny_training_lowers_the_loss():
    losses = train.train_tiny(steps=60, seed=0)
    assert len(losses) == 60
    assert np.mean(losses[-10:]) < 0.7 * np.mean(losses[:10])


def test_torch_model_copies_into_numpy():
    torch.manual_seed(0)
    tokenizer = train.make_tokenizer("words")
    twin = train.TorchLanguageModel(len(tokenizer.vocab), 16, 16, 2)
    model = train.to_numpy_model(twin, "tiny", tokenizer)
    assert model.lstm.num_layers == 2 and model.decoder_weight.shape == (len(tokenizer.vocab), 16)
    text = "Bob is a nice person. She is evil."
    ids = torch.from_numpy(model.encode(text))[None]
    with torch.no_grad():
        expected = torch.softmax(twin(ids), dim=-1)[0].numpy()
    np.testing.assert_allclose(model.next_token_probs(model.trace(text)), expected, atol=2e-5)
