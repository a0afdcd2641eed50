"""Words the pages share: the names of the record sources a page counts.

One definition, so that the situation map, the backlog page and the fringe page call the
same thing by the same name (analytics.cases names an inspection with problems a
督查问题 too).
"""

from __future__ import annotations

from ui.common import tr

#: Every source a page can count, in the order most pages offer them.
SOURCES = ("complaints", "inspections", "all")


def source_labels(order: tuple[str, ...] = SOURCES) -> dict[str, str]:
    """The sources in ``order`` with their label in the current language.

    Parameters
    ----------
    order : tuple of str
        Which of ``complaints``, ``inspections`` and ``all`` to offer, first the default.

    Returns
    -------
    dict
        Source code to label, in ``order`` (a radio's options and its ``format_func``).
    """
    words = {"complaints": tr("投诉工单", "Complaints"),
             "inspections": tr("督查问题", "Inspection problems"),
             "all": tr("全部", "All")}
    return {k: words[k] for k in order}
