"""The analytics' notes in the interface's language.

The analytics write their notes in English (the command line and the logs read them so);
the app shows them in Chinese by default. Each known note has its Chinese form here, with
its numbers and names carried over; a note not known here is shown as it is.
"""

from __future__ import annotations

import re

from ui.common import language

#: (English pattern, Chinese template with the pattern's groups as {1}, {2}, …)
NOTES_ZH: list[tuple[re.Pattern[str], str]] = [(re.compile(p), zh) for p, zh in [
    (r"^no cells in the study area$", "研究区内没有网格单元"),
    (r"^a single cell: Gi\* needs at least two$", "只有一个网格单元：Gi* 至少需要两个"),
    (r"^all cells have the same count: no hot or cold spots \(zero variance\)$",
     "所有单元的计数相同：没有热点或冷点（方差为零）"),
    (r"^no records match the period and filters$", "所选时段和筛选条件下没有记录"),
    (r"^only (\d+) records: too few for Gi\* significance to mean much "
     r"\(at least (\d+) are advised\); read the bins with care$",
     "仅有 {1} 条记录：样本过少，Gi* 显著性的参考价值有限（建议至少 {2} 条），请谨慎解读"),
    (r"^(\d+) weekly bin\(s\): space-time Gi\* needs at least two weeks$",
     "只有 {1} 个周：时空 Gi* 至少需要两周"),
    (r"^every cell has the same count in every week: no hot or cold spots "
     r"\(zero variance\)$", "每个单元每周的计数都相同：没有热点或冷点（方差为零）"),
    (r"^the last week (\S+) is partial: records up to (\S+) only$",
     "最后一周 {1} 不完整：只含截至 {2} 的记录"),
]]


def note_text(note: str | None, lang: str | None = None) -> str:
    """``note`` (parts joined by ``; ``) in ``lang`` (default: the interface's language)."""
    if not note:
        return ""
    if (lang or language()) != "zh":
        return note
    pieces, out, i = note.split("; "), [], 0
    while i < len(pieces):  # a note may itself hold "; ": try the longest run first
        for j in range(len(pieces), i, -1):
            text = _zh("; ".join(pieces[i:j]))
            if text is not None:
                out.append(text)
                i = j
                break
        else:
            out.append(pieces[i])
            i += 1
    return "；".join(out)


def _zh(part: str) -> str | None:
    for pattern, zh in NOTES_ZH:
        m = pattern.match(part)
        if m:
            return zh.format(None, *m.groups())
    return None
