"""CI runs the Zalo-vs-Telegram webhook benchmark once, tiny, as an operator would: it must
start both adapters in one ``papi-bot run`` and measure both (the script itself fails when
the replies it timed were not status changes)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_zalo_webhook.py"


def test_the_tiny_benchmark_measures_both_adapters(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--tiny"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TMPDIR": str(tmp_path)},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    text = done.stdout
    rows = {m[0]: float(m[1]) for m in re.findall(r"^(telegram|zalo)\s+([\d.]+)\s", text, re.M)}
    assert set(rows) == {"telegram", "zalo"} and all(rate > 0 for rate in rows.values()), text
    assert "load average" in text and "2 rounds" in text
    assert list(tmp_path.iterdir()) == [], "the benchmark left its files behind"
