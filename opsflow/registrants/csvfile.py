"""Read a seminar's registration-form export (CSV from Excel or a form service) into `Person` rows.

Copes with what organizers' files really contain: CP932 or UTF-8 with a BOM, Japanese column names,
full-width spaces and letters, blank rows, quoted line breaks, and the same person sent twice.
`RegistrantsFile` reads a file in passes without holding its rows (the import before each mail reads
it); `read_registrants` holds every person, for commands that show them.
"""

from __future__ import annotations

import contextlib
import io
import re
import unicodedata
from collections.abc import Container, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

from opsflow.core.errors import InputError
from opsflow.registrants.csvtext import (
    FORCE_IN_JOB,
    FORCE_OPTION,
    decode,
    detect_encoding,
    file_stat,
    numbered_records,
    read_bytes,
    without_bom,
)

ROLES = ("email", "name", "family_name", "given_name", "organization", "department", "language")

# Default header names per role, best first; compared after `_header_key` (NFKC, lower case, no spaces).
# "メールアドレス(確認用)" is deliberately absent: a confirmation column stays in `fields`.
CANDIDATES: dict[str, tuple[str, ...]] = {
    "email": (
        "メールアドレス",
        "メール",
        "eメール",
        "e-mail",
        "email",
        "mail",
        "mailaddress",
        "emailaddress",
        "e-mailaddress",
    ),
    "name": ("氏名", "お名前", "名前", "参加者名", "参加者氏名", "name", "fullname"),
    "family_name": ("姓", "苗字", "lastname", "familyname", "surname"),
    "given_name": ("名", "firstname", "givenname"),
    "organization": (
        "所属",
        "自治体名",
        "団体名",
        "所属団体",
        "所属先",
        "会社名",
        "organization",
        "organisation",
        "company",
        "affiliation",
    ),
    "department": ("部署", "所属部署", "部署名", "課名", "department", "division"),
    "language": ("言語", "使用言語", "language", "lang"),
}

# What a language cell may say, compared after NFKC, stripping and lower case: the language's code.
LANGUAGE_WORDS = {"ja": "ja", "en": "en", "日本語": "ja", "英語": "en", "japanese": "ja", "english": "en"}
LANGUAGE_HINT = (
    "write ja or en (日本語, 英語, Japanese and English work too), or leave it blank for the seminar's language"
)

# Syntax only, no DNS. Local part: no '@', whitespace or control characters. Domain: ASCII labels of
# letters, digits and inner hyphens, at least one dot, and a top-level label of two or more letters.
_EMAIL_RE = re.compile(r"[^@\s\x00-\x1f\x7f-\x9f]+@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}")


@dataclass(frozen=True)
class Person:
    """One valid registrant. `row` is the spreadsheet row as Excel shows it (header = 1)."""

    email: str
    name: str
    family_name: str
    given_name: str
    organization: str
    department: str
    fields: dict[str, str]
    row: int
    language: str = ""  # "ja" or "en" from the language column; "" = the seminar's language


@dataclass(frozen=True)
class RowProblem:
    """A record that was skipped, and why."""

    row: int
    reason: str


@dataclass(frozen=True)
class Duplicate:
    """Several rows with one email address; the data of the last row was kept."""

    email: str
    rows: tuple[int, ...]


@dataclass(frozen=True)
class ColumnMap:
    """The header chosen for each role, "" when the file has none."""

    email: str
    name: str
    family_name: str
    given_name: str
    organization: str
    department: str
    language: str = ""


@dataclass(frozen=True)
class CsvRead:
    """Everything learned from one file: the people, and what was skipped or merged on the way."""

    path: Path
    encoding: str
    columns: ColumnMap
    headers: tuple[str, ...]
    people: list[Person]
    problems: list[RowProblem]
    duplicates: list[Duplicate]
    blank_rows: int
    header_row: int = 1  # the spreadsheet row of the header

    @property
    def count(self) -> int:
        return len(self.people)

    @property
    def emails(self) -> Container[str]:
        return {p.email for p in self.people}

    def iter_people(self) -> Iterator[Person]:
        return iter(self.people)


class RegistrantsFile:
    """A registrants CSV read without holding its rows. Opening it detects the encoding (one pass that
    only decodes), checks the header and scans the rows: problems, blank rows, every address, and
    when an address comes twice, the rows of each (the last one is kept). `iter_people()` reads the
    file again and yields the kept people in the order of their rows. What stays in memory is each
    person's address, never their data; a file that changes between the passes is an InputError.

    Bad rows become `problems`, never errors; a file that cannot be used at all (missing,
    undecodable, no email column) raises `InputError`. `encoding` None detects UTF-8 (with or without
    a BOM) or CP932. `columns` maps roles to header names over the defaults ("" turns a role off).
    `source` names the file in messages.
    """

    def __init__(
        self,
        path: Path,
        *,
        encoding: str | None = None,
        columns: dict[str, str] | None = None,
        source: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.source = str(path) if source is None else source
        wanted = _check_roles(columns or {}, self.source)
        self._codec, self.encoding = detect_encoding(self.path, encoding, self.source, FORCE_IN_JOB)
        self.file_stat = file_stat(self.path)
        with contextlib.closing(self._records()) as records:
            self._scan(records, wanted)

    def _scan(self, records: Iterator[tuple[int, list[str]]], wanted: dict[str, str]) -> None:
        header_row, header_cells = next(((row, cells) for row, cells in records if "".join(cells).strip()), (0, None))
        if header_cells is None:
            raise InputError(
                f"{self.source} is empty: it has no header row; export the registration form "
                f"again as CSV with its column names (氏名, メールアドレス, ...)"
            )
        headers = _unique_headers(header_cells)
        place = f"{self.source}:{header_row}"  # the header row, as Excel numbers it
        chosen = _choose_columns(headers, wanted, place)
        if chosen["email"] is None:
            raise InputError(
                f"{place}: no email column; the columns are: {', '.join(headers)}{_separator_hint(headers)}; "
                f'name it under [registrants.columns] email = "..." in the job file'
            )
        if chosen["name"] is None and chosen["family_name"] is None and chosen["given_name"] is None:
            raise InputError(
                f"{place}: no name column; the columns are: {', '.join(headers)}; "
                f'name it under [registrants.columns] name = "..." in the job file'
            )
        self.headers = tuple(headers)
        self.header_row = header_row
        self.columns = ColumnMap(**{role: "" if i is None else headers[i] for role, i in chosen.items()})
        self._reader = _RowReader(headers, chosen, self.source)
        self.problems: list[RowProblem] = []
        self.blank_rows = 0
        self._emails: set[str] = set()
        repeated: set[str] = set()
        for row, cells in records:  # the rest of the first pass, after the header
            if not "".join(cells).strip():
                self.blank_rows += 1
                continue
            outcome = self._reader.check(row, cells)
            if isinstance(outcome, RowProblem):
                self.problems.append(outcome)
                continue
            if outcome[0] in self._emails:
                repeated.add(outcome[0])
            self._emails.add(outcome[0])
        self.duplicates: list[Duplicate] = []
        self._superseded: set[int] = set()  # the rows of a person who comes again further down
        if repeated:
            self._find_rows_of(repeated)

    def _find_rows_of(self, repeated: set[str]) -> None:
        """Every row of the people who come more than once (a pass only when some do)."""
        rows: dict[str, list[int]] = {}
        for row, cells in self._records():
            if row > self.header_row and "".join(cells).strip():
                outcome = self._reader.check(row, cells)
                if not isinstance(outcome, RowProblem) and outcome[0] in repeated:
                    rows.setdefault(outcome[0], []).append(row)
        self.duplicates = [Duplicate(email, tuple(found)) for email, found in rows.items()]  # as they first appear
        self._superseded = {row for found in rows.values() for row in found[:-1]}

    @property
    def count(self) -> int:
        """How many people the file holds (duplicates merged)."""
        return len(self._emails)

    @property
    def emails(self) -> Container[str]:
        """Every person's address (to tell who is no longer in the file)."""
        return self._emails

    def iter_people(self) -> Iterator[Person]:
        """The people, each from their last row, in the order of those rows (another pass)."""
        self._check_unchanged()
        for row, cells in self._records():
            if row <= self.header_row or row in self._superseded or not "".join(cells).strip():
                continue
            person = self._reader.person(row, cells)
            if isinstance(person, Person):
                yield person
        self._check_unchanged()  # raised at the end too, so that the import's transaction is rolled back

    def _check_unchanged(self) -> None:
        if file_stat(self.path) != self.file_stat:
            raise InputError(f"{self.source} changed while it was being read: import it again")

    def _records(self) -> Generator[tuple[int, list[str]], None, None]:
        try:
            with self.path.open(encoding=self._codec, newline="") as text:
                yield from numbered_records(without_bom(text), self.source)
        except OSError as err:
            raise InputError(f"cannot read {self.source}: {err.strerror or err}") from None


def read_registrants(
    path: Path,
    *,
    encoding: str | None = None,
    columns: dict[str, str] | None = None,
    source: str | None = None,
) -> CsvRead:
    """Read a registrants CSV, every person held in `people` (see RegistrantsFile for the options and
    the errors)."""
    scanned = RegistrantsFile(path, encoding=encoding, columns=columns, source=source)
    return CsvRead(
        path=scanned.path,
        encoding=scanned.encoding,
        columns=scanned.columns,
        headers=scanned.headers,
        people=list(scanned.iter_people()),
        problems=scanned.problems,
        duplicates=scanned.duplicates,
        blank_rows=scanned.blank_rows,
        header_row=scanned.header_row,
    )


def normalise_email(value: str) -> str | None:
    """The address as stored: NFKC (full-width ＠ and letters become ASCII), stripped, lower case;
    None when it is not a valid address (syntax only: one @, a plain local part, a dotted ASCII domain)."""
    email = unicodedata.normalize("NFKC", value).strip().lower()
    return email if _EMAIL_RE.fullmatch(email) else None


def language_code(value: str) -> str | None:
    """ "ja" or "en" for what a form's language answer says (ja, en, 日本語, 英語, Japanese, English: any
    case, full-width letters and surrounding spaces tolerated); "" when blank; None when it is none of these."""
    word = unicodedata.normalize("NFKC", value).strip().lower()
    if not word:
        return ""
    return LANGUAGE_WORDS.get(word)


def split_name(name: str) -> tuple[str, str]:
    """(family, given) for Zoom from a display name: split at the first space (U+3000 included);
    a name without a space is all given name, as Zoom's first_name is the one it requires."""
    family, space, given = _collapse(name).partition(" ")
    return (family, given) if space else ("", family)


class _RowReader:
    """Turns the cells of one non-blank record into a `Person` or a `RowProblem`."""

    def __init__(self, headers: list[str], chosen: dict[str, int | None], source: str) -> None:
        self.width = len(headers)
        self.source = source
        email = chosen["email"]
        assert email is not None  # read_csv refuses a file without an email column before reading rows
        self.email: int = email
        self.name = chosen["name"]
        self.family = chosen["family_name"]
        self.given = chosen["given_name"]
        self.organization = chosen["organization"]
        self.department = chosen["department"]
        self.language = chosen["language"]
        self.language_header = headers[self.language] if self.language is not None else ""
        used = {i for i in chosen.values() if i is not None}
        self.field_columns = [(i, h) for i, h in enumerate(headers) if i not in used]

    def check(self, row: int, cells: list[str]) -> tuple[str, list[str], str, str, str] | RowProblem:
        """(email, the stripped values, name, family name, given name) of a record that holds a person,
        else what is wrong with it. A language the row's person cannot be mailed in is no row to skip
        but an InputError: skipping them would leave someone unregistered, guessing would mail them in
        a language they did not choose."""
        if len(cells) > self.width:
            extra = [c.strip() for c in cells[self.width :] if c.strip()]
            if extra:
                # An unquoted comma shifts every later value: better skipped than put in wrong columns.
                return RowProblem(
                    row,
                    f"{len(cells)} cells but the header has {self.width} columns "
                    f"(extra: {', '.join(repr(c) for c in extra)}); "
                    f"was a comma left unquoted?",
                )
        values = [c.strip() for c in cells[: self.width]]
        values += [""] * (self.width - len(values))

        raw_email = values[self.email]
        if not raw_email:
            return RowProblem(row, "no email address")
        email = normalise_email(raw_email)
        if email is None:
            shown = raw_email if raw_email.isprintable() else raw_email.encode("unicode_escape").decode("ascii")
            return RowProblem(row, f"'{shown}' is not a valid email address")

        family = _collapse(values[self.family]) if self.family is not None else ""
        given = _collapse(values[self.given]) if self.given is not None else ""
        name = _collapse(values[self.name]) if self.name is not None else ""
        if not name:
            name = " ".join(part for part in (family, given) if part)
        if not name:
            return RowProblem(row, "no name")
        if self.language is not None and language_code(values[self.language]) is None:
            raw = values[self.language]
            shown = raw if raw.isprintable() else raw.encode("unicode_escape").decode("ascii")
            raise InputError(
                f"{self.source} row {row}: {self.language_header} '{shown}' is not a language opsflow "
                f"mails in; {LANGUAGE_HINT}. Nothing was imported"
            )
        return email, values, name, family, given

    def person(self, row: int, cells: list[str]) -> Person | RowProblem:
        checked = self.check(row, cells)
        if isinstance(checked, RowProblem):
            return checked
        email, values, name, family, given = checked
        split_family, split_given = split_name(name)
        return Person(
            email=email,
            name=name,
            family_name=family or split_family,
            given_name=given or split_given,
            organization=_collapse(values[self.organization]) if self.organization is not None else "",
            department=_collapse(values[self.department]) if self.department is not None else "",
            fields={header: values[i] for i, header in self.field_columns},
            row=row,
            language=language_code(values[self.language]) or "" if self.language is not None else "",
        )


def _collapse(value: str) -> str:
    """Runs of whitespace (U+3000 included) become one ASCII space. Never NFKC: 髙 and 﨑 stay."""
    return " ".join(value.split())


def _header_key(header: str) -> str:
    return "".join(unicodedata.normalize("NFKC", header).lower().split())


def _check_roles(columns: dict[str, str], source: str) -> dict[str, str]:
    for role, header in columns.items():
        if role not in ROLES:
            raise InputError(
                f"{source}: unknown column role {role!r} in [registrants.columns]; the roles are: {', '.join(ROLES)}"
            )
        if not isinstance(header, str):
            raise InputError(f"{source}: [registrants.columns] {role} must be a column name in quotes, not {header!r}")
    return dict(columns)


def _separator_hint(headers: list[str]) -> str:
    """When the whole header is one cell with tabs or semicolons in it, say so."""
    if len(headers) == 1:
        for sep, name in (("\t", "tabs"), (";", "semicolons")):
            if sep in headers[0]:
                return f' (the values are separated by {name}, not commas: save the file as "CSV UTF-8")'
    return ""


def _unique_headers(cells: list[str]) -> list[str]:
    """Stripped headers; an empty one becomes "column N", a repeated one "name (2)", "name (3)"."""
    headers: list[str] = []
    taken: set[str] = set()
    for number, cell in enumerate(cells, start=1):
        base = cell.strip() or f"column {number}"
        header, count = base, 1
        while header in taken:
            count += 1
            header = f"{base} ({count})"
        taken.add(header)
        headers.append(header)
    return headers


def _choose_columns(headers: list[str], wanted: dict[str, str], place: str) -> dict[str, int | None]:
    """The column index for each role: the mapping from the job file first, then the defaults."""
    by_key: dict[str, int] = {}
    for i, header in enumerate(headers):
        by_key.setdefault(_header_key(header), i)
    chosen: dict[str, int | None] = {role: None for role in ROLES}
    for role, header in wanted.items():
        if not header.strip():
            continue  # "" turns the role off
        found = headers.index(header.strip()) if header.strip() in headers else by_key.get(_header_key(header))
        if found is None:
            raise InputError(
                f'{place}: [registrants.columns] {role} = "{header}" is not a column of '
                f"the file; the columns are: {', '.join(headers)}"
            )
        chosen[role] = found
    if "email" not in wanted:
        emails = _role_columns(headers, "email")
        if len(emails) > 1:
            raise _ambiguous(
                place,
                "email",
                [headers[i] for i in emails],
                '; name the one to use under [registrants.columns] email = "..." in the job file',
            )
    claimed = {i for i in chosen.values() if i is not None}
    for role in ROLES:
        if role in wanted:
            continue
        for candidate in CANDIDATES[role]:
            col = by_key.get(_header_key(candidate))
            if col is not None and col not in claimed:
                chosen[role] = col
                claimed.add(col)
                break
    return chosen


def _role_columns(headers: list[str], role: str) -> list[int]:
    """Every column whose header is one of the default names of `role` ("メールアドレス (2)", the second
    of two columns with one name, included)."""
    names = {_header_key(c) for c in CANDIDATES[role]}
    return [i for i, h in enumerate(headers) if _header_key(re.sub(r" \(\d+\)$", "", h)) in names]


def _ambiguous(place: str, role: str, headers: list[str], hint: str) -> InputError:
    shown = " and ".join(repr(h) for h in headers)
    return InputError(
        f"{place}: {len(headers)} columns could hold the {role} address ({shown}), and "
        f"opsflow will not guess which{hint}"
    )


@dataclass(frozen=True)
class Table:
    """Any CSV export (a survey's, say): its encoding, headers and non-blank rows by spreadsheet row."""

    encoding: str
    headers: tuple[str, ...]
    rows: list[tuple[int, dict[str, str]]]
    header_row: int = 1

    def column(self, role: str, source: str) -> str | None:
        """The header that holds `role` ("email") by the same default names as registrant CSVs; two such
        columns are an InputError naming both (`source` names the file)."""
        headers = list(self.headers)
        found = _role_columns(headers, role)
        if len(found) > 1:
            raise _ambiguous(
                f"{source}:{self.header_row}",
                role,
                [headers[i] for i in found],
                "; remove the other one from the file and import it again",
            )
        return headers[found[0]] if found else None


def read_table(path: Path, *, encoding: str | None = None, source: str | None = None, kind: str = "CSV file") -> Table:
    """Read a CSV with the same encoding detection as registrant files; no roles are required.

    `kind` names the file in messages ("survey answers CSV not found: ...")."""
    path = Path(path)
    source = str(path) if source is None else source
    text, used = decode(read_bytes(path, source, kind), encoding, source, FORCE_OPTION)
    headers: list[str] | None = None
    header_row = 1
    rows: list[tuple[int, dict[str, str]]] = []
    for row, cells in numbered_records(io.StringIO(text, newline=""), source):
        if not "".join(cells).strip():
            continue
        if headers is None:
            headers, header_row = _unique_headers(cells), row
            continue
        rows.append((row, {h: (cells[i].strip() if i < len(cells) else "") for i, h in enumerate(headers)}))
    if headers is None:
        raise InputError(f"{source} is empty: it has no header row")
    return Table(used, tuple(headers), rows, header_row)
