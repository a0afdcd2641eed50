"""The docs stay true to the code (after datasette's test_docs.py)."""

from pathlib import Path

import pytest

from cli import build_parser
from ingest.fields import ALIASES, FIELDS
from store.schema import TABLES

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.mark.parametrize("kind", sorted(FIELDS))
def test_every_recognised_header_is_documented(kind):
    text = (DOCS / "import.md").read_text(encoding="utf-8")
    section = text.split(f"### {kind}")[1].split("###")[0]
    for canon, names in ALIASES[kind].items():
        row = next((ln for ln in section.splitlines() if ln.startswith(f"| `{canon}`")), None)
        assert row is not None, f"{kind}.{canon} missing from docs/import.md"
        for n in names:
            assert f"`{n}`" in row, f"header {n!r} of {kind}.{canon} missing from docs/import.md"


@pytest.mark.parametrize("table", sorted(TABLES))
def test_every_table_is_documented(table):
    text = (DOCS / "schema.md").read_text(encoding="utf-8")
    assert f"`{table}`" in text


def test_every_command_is_in_the_readme():
    readme = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for name in sub.choices:
        assert f"`{name}" in readme, f"command {name} missing from README"


def test_every_setting_is_documented():
    from store.settings import SETTINGS

    text = (DOCS / "settings.md").read_text(encoding="utf-8")
    rows = [ln for ln in text.splitlines() if ln.startswith("| `")]
    documented = {ln.split("`")[1] for ln in rows}
    assert documented == {s.name for s in SETTINGS}
