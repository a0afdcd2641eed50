"""Telling the text encoding of a CSV file: UTF-8 (with or without BOM), GBK/GB18030, UTF-16."""

from __future__ import annotations

import codecs
from dataclasses import dataclass

import charset_normalizer

from ingest.errors import InputError

#: Text encodings a user may name with --encoding (besides "auto").
KNOWN = ("utf-8", "utf-8-sig", "gbk", "gb18030", "gb2312", "utf-16", "big5")


@dataclass
class Decoded:
    """Text as UTF-8 bytes, the encoding found, and whether some lines were undecodable."""

    utf8: bytes
    encoding: str
    mixed: bool = False


def decode(data: bytes, name: str, encoding: str = "auto") -> Decoded:
    """Decode ``data`` (the bytes of file ``name``) to UTF-8 bytes.

    With ``encoding="auto"``: a BOM decides; else strict UTF-8; else GB18030 (a superset
    of GBK and GB2312, what Chinese Windows writes). A file that is mostly UTF-8 with a
    few lines in another encoding is decoded with U+FFFD in the bad places and flagged
    ``mixed``, so that the affected rows are rejected with a reason instead of loaded as
    garbled text.
    """
    if encoding and encoding.lower() not in ("auto", ""):
        enc = encoding.lower()
        try:
            codecs.lookup(enc)
        except LookupError:
            raise InputError(f"{name}: unknown encoding {encoding!r}; expected auto or one of "
                             + ", ".join(KNOWN)) from None
        try:
            text = data.decode(enc)
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise InputError(
                f"{name}: line {line} is not valid {encoding}; try --encoding auto"
            ) from None
        return Decoded(text.lstrip("\ufeff").encode("utf-8"), enc)
    if data.startswith(codecs.BOM_UTF8):
        body = data[len(codecs.BOM_UTF8):]
        return _utf8_or_mixed(body, name, "utf-8-sig")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return Decoded(data.decode("utf-16").encode("utf-8"), "utf-16")
        except UnicodeDecodeError:
            raise InputError(f"{name}: starts like UTF-16 but does not decode as UTF-16") from None
    try:
        data.decode("utf-8")
        return Decoded(data, "utf-8")
    except UnicodeDecodeError:
        pass
    good, bad, first_bad = _utf8_lines(data)
    if good > 0 and good >= 9 * bad:
        return _utf8_or_mixed(data, name, "utf-8")
    try:
        return Decoded(data.decode("gb18030").encode("utf-8"), "gb18030")
    except UnicodeDecodeError:
        pass
    if good > bad:  # not GBK either: a UTF-8 file with a few lines of another encoding
        return _utf8_or_mixed(data, name, "utf-8")
    guess = charset_normalizer.from_bytes(data[:1_000_000]).best()
    if guess is not None and guess.encoding:
        try:
            return Decoded(data.decode(guess.encoding).encode("utf-8"), guess.encoding)
        except (UnicodeDecodeError, LookupError):
            pass
    not_gbk = _first_line_not(data, "gb18030")
    if first_bad is not None and not_gbk is not None:
        raise InputError(
            f"{name}: the file mixes text encodings: line {first_bad} is not UTF-8 and line "
            f"{not_gbk} is not GBK/GB18030; save the file as UTF-8, or name its encoding "
            "with --encoding"
        )
    raise InputError(
        f"{name}: cannot tell the text encoding (not UTF-8, not GBK/GB18030); "
        "save the file as UTF-8 or GBK, or name it with --encoding"
    )


def _first_line_not(data: bytes, encoding: str) -> int | None:
    for number, line in enumerate(data.splitlines(), start=1):
        try:
            line.decode(encoding)
        except UnicodeDecodeError:
            return number
    return None


def _utf8_lines(data: bytes) -> tuple[int, int, int | None]:
    """Non-ASCII lines that are valid UTF-8, those that are not, and the first of those."""
    good = bad = 0
    first_bad = None
    for number, line in enumerate(data.splitlines(), start=1):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            good += 1
        except UnicodeDecodeError:
            bad += 1
            first_bad = first_bad or number
    return good, bad, first_bad


def _utf8_or_mixed(body: bytes, name: str, label: str) -> Decoded:
    try:
        body.decode("utf-8")
        return Decoded(body, label)
    except UnicodeDecodeError:
        text = body.decode("utf-8", errors="replace")
        return Decoded(text.encode("utf-8"), label, mixed=True)
