"""The flow of /your-model besides its layout: the uploads read once, a whole language model added to
the session once, the vectors a bare LSTM reads, and the callback of the example button.

Every widget change reruns the page. The uploads' fingerprint (Streamlit's file ids and names) is kept
in the session with what was read, so a rerun neither reads the files again nor adds the same model
twice. Whatever a file says is refused with a message on the page, never an exception: the readers
refuse what they know with a ValueError, and anything else is logged and told as "could not be read".
"""

from __future__ import annotations

import numpy as np
import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from lstm_core.io import model_files
from ui import explain, model_store, your_model

__all__ = [
    "READ_KEY", "ADDED_KEY", "NOTICES_KEY", "show_error", "fill_example_vectors", "forget_uploads", "fingerprint",
    "read_or_stop", "session_language_model", "input_vectors_or_stop",
]  # fmt: skip

READ_KEY = "_your_model_read"  # (fingerprint, UploadRead) of the last uploads: a rerun does not read them again
ADDED_KEY = "_your_model_added"  # fingerprint -> session model name: a rerun does not add the model again
NOTICES_KEY = "_your_model_notices"  # what building the language model had to say, shown on every rerun


def show_error(message: str) -> None:
    """A refusal, escaped: it quotes a file name or what the file said."""
    st.error(explain.as_markdown(message), icon=":material/block:")


def fill_example_vectors(input_size: int) -> None:
    """The example button's callback: smooth waves, one column per input, in the vectors box."""
    st.session_state["your_model_csv"] = your_model.example_input_csv(input_size)


def forget_uploads() -> None:
    """The weights file was removed: so are the LSTM it held and what was read from it."""
    your_model.forget_bare_model(st.session_state)
    st.session_state.pop(READ_KEY, None)


def fingerprint(weights_file: UploadedFile, vocab_file: UploadedFile | None) -> str:
    """What identifies this pair of uploads across reruns."""
    vocab = (vocab_file.file_id, vocab_file.name) if vocab_file else (None, None)
    return your_model.upload_fingerprint(weights_file.file_id, weights_file.name, *vocab)


def read_or_stop(weights_file: UploadedFile, vocab_file: UploadedFile | None, upload_id: str) -> your_model.UploadRead:
    """What the uploads hold, read once per upload (`upload_id` from `fingerprint`); when the weights
    are refused, the reason and the end of the run."""
    cached = st.session_state.get(READ_KEY)
    if isinstance(cached, tuple) and cached[0] == upload_id:
        read = cached[1]
    elif weights_file.size > model_files.MAX_MODEL_BYTES:  # before reading a byte of it
        read = your_model.UploadRead(error=f"The weights file is {weights_file.size / 2**20:.1f} MB, more than the "
                                           f"limit of {model_files.MAX_MODEL_BYTES // 2**20} MB.")  # fmt: skip
    else:
        with st.spinner("Reading the file…"):
            read = your_model.read_uploads(
                weights_file.getvalue(), weights_file.name,
                vocab_file.getvalue() if vocab_file is not None else None, vocab_file.name if vocab_file else "",
            )  # fmt: skip
        st.session_state[READ_KEY] = (upload_id, read)
    if read.error:
        your_model.forget_bare_model(st.session_state)
        show_error(f"{weights_file.name}: {read.error}")
        st.stop()
    return read


def session_language_model(
    read: your_model.UploadRead, weights_file: UploadedFile, vocab_file: UploadedFile, upload_id: str
) -> str:
    """The name under which the uploaded language model is a model of this session, added once per
    upload; when the vocabulary does not fit the weights, the reason and the end of the run."""
    if read.vocab_error:
        show_error(f"{vocab_file.name}: {read.vocab_error}")
        st.stop()
    added = dict(st.session_state.get(ADDED_KEY) or {})
    name = added.get(upload_id)
    if name in model_store.session_model_names():
        return name
    try:
        label = your_model.model_label(weights_file.name, "words")
        built = model_files.build_language_model(read.model, read.vocab, label)
    except ValueError as error:
        show_error(f"{vocab_file.name}: {error}")
        st.stop()
    except Exception as error:  # noqa: BLE001 - the last resort: a file never shows a traceback on the page
        show_error(f"{vocab_file.name}: {your_model.unreadable_message(error, vocab_file.name)}")
        st.stop()
    name = model_store.add_session_model(built.model, your_model.model_label(weights_file.name, built.model.kind))
    added[upload_id] = name
    st.session_state[ADDED_KEY] = added
    st.session_state[NOTICES_KEY] = built.notices
    st.session_state["your_model_text"] = your_model.example_text(built.model.vocab, built.model.kind)
    return name


def input_vectors_or_stop(
    csv_file: UploadedFile | None, pasted: str | None, input_size: int
) -> tuple[np.ndarray, tuple[str, ...]]:
    """The (T, input_size) vectors of the uploaded CSV file, else of the box, and what reading them had
    to say; when there are none or they cannot be read, a message and the end of the run."""
    if csv_file is not None:
        if csv_file.size > model_files.MAX_INPUT_BYTES:
            show_error(f"{csv_file.name} is more than {model_files.MAX_INPUT_BYTES // 2**20} MB.")
            st.stop()
        try:
            source, csv_text = csv_file.name, csv_file.getvalue().decode("utf-8-sig")
        except UnicodeDecodeError:
            show_error(f"{csv_file.name} is not UTF-8 text.")
            st.stop()
    else:
        source, csv_text = "The input", pasted or ""
    if not csv_text.strip():
        st.info("Paste some vectors, upload a CSV file, or fill the box with the example.", icon=":material/edit_note:")
        st.stop()
    try:
        return model_files.read_input_vectors(csv_text, input_size)
    except ValueError as error:
        show_error(f"{source}: {error}.")
        st.stop()
    except Exception as error:  # noqa: BLE001 - as in session_language_model
        show_error(f"{source}: {your_model.unreadable_message(error, source)}")
        st.stop()
