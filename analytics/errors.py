"""A question the analytics cannot answer as asked.

The message is in words, for whoever reads it: staff on a page or a user of the command
line. ``option`` names the parameter that is wrong (``weeks``, ``start``…), so the command
line can put its flag in front (``--weeks: …``) without the analytics speaking in flags.
"""

from __future__ import annotations


class OptionError(ValueError):
    """A parameter of an analytic is out of its range; ``option`` names it (or None)."""

    def __init__(self, message: str, option: str | None = None) -> None:
        super().__init__(message)
        self.option = option
