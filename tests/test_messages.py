"""Analytics speak in words: no error raised in analytics/ names a command-line flag, since
staff read the same messages on the pages; the command line puts the flag in front itself
(analytics.errors.OptionError.option). A message that tells which command loads missing data
(``python cli.py load-boundaries FILE --level district``) may quote that command."""

from __future__ import annotations

import ast
import re
import subprocess
import sys

from tests.conftest import ROOT

FLAG = re.compile(r"(?<![\w-])--[a-z]")
#: (file, why it may name a flag).
ALLOWED = {
    "analytics/outputs.py": "write_table is the command line's --out writer and nothing else",
}


def _flags_in_raises(source: str) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Raise) and node.exc is not None:
            for sub in ast.walk(node.exc):
                if isinstance(sub, ast.Constant) and isinstance(sub.value, str) \
                        and FLAG.search(sub.value) and "python cli.py" not in sub.value:
                    found.append((node.lineno, sub.value))
    return found


def test_no_analytics_error_names_a_flag():
    found = [f"{p.relative_to(ROOT)}:{line}: {text!r}"
             for p in sorted((ROOT / "analytics").glob("*.py"))
             if str(p.relative_to(ROOT)) not in ALLOWED
             for line, text in _flags_in_raises(p.read_text(encoding="utf-8"))]
    assert not found, "analytics errors that speak in flags:\n" + "\n".join(found)


def test_the_check_sees_a_flag():
    assert _flags_in_raises('def f():\n    raise ValueError(f"--res {r}: bad")\n')
    assert not _flags_in_raises('def f():\n    raise ValueError("the resolution is bad")\n')
    assert not _flags_in_raises('def f():\n    raise ValueError("run python cli.py demo --end D")\n')


def test_the_command_line_puts_the_flag_in_front(tmp_path, district_db):
    out = subprocess.run([sys.executable, str(ROOT / "cli.py"), "--db",
                          str(district_db), "repeats", "--start", "2026-11-23",
                          "--end", "2026-11-22", "--out", str(tmp_path / "r.csv")],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    assert "--start: the period starts on 2026-11-23, after its end 2026-11-22" in out.stderr
