"""/ (home): what the cell state and the three gates do, the cell drawn, and a way into every page."""

import streamlit as st

from ui import about_models, accessibility
from ui.diagram import cell_diagram_figure

st.title("LSTM Gate Explorer")
st.markdown(
    "An LSTM reads a text one token at a time. Besides its output it carries a **cell state**: a row of "
    "numbers that works as its long-term memory. At every token three **gates**, each a number between 0 "
    "and 1 for every unit, decide what happens to that memory."
)

text_column, diagram_column = st.columns([2, 3], gap="large")
with text_column:
    st.markdown(
        """
- **Forget gate** *f*: how much of the old memory to keep. Near 1 the unit keeps what it knew; near 0
  it wipes it, as when a new person becomes the subject of the story.
- **Input gate** *i*: how much of the **candidate** *g* (a new value between -1 and 1 proposed from
  the current token) to write into the memory. The new memory is *c* = *f* × old *c* + *i* × *g*.
- **Output gate** *o*: how much of the memory to show. What the cell outputs, the hidden state
  *h* = *o* × tanh(*c*), is what the model uses to guess the next token.

The models here read real English books and short stories about people, so some units learn things
such as the gender of the current subject; you can watch them switch when the subject changes.
[About the models](#about-the-models): what they read, how well they do and what they cannot do.
"""
    )
    st.caption(
        "In PyTorch's `nn.LSTM` the same gates are called *i* (input), *f* (forget), *g* (candidate) and "
        "*o* (output), and their weights are stacked in that order."
    )
with diagram_column:
    st.plotly_chart(
        cell_diagram_figure(height=400),
        key="home_diagram",
        alt=accessibility.CELL_DIAGRAM,
        config={"displayModeBar": False},
    )

st.subheader("Explore")
WAYS_IN = [
    ("views/gates.py", "Gates over a sentence", "Type a sentence and see every gate and the memory of every unit, "
     "token by token.", "Open the gates", ":material/grid_on:"),
    ("views/step.py", "One step inside the cell", "Pick a token and a unit and follow the real numbers through "
     "the cell.", "Step through the cell", ":material/step:"),
    ("views/tutorial.py", "Tutorial", "One hand-set unit first, then the trained model forgetting a subject, keeping "
     "a fact and using it later, with a question before each answer.", "Start the tutorial", ":material/school:"),
    ("views/gradients.py", "Why LSTMs", "How much of the gradient reaches each earlier step, in a plain RNN and "
     "in an LSTM.", "Compare the gradients", ":material/trending_down:"),
    ("views/train.py", "Train", "Train an RNN and an LSTM side by side on a long gap, or a small model on your "
     "own text.", "Train both", ":material/model_training:"),
    ("views/playground.py", "Playground", "One LSTM unit with its weights on sliders: keep a bit, reset, count.",
     "Play with one unit", ":material/tune:"),
    ("views/compare.py", "Compare", "Two sentences side by side, and where their gates part.", "Compare two texts",
     ":material/compare:"),
    ("views/corpus.py", "Corpus explorer", "Select a phrase, find the units on inside it, and where else they switch "
     "on together.", "Explore the corpus", ":material/manage_search:"),
    ("views/saturation.py", "Gate saturation", "How often each gate is nearly shut or fully open, unit by unit.",
     "See saturation", ":material/scatter_plot:"),
    ("views/your_model.py", "Your own model", "Upload a PyTorch LSTM and look inside it with every page.",
     "Upload a model", ":material/upload_file:"),
]  # fmt: skip
for start in range(0, len(WAYS_IN), 3):
    row = WAYS_IN[start : start + 3]
    for column, (page, title, what, label, icon) in zip(st.columns(3, gap="medium"), row, strict=False):
        with column, st.container(border=True):
            st.markdown(f"**{title}**  \n{what}")
            st.page_link(page, label=label, icon=icon)

st.subheader("About the models", anchor="about-the-models")
st.markdown(about_models.shipped_models_markdown())
