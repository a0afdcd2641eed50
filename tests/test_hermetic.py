"""The suite is hermetic: it reads nothing outside the repository and no test depends on
the day it runs on.

* No file of the repository (tracked, or new and not ignored) names the folder beside the
  checkout that a fresh ``git clone`` does not have.
* No test module reads the calendar clock (``date.today()``, ``datetime.now()``,
  ``time.time()``, ``np.datetime64("now")`` …) except the few in ``CLOCK_ALLOWED``, each
  with its reason. Pin a test's "now" instead: ``tests.conftest.NOW``, ``now=`` of the code
  under test, or ``GRID_TODAY`` for the pages. Elapsed time (``time.monotonic``,
  ``time.perf_counter``) is fine.
"""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import NANNING, ROOT

TESTS = ROOT / "tests"

#: References to the folder beside the checkout, as text or as a path built in code
#: (``/ "shared" /``).
#: Also the two documents the code once cited from there (the external contract and the
#: domain primer): their definitions live in docs/ now.
OUTSIDE = re.compile(r"\.\./shared|shared/(?:data|docs)|[\"']shared[\"']\s*[/,)]"
                     r"|\b(?:contract|domain)\.md\b")
#: In Python: a path climbing from ``__file__`` (``.parents[N]``, ``.parent.parent``) or
#: from the repository's ``ROOT`` (``ROOT.parent``).
PARENTS = re.compile(r"__file__\W*(?:resolve\(\)\W*)?(?:parents\[(\d+)\]|((?:\.parent\b)+))")
ROOT_PARENT = re.compile(r"\bROOT\.parent\b")
#: Files allowed to contain them, with the reason.
OUTSIDE_ALLOWED = {
    "tests/test_hermetic.py": "this check and its examples",
}

#: Attribute calls that read the calendar clock, whatever they are called on.
CLOCK_ATTRS = {"today", "now", "utcnow"}
#: Module functions that read the calendar clock.
CLOCK_FUNCS = {"time.time", "time.time_ns", "time.localtime", "time.gmtime", "time.ctime",
               "time.asctime", "time.strftime"}
#: Constructors that read the clock when given "now" or "today".
CLOCK_STRINGS = {"datetime64", "Timestamp", "to_datetime", "Period"}
#: (test file, call) -> why that call may read the clock. Keep it short.
CLOCK_ALLOWED: dict[tuple[str, str], str] = {}


def _repo_files() -> list[str]:
    try:
        out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                              "--exclude-standard"], cwd=ROOT, capture_output=True,
                             check=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        pytest.skip("not a git checkout (git ls-files failed)")
    return sorted({f for f in out.decode("utf-8", "surrogateescape").split("\0") if f})


def climbs_out(name: str, line: str) -> bool:
    """Whether a line of the Python file ``name`` builds a path above the repository."""
    depth = len(Path(name).parts)  # tests/x.py: parents[1] (2 × .parent) is the root
    for m in PARENTS.finditer(line):
        up = int(m.group(1)) + 1 if m.group(1) is not None else m.group(2).count(".parent")
        if up > depth:
            return True
    return bool(ROOT_PARENT.search(line))


def outside_references(files: list[str], root: Path = ROOT) -> list[str]:
    """``path:line: text`` of every line naming the folder beside the checkout or, in
    Python, climbing above the repository."""
    found = []
    for name in files:
        path = root / name
        if name in OUTSIDE_ALLOWED or not path.is_file():
            continue  # allowed, or deleted in the working tree
        data = path.read_bytes()
        if b"\0" in data[:8000]:
            continue  # binary (git's own test)
        for n, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
            if OUTSIDE.search(line) or name.endswith(".py") and climbs_out(name, line):
                found.append(f"{name}:{n}: {line.strip()}")
    return found


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return "?"


def clock_calls(source: str) -> list[tuple[int, str]]:
    """(line, call) of every call in ``source`` that reads the calendar clock."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func)
        last = name.rsplit(".", 1)[-1]
        reads = (isinstance(node.func, ast.Attribute) and last in CLOCK_ATTRS
                 or name in CLOCK_FUNCS or name.endswith(tuple("." + f for f in CLOCK_FUNCS))
                 or (last in CLOCK_STRINGS and node.args
                     and isinstance(node.args[0], ast.Constant)
                     and str(node.args[0].value).strip().lower() in ("now", "today")))
        if reads:
            found.append((node.lineno, name))
    return found


def _test_sources() -> list[Path]:
    return sorted(p for p in TESTS.rglob("*.py") if "__pycache__" not in p.parts)


def test_no_file_points_outside_the_repository():
    found = outside_references(_repo_files())
    assert not found, ("files naming the folder beside the checkout (a fresh clone does not "
                       "have it; commit what the tests need under tests/fixtures or data/):\n"
                       + "\n".join(found))


def test_no_test_reads_the_calendar_clock():
    found = [f"{p.relative_to(ROOT)}:{line}: {call}()"
             for p in _test_sources()
             for line, call in clock_calls(p.read_text(encoding="utf-8"))
             if (str(p.relative_to(ROOT)), call) not in CLOCK_ALLOWED]
    assert not found, ("tests that depend on the day they run on (pin the time: "
                       "tests.conftest.NOW, now=..., GRID_TODAY):\n" + "\n".join(found))


def test_the_allow_lists_name_existing_files():
    for name in OUTSIDE_ALLOWED:
        assert (ROOT / name).is_file(), name
    for name, _ in CLOCK_ALLOWED:
        assert (ROOT / name).is_file(), name


# --- the checks see what they are for ---------------------------------------------------


@pytest.mark.parametrize("text", ["see ../sha" + "red/README.md", "in sha" + "red/data/x.csv",
                                  "``../sha" + "red/docs/contract.md``",
                                  "(see contr" + "act.md)", "the dom" + "ain.md primer",
                                  "ROOT / 'sha" + "red' / 'data'",
                                  "os.path.join('..', 'sha" + "red', 'x')",
                                  "'shared data'  # not found"])
def test_the_outside_check_sees_a_reference(tmp_path, text):
    (tmp_path / "a.md").write_text(f"line one\n{text}\n", encoding="utf-8")
    (tmp_path / "b.bin").write_bytes(b"\0\0" + text.encode())
    found = outside_references(["a.md", "b.bin", "gone.py"], tmp_path)
    assert found == ([] if text.endswith("# not found") else [f"a.md:2: {text}"])


@pytest.mark.parametrize(("name", "line", "out"), [
    ("tests/x.py", "Path(__file__).resolve().pare" + "nts[2] / 'x'", True),
    ("tests/x.py", "Path(__file__).resolve().parents[1] / 'data'", False),
    ("tests/fixtures/x.py", "Path(__file__).resolve().parents[2] / 'data'", False),
    ("cli.py", "Path(__file__).resolve().parent / 'data'", False),
    ("democity/build.py", "ROOT = Path(__file__).resolve().parent.parent", False),
    ("democity/build.py", "Path(__file__).resolve().parent.parent.par" + "ent", True),
    ("bench/x.py", "os.path.dirname(__file__)", False),
    ("tests/x.py", "x = ROOT.par" + "ent / 'other'", True),
])
def test_the_outside_check_sees_a_path_above_the_repository(name, line, out):
    assert climbs_out(name, line) is out


@pytest.mark.parametrize("call", ["dt.date.today()", "datetime.datetime.now()",
                                  "datetime.now(tz)", "dt.datetime.utcnow()", "time.time()",
                                  "time.localtime()", "pd.Timestamp.now()",
                                  "pd.Timestamp('now')", "np.datetime64('today', 'D')",
                                  "pd.to_datetime('Today')", "date.today()"])
def test_the_clock_check_sees_a_call(call):
    assert clock_calls(f"import time\n\ndef test_x(now):\n    x = {call}\n") == \
        [(4, call.split("(")[0])]


@pytest.mark.parametrize("code", ["now = NOW", "t = time.monotonic()",
                                  "t = time.perf_counter()", "def today(): pass",
                                  "x = pd.Timestamp('2026-11-23')", "x = np.datetime64(NOW)",
                                  "x = f(today)", "x = run(now=NOW)"])
def test_the_clock_check_lets_pinned_time_and_elapsed_time_pass(code):
    assert clock_calls(code) == []


def test_this_checkout_is_the_whole_world():
    """Nanning's districts come with the project: a missing file is an error, not a skip."""
    from democity.build import DISTRICTS_FILE

    assert NANNING == DISTRICTS_FILE
    assert NANNING.is_file() and NANNING.is_relative_to(ROOT)
    assert (NANNING.parent / "ATTRIBUTION.md").is_file()


def test_a_missing_chromium_skips_with_a_reason(monkeypatch):
    import tests.browser as browser

    monkeypatch.setattr(browser.shutil, "which", lambda name: None)
    assert browser.browser_available() == \
        "Debian's chromium is not installed (apt-get install chromium)"
