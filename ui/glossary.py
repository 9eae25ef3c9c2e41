"""Every term the pages use, in plain words for a student who knows no machine learning.

Pages put a term's entry in a widget's or heading's tooltip (`help=help_text("forget gate")`), and
/glossary lists every entry, grouped. An entry may have a "for the curious" note with the maths or
the PyTorch names behind it. Pure data and plain functions: tested without a server.

>>> help_text("forget gate").startswith("**Forget gate**: A number between 0 and 1")
True
"""

from __future__ import annotations

from dataclasses import dataclass

from ui import palette

__all__ = ["Term", "GROUPS", "TERMS", "GLOSSARY", "help_text", "matching", "grouped"]


@dataclass(frozen=True)
class Term:
    name: str  # as the pages write it, capitalised as at the start of a sentence
    plain: str  # what it means, in everyday words (Markdown)
    group: str  # one of GROUPS
    curious: str = ""  # the maths or the PyTorch names behind it, for those who want them (Markdown)
    aliases: tuple[str, ...] = ()  # other ways the pages write it


GROUPS: tuple[str, ...] = ("Reading text", "Inside the cell", "What a model predicts", "Training", "Finding what a unit does",
                           "Colours", "PyTorch names")  # fmt: skip

TERMS: tuple[Term, ...] = (
    # ------------------------------------------------------------------------ reading text
    Term(
        "Token",
        "One piece of text the model reads in one step: a word (or a full stop) for the word models, one "
        "character for the character model.",
        "Reading text",
        aliases=("tokens",),
    ),
    Term(
        "Vocabulary",
        "The tokens a model knows by heart. A word model can only guess words from its vocabulary; a "
        "word outside it is read as `<unk>` (unknown), unless the model reads spelling.",
        "Reading text",
        aliases=("<unk>",),
    ),
    Term(
        "Embedding",
        "The list of numbers a model reads for a token, instead of the token itself: similar words get "
        "similar lists. The embedding is learned in training.",
        "Reading text",
        "Row `id` of the matrix `embedding.weight` (vocabulary size × input size); this row is $x_t$ in the "
        "equations. Models that read spelling add the rows of the word's letter groups.",
        aliases=("embeddings",),
    ),
    Term(
        "Timestep",
        "One step of reading: the model reads token *t*, updates its memory, and makes a guess. *t* counts from 0.",
        "Reading text",
        aliases=("step", "t"),
    ),
    Term(
        "Story world",
        "Short made-up stories about people (“Mary is a nice person. She likes tea.”) that the word "
        "and character models learned from, so that who the subject is, and their gender, matter for the next word.",
        "Reading text",
        aliases=("stories",),
    ),
    # ------------------------------------------------------------------------ the cell
    Term(
        "LSTM",
        "Long short-term memory: a network that reads text one token at a time and keeps a memory, the cell "
        "state, that three gates protect.",
        "Inside the cell",
        "Hochreiter and Schmidhuber (1997); the forget gate was added by Gers, Schmidhuber and Cummins (2000).",
    ),
    Term(
        "Unit",
        "One slot of the LSTM's memory. A model has many of them side by side (the hidden size); each has its "
        "own gates, its own cell value and its own hidden value. Some units turn out to track one thing, such as "
        "the subject's gender.",
        "Inside the cell",
        aliases=("units", "hidden size"),
    ),
    Term(
        "Cell state",
        "The LSTM's long-term memory: one number per unit, carried from token to token. The gates "
        "decide how much of it is kept, what is added, and how much is shown.",
        "Inside the cell",
        r"$c_t = f_t \odot c_{t-1} + i_t \odot g_t$: the old value times the forget gate, plus the candidate times "
        "the input gate.",
        aliases=("cell", "c", "memory"),
    ),
    Term(
        "Hidden state",
        "What each unit shows the rest of the network after a token: its cell value, squashed "
        "between −1 and 1 and scaled by the output gate. Only the hidden state reaches the prediction and the next "
        "layer.",
        "Inside the cell",
        r"$h_t = o_t \odot \tanh(c_t)$.",
        aliases=("hidden", "h"),
    ),
    Term(
        "Gate",
        "A number between 0 and 1, one per unit and token, that multiplies something: 0 lets nothing "
        "through, 1 lets everything through. An LSTM has three: forget, input and output.",
        "Inside the cell",
        r"Each gate is $\sigma(W x_t + U h_{t-1} + b)$: the sigmoid of a weighted sum of the token and of the "
        "previous hidden state, so it depends on both what is read and what was shown before.",
        aliases=("gates",),
    ),
    Term(
        "Forget gate",
        "A number between 0 and 1 for each unit: how much of the memory to keep. Near 1 the unit keeps "
        "its cell value; near 0 it erases it, for instance when a new person becomes the subject.",
        "Inside the cell",
        r"$f_t = \sigma(W_f x_t + U_f h_{t-1} + b_f)$; it multiplies the old cell value $c_{t-1}$.",
        aliases=("f", "forget"),
    ),
    Term(
        "Input gate",
        "A number between 0 and 1 for each unit: how much of the candidate to add to the memory at "
        "this token. Near 0 the token leaves the cell alone.",
        "Inside the cell",
        r"$i_t = \sigma(W_i x_t + U_i h_{t-1} + b_i)$; the cell gains $i_t \cdot g_t$.",
        aliases=("i", "input"),
    ),
    Term(
        "Candidate",
        "The new value, between −1 and 1, that the current token proposes for each unit's memory. The "
        "input gate decides how much of it is actually added.",
        "Inside the cell",
        r"$g_t = \tanh(W_g x_t + U_g h_{t-1} + b_g)$; PyTorch calls it *g*, some texts $\tilde c_t$.",
        aliases=("g", "candidate value"),
    ),
    Term(
        "Output gate",
        "A number between 0 and 1 for each unit: how much of its memory to show now. Near 0 the value "
        "stays stored but hidden; near 1 it reaches the prediction.",
        "Inside the cell",
        r"$o_t = \sigma(W_o x_t + U_o h_{t-1} + b_o)$; $h_t = o_t \tanh(c_t)$.",
        aliases=("o", "output"),
    ),
    Term(
        "Sigmoid",
        "A squashing function that turns any number into one between 0 and 1 (large negative → near 0, "
        "large positive → near 1). Gates use it.",
        "Inside the cell",
        r"$\sigma(z) = 1 / (1 + e^{-z})$.",
        aliases=("σ",),
    ),
    Term(
        "tanh",
        "A squashing function that turns any number into one between −1 and 1. The candidate and the hidden "
        "state use it.",
        "Inside the cell",
        r"$\tanh(z) = (e^z - e^{-z}) / (e^z + e^{-z})$.",
    ),
    Term(
        "Weight",
        "A number learned in training that says how strongly one thing feeds another, e.g. how much a token "
        "pushes a gate open. A bias is the weight of a constant 1: where a gate sits when nothing pushes it.",
        "Inside the cell",
        "The LSTM's weights are the matrices $W$ (from the token), $U$ (from the previous hidden "
        "state) and the biases $b$ of each gate.",
        aliases=("weights", "bias"),
    ),
    Term(
        "Layer",
        "One LSTM. In a stacked model, the second layer reads the hidden states of the first instead of the "
        "tokens, and so on; higher layers can combine what lower ones found.",
        "Inside the cell",
        "`num_layers` in PyTorch; the weights of layer *k* end in `_l{k}`.",
        aliases=("layers", "stacked"),
    ),
    Term(
        "Direction",
        "Which way an LSTM reads the text. Forward reads from the first token to the last; a "
        "bidirectional model also has a backward LSTM that reads from the last token to the first.",
        "Inside the cell",
        "`bidirectional=True` in PyTorch; the backward weights end in `_reverse`. The language models read forward "
        "only: to guess the next word, the backward reader would already have seen it. The `tagger` reads both ways.",
        aliases=("bidirectional", "forward", "backward"),
    ),
    Term(
        "Part of speech",
        "What a word does in its sentence: noun, verb, adjective, … The taggers give every word one of 12 such "
        "tags (NOUN, VERB, ADJ, ADV, PRON, DET, ADP, NUM, CONJ, PRT, punctuation and X for other).",
        "What a model predicts",
        "The 12 universal tags of Petrov, Das and McDonald (2012); `lstm_core.universal_tag` maps the Brown corpus's "
        "87 tags onto them.",
        aliases=("tag", "tags", "tagger", "part-of-speech tag"),
    ),
    Term(
        "Probe",
        "A simple reader fitted on top of a network's hidden states, here one weighted sum of the units per answer "
        "(a logistic regression). It is fitted on some sentences and tested on others; what it reads right "
        "is plainly there in those states.",
        "Finding what a unit does",
        "Linear probes (Alain and Bengio, 2016); `lstm_core.analysis.probes`.",
        aliases=("probes", "linear probe"),
    ),
    Term(
        "RNN",
        "A plain recurrent network: it also reads token by token, but has no cell state and no gates; at every "
        "token it rewrites its whole state.",
        "Inside the cell",
        r"$h_t = \tanh(W x_t + U h_{t-1} + b)$.",
        aliases=("plain RNN",),
    ),
    # ------------------------------------------------------------------------ predictions
    Term(
        "Score",
        "A number the model gives every word of its vocabulary after each token: a higher score makes the "
        "word more likely next. Each unit's hidden value, times that unit's weight for the word, adds to the "
        "word's score.",
        "What a model predicts",
        r"Also called a logit: score $= W_{\text{dec}}\,h_t + b_{\text{dec}}$, one row of the decoder per word.",
        aliases=("logit", "scores"),
    ),
    Term(
        "Softmax",
        "Turns the scores of all words into probabilities that add up to 1: the higher a word's score, the "
        "larger its share.",
        "What a model predicts",
        r"$p_w = e^{s_w} / \sum_v e^{s_v}$.",
    ),
    Term(
        "Probability",
        "How likely the model thinks a token is to come next, from 0 (never) to 1 (certainly); "
        "P(he) = 0.82 means 82%. The probabilities of all tokens add up to 1.",
        "What a model predicts",
        aliases=("P(he)", "probabilities"),
    ),
    Term(
        "Perplexity",
        "How surprised a model is by a text, on average: a perplexity of 10 means it was as unsure as "
        "if it chose among 10 equally likely words each time. Lower is better.",
        "What a model predicts",
        r"$\exp$ of the average of $-\log p(\text{next token})$ over a text.",
    ),
    # ------------------------------------------------------------------------ training
    Term(
        "Training",
        "Adjusting all the weights, a little at a time, so that the model gives the words that really "
        "come next a higher probability.",
        "Training",
    ),
    Term(
        "Loss",
        "The number training makes smaller: how wrong the model's guesses are (for a language model, minus "
        "the log of the probability it gave the right next token).",
        "Training",
    ),
    Term(
        "Gradient",
        "For each weight, which way and how much the loss changes when that weight is nudged. Training "
        "moves every weight a little against its gradient.",
        "Training",
        "Computed by backpropagation: the chain rule applied backwards through every step of the text.",
        aliases=("gradients",),
    ),
    Term(
        "Jacobian",
        "A table of how much each number of one state changes when each number of an earlier state is "
        "nudged. Multiplying these tables step after step is how the gradient travels back in time.",
        "Training",
        r"$\partial h_t / \partial h_{t-1}$ (H × H). In a plain RNN it is $\mathrm{diag}(1 - h_t^2)\,U$; the "
        r"gradient of a loss at step $T$ with respect to step $t$ is the product of the Jacobians in between, which "
        "shrinks (vanishes) when they are small. Along the LSTM's cell, $\\partial c_t / \\partial c_{t-1}$ "
        "includes $f_t$, which can stay near 1.",
        aliases=("Jacobians",),
    ),
    Term(
        "Vanishing gradient",
        "When the gradient shrinks at every step back in time until nothing is left, so the "
        "network cannot learn that an early token matters for a late one.",
        "Training",
    ),
    Term(
        "Seed",
        "The number that starts a random generator. The same seed always gives the same “random” stories or "
        "starting weights, so a result can be repeated exactly.",
        "Training",
        aliases=("story seed", "seeds"),
    ),
    Term(
        "Held out",
        "Data kept out of training and out of every choice made with it, used only to measure: a result "
        "on held-out names tells how the model does on names it never saw.",
        "Training",
        aliases=("held-out",),
    ),
    # ------------------------------------------------------------------------ finding units
    Term(
        "Named unit",
        "A unit found to track one property, such as the subject's gender or being inside a "
        "quotation: its cell value alone, compared with a threshold, tells that property on most tokens.",
        "Finding what a unit does",
        aliases=("subject-gender unit", "quotation unit"),
    ),
    Term(
        "Threshold",
        "The cut that turns a unit's value into a reading: above it one label (say, male), below it the "
        "other. It is chosen as the cut that reads the most tokens right, so it is rarely a round number.",
        "Finding what a unit does",
        aliases=("cut-off", "cut"),
    ),
    Term(
        "Accuracy",
        "The share of tokens read right, from 0% to 100%. For a choice between two labels in equal "
        "numbers, guessing gives 50%.",
        "Finding what a unit does",
    ),
    Term(
        "Switching a unit off",
        "Holding one unit's cell at 0 (or at its usual value) while the model reads, to see "
        "what changes: if the prediction changes, that unit helped cause it.",
        "Finding what a unit does",
        "Also called ablation.",
        aliases=("ablation", "switch off"),
    ),
    # ------------------------------------------------------------------------ colours
    Term(
        "Gate colours",
        palette.GATE_RULE + " One scale for every gate on every page.",
        "Colours",
        aliases=("gate scale", "colour scale", "Cividis"),
    ),
    Term(
        "Sign colours",
        palette.SIGN_RULE + " Used for the candidate, the cell and hidden states, and any other "
        "number that can be negative; never for gates.",
        "Colours",
        aliases=("signed scale", "diverging scale"),
    ),
    Term(
        "Probability colours",
        palette.PROBABILITY_RULE + " Used for the table of the model's guesses for the next token, so that a "
        "likely guess never looks like an open gate.",
        "Colours",
        aliases=("probability scale", "grey scale"),
    ),
    Term(
        "Selected token",
        palette.SELECTED_RULE + " Pick it with the token slider or by clicking a token.",
        "Colours",
        aliases=("light blue", "highlight"),
    ),
    # ------------------------------------------------------------------------ PyTorch
    Term(
        "weight_ih_l{k}",
        "PyTorch's name for the weights from the input (the token, or the layer below) to the four "
        "gates of layer *k*; `weight_hh_l{k}` are the weights from the previous hidden state, `bias_ih_l{k}` and "
        "`bias_hh_l{k}` the biases.",
        "PyTorch names",
        "The rows are stacked in blocks of `hidden_size` in the order input $i$, forget $f$, candidate $g$, output "
        "$o$: rows 0 to H−1 are our $W_i$, H to 2H−1 our $W_f$, and so on. Our $b_f$ is `bias_ih` + `bias_hh` of "
        "the forget rows. The backward direction's weights end in `_reverse`.",
        aliases=("weight_hh_l{k}", "bias_ih_l{k}", "bias_hh_l{k}", "_reverse"),
    ),
)

GLOSSARY: dict[str, Term] = {key.casefold(): term for term in TERMS for key in (term.name, *term.aliases)}


def help_text(*names: str) -> str:
    """The glossary entries of `names`, one paragraph each, for a widget's or heading's `help=`.

    Raises KeyError for a name the glossary does not have, so that a page cannot promise a definition
    it lacks.
    """
    paragraphs = []
    for name in names:
        term = GLOSSARY[name.casefold()]
        paragraphs.append(f"**{term.name}**: {term.plain}")
    return "\n\n".join(paragraphs)


def matching(query: str) -> tuple[Term, ...]:
    """The terms whose name, other names or explanation contain `query` (any case); all of them for ''."""
    wanted = query.strip().casefold()
    if not wanted:
        return TERMS
    return tuple(
        term
        for term in TERMS
        if any(wanted in text.casefold() for text in (term.name, term.plain, term.curious, *term.aliases))
    )


def grouped(terms: tuple[Term, ...]) -> list[tuple[str, tuple[Term, ...]]]:
    """(group, its terms) in the order of `GROUPS`, groups without any of `terms` left out."""
    return [(group, members) for group in GROUPS if (members := tuple(term for term in terms if term.group == group))]
