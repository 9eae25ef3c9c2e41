"""LSTM Gate Explorer: routing and shared layout. Each page lives in pages/."""

import streamlit as st

st.set_page_config(page_title="LSTM Gate Explorer", page_icon="🧠", layout="wide")
st.title("LSTM Gate Explorer")
st.write("Watch an LSTM remember and forget, gate by gate.")
