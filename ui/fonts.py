"""Find a CJK font for matplotlib, so Chinese labels render instead of empty boxes."""

from __future__ import annotations

from functools import lru_cache

from matplotlib import font_manager

PREFERRED = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Serif CJK SC", "WenQuanYi Zen Hei",
             "WenQuanYi Micro Hei", "Source Han Sans SC", "SimHei", "Microsoft YaHei")
INSTALL_HINT = "install a CJK font, e.g. `apt-get install fonts-noto-cjk` (Debian/Ubuntu)"


@lru_cache(maxsize=1)
def cjk_font_name() -> str | None:
    """Family name of an installed CJK font, or None."""
    names = {f.name for f in font_manager.fontManager.ttflist}
    for n in PREFERRED:
        if n in names:
            return n
    # a font installed after matplotlib built its cache: rebuild the cache once
    font_manager.fontManager = font_manager._load_fontmanager(try_read_cache=False)
    names = {f.name for f in font_manager.fontManager.ttflist}
    return next((n for n in PREFERRED if n in names), None)
