"""The docs stay true to the code (after datasette's test_docs.py)."""

import re
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
    from config.settings import SETTINGS

    text = (DOCS / "settings.md").read_text(encoding="utf-8")
    rows = [ln for ln in text.splitlines() if ln.startswith("| `")]
    documented = {ln.split("`")[1] for ln in rows}
    assert documented == {s.name for s in SETTINGS}


# --- links: every page and docstring points at a file of this repository -------------------

ROOT = DOCS.parent
#: ``[text](target)`` or ``[text](target "title")``; images too.
MD_LINK = re.compile(r"\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
#: ``docs/name.md`` written as a path from the repository root (backquoted or not), but not
#: as the tail of another path (``../other/docs/x.md``).
DOCS_PATH = re.compile(r"(?<![\w./-])docs/[\w./-]*\w\.md")
SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", ".pytest_cache",
             ".ruff_cache"}


def _pages() -> list[Path]:
    return [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]


def _python_files() -> list[Path]:
    """Every .py of the repository but this test (whose examples name missing pages)."""
    here = Path(__file__).resolve()
    return sorted(p for p in ROOT.rglob("*.py")
                  if not SKIP_DIRS.intersection(p.relative_to(ROOT).parts)
                  and p.resolve() != here)


def _inside(target: Path) -> bool:
    return target.resolve().is_relative_to(ROOT.resolve())


def broken_links(page: Path) -> list[str]:
    """Relative links and ``docs/….md`` mentions of a page that name no file in the repo."""
    text = page.read_text(encoding="utf-8")
    bad = []
    for target in MD_LINK.findall(text):
        if re.match(r"[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("#"):
            continue  # http(s), mailto, an anchor in the page
        path = (page.parent / target.split("#")[0]).resolve()
        if not (_inside(path) and path.exists()):
            bad.append(f"[…]({target})")
    for mention in DOCS_PATH.findall(text):
        if not (ROOT / mention).is_file():
            bad.append(mention)
    return bad


@pytest.mark.parametrize("page", _pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_of_the_docs_resolves(page):
    bad = broken_links(page)
    assert not bad, f"{page.relative_to(ROOT)} links to missing files: {', '.join(bad)}"


def test_every_docs_page_cited_in_the_code_exists():
    missing = sorted({f"{p.relative_to(ROOT)}: {m}"
                      for p in _python_files()
                      for m in DOCS_PATH.findall(p.read_text(encoding="utf-8"))
                      if not (ROOT / m).is_file()})
    assert not missing, "docs pages cited but missing:\n" + "\n".join(missing)


def test_the_link_check_sees_a_broken_link(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("[ok](https://example.org) [gone](no_such_page.md) `docs/no_such.md`",
                    encoding="utf-8")
    assert broken_links(page) == ["[…](no_such_page.md)", "docs/no_such.md"]
