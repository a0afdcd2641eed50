"""Mapping files (TOML): which column holds which canonical field, status words, options.

Format (docs/import.md, "Mapping files")::

    [columns]           # canonical field = column in the file
    complaint_id = "case_enquiry_id"
    [status]            # value in the file = open | closed | void
    Open = "open"
    [options]
    crs = "wgs84"       # wgs84 | gcj02 | bd09 | cgcs2000
    encoding = "auto"
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ingest.errors import InputError
from ingest.fields import FIELDS

STATUSES = ("open", "closed", "void")
OPTIONS = ("crs", "encoding", "sheet", "header_row", "timezone")


@dataclass
class Mapping:
    """A parsed mapping file."""

    columns: dict[str, str] = field(default_factory=dict)
    status: dict[str, str] = field(default_factory=dict)
    options: dict[str, object] = field(default_factory=dict)
    path: str | None = None


def load_mapping(path: str | Path, kind: str) -> Mapping:
    """Read and check a mapping file for records of ``kind``.

    Raises
    ------
    InputError
        Naming the file and the key, for a syntax error, an unknown section, an unknown
        canonical field, a status other than open / closed / void, or an unknown option.
    """
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise InputError(f"{p}: mapping file not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{p}: not a valid TOML mapping file ({exc})") from None
    unknown = set(data) - {"columns", "status", "options"}
    if unknown:
        raise InputError(
            f"{p}: unknown section [{sorted(unknown)[0]}]; expected [columns], [status], [options]"
        )
    m = Mapping(path=str(p))
    fields = FIELDS[kind]
    for canon, col in data.get("columns", {}).items():
        if canon not in fields:
            raise InputError(
                f"{p}: [columns] {canon} is not a field of {kind}; expected one of "
                + ", ".join(fields)
            )
        if not isinstance(col, str) or not col:
            raise InputError(f"{p}: [columns] {canon} must name a column, as a string")
        m.columns[canon] = col
    for value, canon in data.get("status", {}).items():
        if canon not in STATUSES:
            raise InputError(
                f"{p}: [status] {value!r} = {canon!r}: expected open, closed or void"
            )
        m.status[str(value)] = canon
    for key, value in data.get("options", {}).items():
        if key not in OPTIONS:
            raise InputError(f"{p}: [options] {key} is unknown; expected one of " + ", ".join(OPTIONS))
        m.options[key] = value
    return m
