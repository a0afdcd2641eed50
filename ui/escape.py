"""Untrusted text (names, descriptions, addresses from the records) shown literally in
Streamlit's Markdown: st.markdown, st.caption, st.subheader, st.table cells and widget labels.

:func:`md_text` is the one escaping rule of the pages. Every character with a meaning in
Markdown, HTML or Streamlit's LaTeX (``$``) is written as a numeric character reference
(``&#60;`` for ``<``), which Markdown shows as the character itself and never as markup,
a link, an image, an emphasis or a formula. (A backslash escape is not enough: Markdown
does not honour it inside every construct, and Streamlit's LaTeX ignores it.)
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

#: Characters with a meaning in Markdown, HTML or Streamlit's LaTeX ($), written as numeric
#: character references.
MD_SPECIAL = frozenset("\\`*_{}[]()#+-.!|<>~$&:=\"'@^%")


def md_text(value: object) -> str:
    """``value`` as text that Markdown (st.table cells, st.markdown, labels) shows literally.

    Parameters
    ----------
    value : object
        Text, a number or a time; ``None`` and missing values give ``""``, a time is shown
        ``YYYY-MM-DD HH:MM``.

    Returns
    -------
    str
        One line (runs of white space, new lines included, become one space) with every
        character of :data:`MD_SPECIAL` as ``&#N;``.
    """
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        value = value.strftime("%Y-%m-%d %H:%M")
    text = " ".join(str(value).split())
    return "".join(f"&#{ord(c)};" if c in MD_SPECIAL else c for c in text)
