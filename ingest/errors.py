"""Errors for bad input: the message names the file, row, field and what was expected."""


class InputError(ValueError):
    """Input that cannot be imported at all (the database is left untouched)."""
