"""Helpers shared by the page tests (streamlit.testing.v1.AppTest)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def no_failure(at) -> None:
    """The page ran without an exception and shows no error box."""
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def page_script(folder: Path, module: str) -> Path:
    """A script in ``folder`` that renders the page ``views.<module>`` (for AppTest)."""
    path = Path(folder) / f"{module}_page.py"
    path.write_text(f"import sys\nsys.path.insert(0, {str(ROOT)!r})\n"
                    f"from views.{module} import render\nrender()\n", encoding="utf-8")
    return path


def run_page(script: Path, *, timeout: float = 120, query: dict | None = None,
             check: bool = True, **state):
    """Run ``script`` in AppTest with ``state`` in session_state and ``query`` in the URL;
    with ``check``, assert it ran without an exception or an error box."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(script), default_timeout=timeout)
    for k, v in state.items():
        at.session_state[k] = v
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    if check:
        no_failure(at)
    return at
