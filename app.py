"""LSTM Gate Explorer: routing and shared layout. Each page lives in views/.

URL paths are stable, so teachers can share links: / (home), /gates, /step, /tutorial. The page
files live in `views/`, not `pages/`: Streamlit 1.67 runs the first visit after start through its
legacy page discovery whenever a `pages/` folder sits beside the entry point, and a deep link then
opens with a "Page not found" dialog.
"""

import streamlit as st

from ui import accessibility, server

# (file, title, icon, url path)
PAGES = [
    ("views/home.py", "Home", ":material/home:", ""),
    ("views/gates.py", "Gates over a sentence", ":material/grid_on:", "gates"),
    ("views/step.py", "One step inside the cell", ":material/step:", "step"),
    ("views/tutorial.py", "Tutorial: build an LSTM up", ":material/school:", "tutorial"),
    ("views/gradients.py", "Why LSTMs: vanishing gradients", ":material/trending_down:", "gradients"),
    ("views/train.py", "Train an RNN and an LSTM", ":material/model_training:", "train"),
    ("views/playground.py", "Playground: one LSTM unit", ":material/tune:", "playground"),
    ("views/compare.py", "Compare two sentences", ":material/compare:", "compare"),
    ("views/corpus.py", "Corpus explorer", ":material/manage_search:", "corpus"),
    ("views/saturation.py", "Gate saturation", ":material/scatter_plot:", "saturation"),
    ("views/your_model.py", "Your own model", ":material/upload_file:", "your-model"),
    ("views/glossary.py", "Glossary", ":material/menu_book:", "glossary"),
]

st.set_page_config(page_title="LSTM Gate Explorer", page_icon="🧠", layout="wide")
st.html(accessibility.PAGE_CSS)  # readable labels of disabled widgets (ui/accessibility.py says why)
current = st.navigation(
    [
        st.Page(file, title=title, icon=icon, url_path=url_path, default=url_path == "")
        for file, title, icon, url_path in PAGES
    ]
)
with st.sidebar:
    st.caption("LSTM Gate Explorer: watch an LSTM remember and forget, gate by gate.")
with server.page_turn():  # one page at a time, in order of arrival (ui/server.py says why)
    current.run()
server.freeze_long_lived_objects()  # once per process, after the first page
