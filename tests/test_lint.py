"""The code stays ruff clean (configuration in pyproject.toml)."""

import shutil
import subprocess
import sys
from pathlib import Path


def test_ruff_clean():
    root = Path(__file__).resolve().parents[1]
    exe = shutil.which("ruff")
    cmd = [exe] if exe else [sys.executable, "-m", "ruff"]
    res = subprocess.run([*cmd, "check", str(root)], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
