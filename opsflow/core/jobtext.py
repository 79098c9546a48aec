"""The text of a job file: which line holds each key, TOML syntax errors with their line and a hint,
and how deep lists and tables nest. `opsflow.core.jobspec` uses it to name the place of every problem."""

from __future__ import annotations

import re
from typing import Any

from opsflow.core.errors import JobFileError

MAX_DEPTH = 50  # nesting of [ and { in a job file; tomllib itself recurses and fails a few hundred deep


def key_path(loc: tuple[Any, ...]) -> str:
    """('mail', 1, 'at') -> 'mail[2].at' (list positions are 1-based, as people count tables)."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part + 1}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def find_line(lines: dict[str, int], key: str) -> int | None:
    """The line of `key`, or of its nearest enclosing table when the key itself is not written."""
    while key:
        if key in lines:
            return lines[key]
        key = re.sub(r"(\[\d+\]|\.[^.\[]*)$", "", key) if ("." in key or "[" in key) else ""
    return None


_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_ASSIGN = re.compile(
    r"^\s*((?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*'))*)\s*="
)


def locate_keys(text: str) -> dict[str, int]:
    """Map key paths to 1-based line numbers by scanning the TOML text (tables, arrays of tables, keys).

    Only lines that start outside any string, array or inline table can name a key, so the contents of
    multi-line strings and arrays are never mistaken for keys.
    """
    lines: dict[str, int] = {}
    counts: dict[str, int] = {}
    table = ""
    scanner = _ValueScanner()
    for number, line in enumerate(text.splitlines(), start=1):
        if not scanner.is_idle:
            scanner.feed(line)
            continue
        header = _HEADER.match(line)
        if header and not _ASSIGN.match(line):
            name = _dotted(header.group(2))
            if header.group(1) == "[[":
                parent = _array_parent(name, counts)
                counts[parent] = counts.get(parent, 0) + 1
                table = f"{parent}[{counts[parent]}]"
            else:
                table = _array_parent(name, counts)
            lines.setdefault(table, number)
            continue
        assign = _ASSIGN.match(line)
        if assign:
            key = _dotted(assign.group(1))
            lines.setdefault(f"{table}.{key}" if table else key, number)
            scanner.feed(line[assign.end() :])
    return lines


_TOML_HINTS = (
    (r"^Invalid value$", "Invalid value: write text in quotes, a number, true or false, a date, or a list in [ ]"),
    (r"^Cannot overwrite a value$", "a key is set twice: write each key once in its table"),
    (r"^Cannot declare \((.*?),?\) twice$", "the table [{0}] is written twice: keep one and move its keys there"),
    (
        r"^Illegal character '\\n'$",
        'a string is not closed on its line: add the closing quote (use """ for text over several lines)',
    ),
    (r"^Invalid date or datetime$", "Invalid date or datetime: check that the day exists in that month"),
)


def syntax_error(name: str, text: str, error: str) -> JobFileError:
    """A tomllib error as a JobFileError with its line (the line where an unclosed value opens, when
    tomllib only says "at end of document") and a hint for the usual mistakes."""
    match = re.search(r"\(at line (\d+), column \d+\)", error)
    reason = re.sub(r"\s*\((at line \d+, column \d+|at end of document)\)", "", error)
    line = int(match.group(1)) if match else (_open_line(text) or len(text.splitlines()) or 1)
    for pattern, hint in _TOML_HINTS:
        found = re.match(pattern, reason)
        if found:
            reason = hint.format(*(g.replace("'", "").replace(", ", ".") for g in found.groups()))
            break
    lines = text.splitlines()
    if 0 < line <= len(lines) and "\uff1d" in lines[line - 1]:
        reason += " (this line has a full-width \uff1d: write = instead)"
    return JobFileError(f"TOML syntax error: {reason}", path=name, line=line)


def _open_line(text: str) -> int | None:
    """The line where a list, inline table or multi-line string opens that is still open at the end."""
    scanner, opened = _ValueScanner(), None
    for number, line in enumerate(text.splitlines(), start=1):
        was_idle = scanner.is_idle
        scanner.feed(line)
        if scanner.is_idle:
            opened = None
        elif was_idle:
            opened = number
    return opened


def too_deep_line(text: str) -> int | None:
    """The first line where lists and inline tables nest deeper than MAX_DEPTH, if any."""
    scanner = _ValueScanner()
    for number, line in enumerate(text.splitlines(), start=1):
        scanner.feed(line)
        if scanner.peak > MAX_DEPTH:
            return number
    return None


def too_deep(name: str, line: int | None) -> JobFileError:
    return JobFileError(
        f"TOML syntax error: lists or tables nested more than {MAX_DEPTH} deep; a job file needs only a few levels",
        path=name,
        line=line,
    )


class _ValueScanner:
    """Follows strings (with escapes), comments and bracket depth across the lines of a TOML value."""

    def __init__(self) -> None:
        self.quote: str | None = None  # the open string's delimiter: one or three quote characters
        self.depth = 0  # open [ and { outside strings
        self.peak = 0  # the deepest `depth` seen

    @property
    def is_idle(self) -> bool:
        return self.quote is None and self.depth == 0

    def feed(self, line: str) -> None:
        i = 0
        while i < len(line):
            if self.quote:
                if self.quote[0] == '"' and line[i] == "\\":
                    i += 2
                    continue
                if line.startswith(self.quote, i):
                    i += len(self.quote)
                    self.quote = None
                    continue
                i += 1
                continue
            char = line[i]
            if char == "#":
                break
            if char in "\"'":
                self.quote = char * 3 if line.startswith(char * 3, i) else char
                i += len(self.quote)
                continue
            if char in "[{":
                self.depth += 1
                self.peak = max(self.peak, self.depth)
            elif char in "]}":
                self.depth = max(0, self.depth - 1)
            i += 1
        if self.quote in ('"', "'"):
            self.quote = None  # a one-line string cannot span lines: TOML itself reports that


def _dotted(raw: str) -> str:
    parts = re.findall(r"\"[^\"]*\"|'[^']*'|[^.\s]+", raw)
    return ".".join(p.strip("\"'") for p in parts)


def _array_parent(name: str, counts: dict[str, int]) -> str:
    """Within `[[event.speakers]]`, `event` may itself be an array; index by the latest element."""
    parts = name.split(".")
    out = ""
    for part in parts[:-1]:
        out = f"{out}.{part}" if out else part
        if out in counts:
            out = f"{out}[{counts[out]}]"
    return f"{out}.{parts[-1]}" if out else parts[-1]
