"""/glossary: every term the pages use, in plain words, grouped; the maths and PyTorch names behind a term
in its "for the curious" note. A search box narrows the list."""

import streamlit as st

from ui import glossary

st.header("Glossary")
st.caption(
    "Every term the pages use, in plain words for someone who has never met machine learning. The same "
    "explanations appear in the tooltips (the small ? beside a heading or a control)."
)
query = st.text_input("Find a term", key="glossary_find", max_chars=60, placeholder="forget gate, softmax, seed…")
shown = glossary.matching(query)
if not shown:
    st.info("No term matches. Try a shorter word.", icon=":material/search_off:")
for group, terms in glossary.grouped(shown):
    st.subheader(group)
    for term in terms:
        st.markdown(f"**{term.name}**: {term.plain}")
        if term.curious:
            with st.expander(f"For the curious: {term.name}"):
                st.markdown(term.curious)
