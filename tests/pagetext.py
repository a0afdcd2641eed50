"""Everything a page shows as text, read from Streamlit's AppTest element tree, and the
words that must never reach a Chinese page (Python's missing values, English codes).

What counts as shown: every string field of every element's message (labels, values,
captions, options as the user sees them, help texts, Markdown and HTML bodies) and every
cell of a table or data frame. A data frame's missing cell shows as the frame's
``placeholder``: Streamlit's default there is the word ``None``, so a missing cell counts
as ``None`` unless the page set another placeholder.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pandas as pd
from google.protobuf.json_format import MessageToDict

#: Message fields that are not shown: element and form ids, widget keys, raw bytes.
HIDDEN_FIELDS = {"id", "formId", "key", "data", "arrowData", "styler", "uuid", "rawValue",
                 "default", "value", "setValue", "columns", "dataframeColumnConfig"}

#: Python's missing values and the English codes of record kinds, statuses, levels and
#: hot-spot categories, as whole words (a help text may still mention `python cli.py`).
FORBIDDEN = re.compile(
    r"(?<![\w./-])(None|nan|NaN|NaT|null|"
    r"complaints|inspections|inspection_points|points|boundaries(:\w+)?|zones(:\w+)?|"
    r"open|closed|void|unlocated|"
    r"(new|consecutive|intensifying|persistent|diminishing|sporadic|oscillating|historical)"
    r"_(hotspot|coldspot)|no_pattern)(?![\w-]|\.\w)")

#: Fields that hold code (a map's script, a chart's spec, an HTML page): there only quoted
#: values or JSON numbers count, e.g. a tooltip property ``"None"`` or ``NaN``.
CODE_FIELDS = ("jsonArgs", "spec", "srcdoc", "body")
IN_CODE = re.compile(r"[\"'>](None|nan|NaN|NaT|undefined)[\"'<]|:\s*NaN\b")


def _strings(obj, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(obj, str):
        yield path, obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            if k not in HIDDEN_FIELDS:
                yield from _strings(v, f"{path}.{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _strings(v, f"{path}[{i}]")


def _frame_texts(node, where: str) -> Iterator[tuple[str, str]]:
    try:
        df = node.value
    except Exception:  # noqa: BLE001 - an element without a frame
        return
    if not isinstance(df, pd.DataFrame):
        return
    proto = getattr(node, "proto", None)
    placeholder = getattr(proto, "placeholder", "") or "None"
    config = json.loads(getattr(proto, "columns", "") or "{}")
    for col in df.columns:
        label = (config.get(str(col)) or {}).get("label")
        yield f"{where} header", str(col) if label is None else label
        for i, v in enumerate(df[col].tolist()):
            missing = v is None or (not isinstance(v, (list, dict, str)) and pd.isna(v))
            text = placeholder if missing else str(v)
            if isinstance(v, float) and not missing and col and v == int(v) and abs(v) >= 1000:
                text = f"{v}"  # a count stored as float shows its decimals
            yield f"{where} [{i}, {col!r}]", text


def shown_texts(at) -> list[tuple[str, str]]:
    """(where, text) for everything the AppTest run ``at`` shows, main area and sidebar."""
    out: list[tuple[str, str]] = []

    def walk(node, where: str) -> None:
        kind = getattr(node, "type", type(node).__name__)
        proto = getattr(node, "proto", None)
        if proto is not None and hasattr(proto, "DESCRIPTOR"):
            out.extend((f"{where}/{kind}{p}", s) for p, s in _strings(MessageToDict(proto)))
        if kind in ("arrow_data_frame", "dataframe", "table", "arrow_table"):
            out.extend(_frame_texts(node, f"{where}/{kind}"))
        children = getattr(node, "children", None)
        if isinstance(children, dict):
            for k, child in children.items():
                walk(child, f"{where}/{k}")

    walk(at.main, "main")
    walk(at.sidebar, "sidebar")
    return out


def forbidden_words(at) -> list[str]:
    """Every shown text holding a forbidden word, as ``where: text`` lines."""
    out = []
    for where, text in shown_texts(at):
        code = where.rsplit(".", 1)[-1] in CODE_FIELDS and ("<" in text or "{" in text)
        m = (IN_CODE if code else FORBIDDEN).search(text)
        if m:
            lo = max(0, m.start() - 60)
            out.append(f"{where}: …{text[lo:m.end() + 60]!r}")
    return out
