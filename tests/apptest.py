"""Helpers shared by the page tests (streamlit.testing.v1.AppTest)."""

from __future__ import annotations


def no_failure(at) -> None:
    """The page ran without an exception and shows no error box."""
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
