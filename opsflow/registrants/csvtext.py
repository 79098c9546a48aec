"""The bytes of a CSV file as text: UTF-8 (with or without a BOM) and CP932 told apart, or an encoding
given; files that are no CSV (a workbook, a PDF, UTF-16) named; records numbered as Excel shows rows.
`detect_encoding` decodes a block at a time, so that a file is never held whole to find its encoding.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from opsflow.core.errors import InputError

# What Python's cp932 makes of the bytes 0x80, 0xA0, 0xFD, 0xFE and 0xFF, which Excel never writes.
_CP932_UNUSED = re.compile("[\x80\uf8f0-\uf8f3]")


def read_bytes(path: Path, source: str, kind: str = "registrants CSV", *, limit: int = -1) -> bytes:
    """The file's bytes (its first `limit` bytes), once it is known to be a file that can be read and
    not another kind of document saved as .csv. `source` names it in messages, `kind` says what it is."""
    try:
        with path.open("rb") as raw:
            data = raw.read(limit)
    except FileNotFoundError:
        raise InputError(f"{kind} not found: {source}") from None
    except IsADirectoryError:
        raise InputError(f"cannot read {source}: it is a folder, not a CSV file") from None
    except OSError as err:
        raise InputError(f"cannot read {source}: {err.strerror or err}") from None
    for magic, what in _NOT_CSV:
        if data.lstrip()[: len(magic)].lower() == magic:
            raise InputError(
                f"cannot read {source}: it is {what}, not a CSV file; open it and save it as "
                '"CSV UTF-8" (Excel: File > Save As)'
            )
    return data


# The first bytes of files that are often saved or downloaded with a .csv name by mistake.
_NOT_CSV = (
    (b"pk\x03\x04", "an Excel workbook (.xlsx) or another ZIP file"),
    (b"\xd0\xcf\x11\xe0", "an old Excel workbook (.xls)"),
    (b"%pdf", "a PDF document"),
    (b"\x89png", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"\xff\xfe", 'UTF-16 text (Excel\'s "Unicode Text")'),
    (b"\xfe\xff", "UTF-16 text"),
    (b"<!doctype html", "a web page (HTML)"),
    (b"<html", "a web page (HTML)"),
)
_BLOCK = 1 << 16  # bytes read at a time
FORCE_IN_JOB = 'set encoding = "..." under [registrants] in the job file'
FORCE_OPTION = "give the encoding with --encoding"


def detect_encoding(path: Path, encoding: str | None, source: str, force: str) -> tuple[str, str]:
    """(the codec to read `path` with, the encoding to report), as `decode` decides them, decoding
    the file a block at a time instead of holding its text."""
    head = read_bytes(path, source, limit=_BLOCK)
    if encoding is None:
        if _decodes(path, "utf-8"):
            return "utf-8", "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
        if _decodes(path, "cp932", reject=_CP932_UNUSED):
            return "cp932", "cp932"
    elif _known_codec(encoding, source) and _decodes(path, encoding):
        return encoding, encoding
    decode(read_bytes(path, source), encoding, source, force)  # says what is wrong, and where
    raise AssertionError(f"{source}: decoded in blocks but not whole")  # pragma: no cover


def _known_codec(encoding: str, source: str) -> bool:
    try:
        b"x".decode(encoding, "replace")  # a text encoding ("base64" is known to codecs, but not one)
    except LookupError:
        raise InputError(
            f'{source}: unknown encoding {encoding!r}; use "utf-8" (also for UTF-8 '
            f'with a BOM) or "cp932" (Shift_JIS from Excel)'
        ) from None
    return True


def _decodes(path: Path, codec: str, reject: re.Pattern[str] | None = None) -> bool:
    """Whether the whole file is `codec` text (and none of it matches `reject`), a block at a time."""
    decoder = codecs.getincrementaldecoder(codec)()
    try:
        with path.open("rb") as raw:
            while block := raw.read(_BLOCK):
                text = decoder.decode(block)
                if reject is not None and reject.search(text):
                    return False
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    except OSError as err:
        raise InputError(f"cannot read {path}: {err.strerror or err}") from None
    return True


def without_bom(lines: Iterable[str]) -> Iterator[str]:
    """The lines of a text file, a byte order mark at its start left out."""
    first = True
    for line in lines:
        yield line.removeprefix("\ufeff") if first else line
        first = False


def file_stat(path: Path) -> tuple[int, int]:
    """(size, modification time): what changes when the file is written again."""
    try:
        info = path.stat()
    except OSError as err:
        raise InputError(f"cannot read {path}: {err.strerror or err}") from None
    return info.st_size, info.st_mtime_ns


def decode(data: bytes, encoding: str | None, source: str, force: str) -> tuple[str, str]:
    """The text of the file and the codec used; a BOM never reaches the first header. `force` says how
    to name the encoding when it cannot be detected."""
    if encoding is None:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            if text.startswith("\ufeff"):
                return text[1:], "utf-8-sig"
            return text, "utf-8"
        try:
            # cp932, not shift_jis: only Microsoft's table has 髙, 﨑 and the other vendor characters.
            cp932: str | None = data.decode("cp932")
        except UnicodeDecodeError:
            cp932 = None
        # Python's cp932 decodes bytes that Excel never writes instead of failing: another encoding.
        if cp932 is not None and not _CP932_UNUSED.search(cp932):
            return cp932, "cp932"
        raise InputError(
            f"cannot read {source}: it is neither UTF-8 nor CP932 (Shift_JIS) text; "
            f'save it from Excel as "CSV UTF-8", or {force}'
        )
    try:
        codecs.lookup(encoding)
        text = data.decode(encoding)
    except LookupError:
        raise InputError(
            f'{source}: unknown encoding {encoding!r}; use "utf-8" (also for UTF-8 '
            f'with a BOM) or "cp932" (Shift_JIS from Excel)'
        ) from None
    except UnicodeDecodeError as err:
        row = _row_at(data[: err.start], encoding)
        raise InputError(
            f"cannot read {source} as {encoding}: row {row} has bytes that are not "
            f"{encoding} text; remove the encoding setting to detect UTF-8 or CP932, or "
            f'save the file from Excel as "CSV UTF-8"'
        ) from None
    return text.removeprefix("\ufeff"), encoding


def _row_at(prefix: bytes, encoding: str) -> int:
    """The spreadsheet row of the record that continues after `prefix` (for decode errors)."""
    text = prefix.decode(encoding, errors="replace") + "x"  # "x" stands for the bad byte
    try:
        return sum(1 for _ in csv.reader(io.StringIO(text, newline="")))
    except csv.Error:
        return text.count("\n") + 1


def numbered_records(lines: Iterable[str], source: str) -> Iterator[tuple[int, list[str]]]:
    """(row, cells) for each CSV record of `lines` (read with newline=""); a record with quoted line
    breaks is one row, as in Excel."""
    reader = csv.reader(lines)
    row = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            raise InputError(f"{source}: row {row + 1} cannot be read as CSV: {err}") from None
        row += 1
        yield row, cells
