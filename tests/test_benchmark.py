"""The benchmark is a command, not a timed test; this only checks that it still runs and reports."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_core_benchmark_runs_and_prints_every_section():
    result = subprocess.run([sys.executable, "-m", "benchmarks.core_speed", "--quick"], cwd=ROOT,
                            capture_output=True, text=True, timeout=600)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    for expected in ("E=32   H=64   T=50", "E=128  H=256  T=2000", "Where the NumPy time goes", "tokens/s", "a Trace holds", "worst forward ratio"):
        assert expected in result.stdout


def test_page_benchmark_runs_and_reports_every_page_against_the_reference():
    result = subprocess.run([sys.executable, "-m", "benchmarks.page_speed", "--quick"], cwd=ROOT,
                            capture_output=True, text=True, timeout=600)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    for expected in ("/gates (50 words)", "/step (50 words)", "/tutorial", "/gradients?source=longlag", "/playground",
                     "/train", "reference", "KiB"):  # fmt: skip
        assert expected in result.stdout
    assert "raised" not in result.stdout


def test_load_test_runs_and_reports_latency_errors_and_memory():
    result = subprocess.run([sys.executable, "-m", "benchmarks.load_test", "--sessions", "2", "--seconds", "6",
                             "--interval", "1"], cwd=ROOT, capture_output=True, text=True, timeout=600)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    for expected in ("One session alone", "p50", "p95", "x the single session", "errors: 0", "server memory"):
        assert expected in result.stdout, result.stdout


def test_cold_start_runs_and_reports_both_measures_against_the_reference():
    result = subprocess.run([sys.executable, "-m", "benchmarks.cold_start", "--runs", "1"], cwd=ROOT,
                            capture_output=True, text=True, timeout=600)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    for expected in ("health check", "first page drawn", "reference", "ratio", "start to first /gates, words"):
        assert expected in result.stdout, result.stdout
