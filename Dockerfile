# LSTM Gate Explorer: one app process. Build and run (deploy/README.md says why the restart policy and the
# memory limit):
#   docker build -t lstm-gate-explorer .
#   docker run -d --restart unless-stopped --memory 2g --memory-swap 2g -p 8501:8501 lstm-gate-explorer
# For more than one process behind nginx, see deploy/README.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
# One BLAS thread: the app's matrices are small, and OpenBLAS's extra thread spins on another core
# after every product (it kept a core busy under benchmarks.load_test).
ENV OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
WORKDIR /app

# torch==2.13.0 from PyPI is a multi-GB CUDA build: take the CPU build from PyTorch's own index first,
# then the rest (pip sees 2.13.0+cpu satisfies the pin in requirements.txt).
COPY requirements.txt .
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu \
    && pip install -r requirements.txt

# The app, its pages, core and shipped models; no tests, no benchmarks.
COPY app.py ./
COPY .streamlit ./.streamlit
COPY lstm_core ./lstm_core
COPY ui ./ui
COPY views ./views
COPY assets ./assets

RUN useradd --create-home --uid 10001 app
USER app

EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import urllib.request, sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).read() != b'ok')"
CMD ["streamlit", "run", "app.py", "--server.headless=true", "--server.address=0.0.0.0", "--server.port=8501", \
     "--server.fileWatcherType=none", "--browser.gatherUsageStats=false"]
