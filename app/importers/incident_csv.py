"""Reading a reported-incident file, as the import contract describes.

Pure: no database, no Qt. ``read_incidents`` checks the file as a whole
(encoding, header, required columns) and returns an ``IncidentFile``; iterating
it streams one ``ParsedRow`` per non-blank data row, so memory stays flat
whatever the file size. The import service decides what becomes of each row
(accepted, duplicate, conflict); this module only says whether it is valid.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import os
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from app.core.clock import JST
from app.domain.channels import Channel
from app.domain.money import DEFAULT_INCIDENT_CEILING
from app.domain.text import email_key
from app.importers import fields as parse
from app.importers.columns import (
    FIELDS,
    IGNORE,
    MAX_COLUMNS,
    REQUIRED_FIELDS,
    ColumnMatch,
    MappingError,
    match_columns,
)
from app.importers.textfile import (
    CountingReader,
    FileRefused,
    delimiter_for,
    file_sha256,
    open_text,
    refuse,
    sniff_encoding,
)

__all__ = [
    "FIELDS",
    "IGNORE",
    "REQUIRED_FIELDS",
    "FileRefused",
    "IncidentFile",
    "IncidentRecord",
    "MappingError",
    "ParsedRow",
    "Preview",
    "RowError",
    "detect_file_encoding",
    "digest_differences",
    "field_digest",
    "file_sha256",
    "fingerprint",
    "preview",
    "read_incidents",
]

# Bumped whenever the canonical form changes, so old stored hashes never match new ones.
CONTENT_HASH_VERSION = 1
# A record spanning more lines than this is an unclosed quote, not an address.
MAX_RECORD_LINES = 30
# Characters one data row (or the header) may hold, all its lines together: far above
# any incident (whose fields add up to some 6,000), low enough that reading a hostile
# file keeps memory flat. The header may be longer, so that a header of a million
# columns is refused by its count of columns (MAX_COLUMNS), with that message.
MAX_RECORD_CHARS = 1_000_000
MAX_HEADER_CHARS = 16_000_000
CONTACT_FIELD = "phone/email"


@dataclass(frozen=True)
class RowError:
    """One reason a row is rejected.

    ``column`` is the header text as in the file (several joined by ' / ' for
    the phone-or-email rule, '' when no column applies), ``field`` the field
    name ('phone/email' for that rule, '' for a row-level problem).
    """

    column: str
    field: str
    ja: str
    en: str
    value: str = ""

    @property
    def message(self) -> str:
        where = f"{self.column}: " if self.column else ""
        return f"{where}{self.ja} / {self.en}"


@dataclass(frozen=True)
class IncidentRecord:
    """One valid incident, every field normalised. Absent optional fields are None."""

    report_id: str
    member_id: str | None
    name: str
    name_kana: str | None
    phone: str | None
    phone_digits: str | None
    email: str | None
    postal_code: str | None
    address: str | None
    channel: Channel
    occurred_at: datetime
    amount: int
    card_issuer: str | None
    card_last4: str | None
    contact_received_at: date | None
    merchant: str | None
    note: str | None

    def canonical(self) -> dict[str, str]:
        """The content compared between two sightings of one report_id.

        Phone by its digits, e-mail case-folded, the time in Japan time and
        whitespace runs in free text as one space: a re-export that differs
        only in such spelling is the same incident, not a conflict.
        """
        return dict(zip(_CANONICAL_NAMES, _canonical_values(self), strict=True))

    def content_hash(self) -> str:
        """SHA-256 hex of the canonical content (report_id included)."""
        payload = {"v": CONTENT_HASH_VERSION, **self.canonical()}
        data = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(data.encode("utf-8")).hexdigest()

    def differences(self, other: IncidentRecord) -> list[str]:
        """Field names whose canonical content differs, in file-contract order."""
        mine, theirs = self.canonical(), other.canonical()
        return [name for name in mine if mine[name] != theirs[name]]


def _squash(value: object) -> str:
    """Whitespace runs as one space, trimmed (str.split and re's \\s agree on whitespace)."""
    if value is None:
        return ""
    if type(value) is str:
        return " ".join(value.split())
    if isinstance(value, date):
        return value.isoformat()
    return " ".join(str(value).split())


def _canonical_values(r: IncidentRecord) -> list[str]:
    """IncidentRecord.canonical's values, in field order without phone_digits."""
    return [_squash(r.report_id), _squash(r.member_id), _squash(r.name), _squash(r.name_kana),
            r.phone_digits or "", email_key(r.email), _squash(r.postal_code),
            _squash(r.address), r.channel.value, r.occurred_at.astimezone(JST).isoformat(),
            str(r.amount), _squash(r.card_issuer), _squash(r.card_last4),
            _squash(r.contact_received_at), _squash(r.merchant), _squash(r.note)]


@dataclass(frozen=True)
class ParsedRow:
    """One non-blank data row: a record, or the errors that reject it (never both).

    ``line`` is the physical line where the record starts (1-based, the header
    counts). ``cells`` is the row exactly as read, aligned with ``header``
    (``IncidentFile.header``); ``raw`` is the same keyed by header text (the
    first column wins when two share a header).
    """

    line: int
    record: IncidentRecord | None
    errors: list[RowError]
    cells: tuple[str, ...]
    header: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.record is not None

    @property
    def raw(self) -> dict[str, str]:
        """Built on demand: an import of a million rows never asks for it."""
        raw: dict[str, str] = {}
        for index, text in enumerate(self.header):
            raw.setdefault(text, self.cells[index] if index < len(self.cells) else "")
        return raw


# ---------------------------------------------------------------- reading records


class _Source:
    """The file opened as text, yielding (first line, cells) for each non-blank record."""

    def __init__(self, path: Path, encoding: str, delimiter: str) -> None:
        self.encoding = encoding
        self.delimiter = delimiter
        self.text, self.counter = open_text(path, encoding)

    def __enter__(self) -> _Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.text.close()

    def records(self) -> Iterator[tuple[int, int, list[str]]]:
        """(first line, last line, cells); blank rows are skipped but still counted as lines."""
        lines = _BoundedLines(self.text, MAX_HEADER_CHARS)
        reader = csv.reader(lines, delimiter=self.delimiter)
        last = 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError:
                raise self._undecodable(last + 1) from None
            except _RecordTooLong as exc:
                raise _too_long(last + 1, exc.limit, header=exc.limit == MAX_HEADER_CHARS) from None
            except csv.Error as exc:
                if "field larger than field limit" in str(exc):
                    raise _cell_too_long(last + 1) from None
                raise self._broken(last + 1, exc) from None
            first, last = last + 1, reader.line_num
            lines.next_record()
            if any(cell.strip() for cell in cells):
                lines.limit = MAX_RECORD_CHARS
                yield first, last, cells

    def _undecodable(self, line: int) -> FileRefused:
        name = "UTF-8" if self.encoding.startswith("utf-8") else "Shift_JIS（CP932）"
        return refuse(
            f"{line}行目付近（{self.counter.bytes_read:,}バイト目まで）に{name}として読めない"
            "文字があります。途中で文字コードが変わっているか、ファイルが壊れています。",
            f"Near line {line} (within the first {self.counter.bytes_read:,} bytes) the file is "
            f"not valid {name}: its encoding changes part-way or it is damaged.",
        )

    def _broken(self, line: int, exc: csv.Error) -> FileRefused:
        return refuse(
            f'{line}行目から先をCSVとして読めません（{exc}）。引用符（"）が閉じていない可能性があります。',
            f"From line {line} on the file cannot be read as CSV ({exc}); "
            'a quote (") may be left open.',
        )


class _RecordTooLong(Exception):
    def __init__(self, limit: int) -> None:
        self.limit = limit


class _BoundedLines:
    """The text's lines for csv.reader, refusing a record longer than ``limit`` characters
    before it is held in memory: one huge line, or many lines inside an open quote."""

    def __init__(self, text: io.TextIOWrapper, limit: int) -> None:
        self.text = text
        self.limit = limit
        self.used = 0  # characters of the record being read

    def __iter__(self) -> _BoundedLines:
        return self

    def __next__(self) -> str:
        line = self.text.readline(self.limit - self.used + 1)
        if not line:
            raise StopIteration
        self.used += len(line)
        if self.used > self.limit:
            raise _RecordTooLong(self.limit)
        return line

    def next_record(self) -> None:
        self.used = 0


def _too_long(line: int, limit: int, *, header: bool) -> FileRefused:
    what_ja, what_en = ("見出し行", "The header row") if header else ("行", "The row")
    return FileRefused(
        f"{line}行目から始まる{what_ja}が{limit:,}文字を超えています。"
        "長すぎるセルがあるか、引用符（\"）が閉じていません。ファイルを確認してください。",
        f"{what_en} starting on line {line} is longer than {limit:,} characters: a cell is "
        'far too long or a quote (") is left open. Check the file.',
    )


def _cell_too_long(line: int) -> FileRefused:
    limit = csv.field_size_limit()
    return FileRefused(
        f"{line}行目から始まる行に{limit:,}文字を超えるセルがあります（"
        "引用符（\"）が閉じていない可能性があります）。ファイルを確認してください。",
        f"The row starting on line {line} has a cell longer than {limit:,} characters "
        '(a quote (") may be left open). Check the file.',
    )


def detect_file_encoding(path: str | Path) -> str:
    """'utf-8-sig', 'utf-8' or 'cp932'; FileRefused for anything else."""
    with open(path, "rb") as stream:
        return sniff_encoding(stream)


# ---------------------------------------------------------------- checking rows


class _RowChecker:
    """Turns cells into a ParsedRow, given which column holds which field."""

    def __init__(self, match: ColumnMatch, *, delimiter: str, now: datetime, ceiling: int) -> None:
        self.header = match.header
        self.header_cells = tuple(match.header)
        self.by_index = sorted(match.by_index.items())
        self.column_of = {name: match.header[index] for index, name in self.by_index}
        self.parsers = _parsers(now=now, ceiling=ceiling)
        self.delimiter = delimiter
        # An inner line with this many delimiters looks like rows swallowed by an open quote.
        self.swallow_delimiters = max(2, len(match.header) - 1)

    def check(self, first: int, last: int, cells: list[str]) -> ParsedRow:
        """Errors come row-level first, then column by column, then phone-or-email."""
        errors = self._layout_errors(first, last, cells)
        parsed: dict[str, Any] = dict.fromkeys(FIELDS)
        for index, name in self.by_index:
            text = cells[index].strip() if index < len(cells) else ""
            parsed[name] = self._field(name, text, errors)
        if parsed["phone"] is None and parsed["email"] is None and not self._has_contact(cells):
            errors.append(self._contact_error())
        record = None if errors else _record(parsed)
        return ParsedRow(first, record, errors, tuple(cells), self.header_cells)

    def _has_contact(self, cells: list[str]) -> bool:
        """Whether a phone or e-mail was given at all (an invalid one has its own error)."""
        return any(
            index < len(cells) and cells[index].strip()
            for index, name in self.by_index
            if name in ("phone", "email")
        )

    def _field(self, name: str, text: str, errors: list[RowError]) -> Any:
        if not text:
            if name in REQUIRED_FIELDS:
                errors.append(
                    self._error(name, "必須項目が空です。", "This value is required.", "")
                )
            return None
        try:
            return self.parsers[name](text)
        except parse.FieldProblem as problem:
            errors.append(self._error(name, problem.ja, problem.en, text))
            return None

    def _error(self, name: str, ja: str, en: str, value: str) -> RowError:
        return RowError(self.column_of.get(name, ""), name, ja, en, value)

    def _contact_error(self) -> RowError:
        columns = " / ".join(self.column_of[n] for n in ("phone", "email") if n in self.column_of)
        return RowError(
            columns,
            CONTACT_FIELD,
            "電話番号かメールアドレスのどちらかが必要です。",
            "A phone number or an e-mail address is required.",
        )

    def _layout_errors(self, first: int, last: int, cells: list[str]) -> list[RowError]:
        errors = []
        extra = [cell for cell in cells[len(self.header) :] if cell.strip()]
        if extra:
            errors.append(
                RowError(
                    "",
                    "",
                    f"見出しより列が{len(cells) - len(self.header)}個多くなっています"
                    "（金額の「1,000」が引用符なしで書かれている場合など）。",
                    f"The row has {len(cells) - len(self.header)} more cells than the header "
                    "(for example 1,000 written without quotes).",
                    self.delimiter.join(extra),
                )
            )
        if last > first and self._swallowed(first, last, cells):
            errors.append(
                RowError(
                    "",
                    "",
                    f'{first}〜{last}行目が1行として読まれました。引用符（"）が閉じていないため、'
                    "後続の行がこの行に含まれている可能性があります。",
                    f'Lines {first}-{last} were read as one row: an unclosed quote (") may '
                    "have swallowed the rows after it.",
                )
            )
        return errors

    def _swallowed(self, first: int, last: int, cells: list[str]) -> bool:
        if last - first + 1 > MAX_RECORD_LINES:
            return True
        return any(
            line.count(self.delimiter) >= self.swallow_delimiters
            for cell in cells
            if "\n" in cell or "\r" in cell
            for line in cell.splitlines()
        )

def _parsers(*, now: datetime, ceiling: int) -> dict[str, Callable[[str], Any]]:
    """Each field's parser, remembering its answers where values repeat across rows."""
    return {name: fn if name in _UNIQUE_FIELDS else _remembering(fn)
            for name, fn in parse.field_parsers(now=now, ceiling=ceiling).items()}


# Values that differ on almost every row: remembering them would only cost memory.
_UNIQUE_FIELDS = frozenset({"report_id", "note"})
# Per field and per import; forgotten all at once when full, so memory stays bounded.
MEMO_LIMIT = 8192
MEMO_TEXT_LIMIT = 200  # characters: names, dates and amounts are short; long text is rare


def _remembering(parser: Callable[[str], Any]) -> Callable[[str], Any]:
    """``parser`` with its answers kept: names, dates, amounts and channels repeat
    from row to row, and NFKC and the date forms are most of a row's cost.
    Parsers are pure (``now`` and the ceiling are fixed for the import)."""
    answers: dict[str, tuple[Any, tuple[str, str] | None]] = {}

    def parse_remembered(text: str) -> Any:
        answer = answers.get(text)
        if answer is None:
            answer = _answer(parser, text)
            if len(text) <= MEMO_TEXT_LIMIT:  # a long cell would make the cap one of bytes
                if len(answers) >= MEMO_LIMIT:
                    answers.clear()
                answers[text] = answer
        value, problem = answer
        if problem:  # a fresh exception each time: a raised one keeps its traceback
            raise parse.FieldProblem(*problem)
        return value

    return parse_remembered


def _answer(parser: Callable[[str], Any], text: str) -> tuple[Any, tuple[str, str] | None]:
    try:
        return parser(text), None
    except parse.FieldProblem as problem:
        return None, (problem.ja, problem.en)


def _record(parsed: dict[str, Any]) -> IncidentRecord:
    phone: parse.Phone | None = parsed.pop("phone")
    return IncidentRecord(
        **parsed,
        phone=phone.text if phone else None,
        phone_digits=phone.digits if phone else None,
    )


# ---------------------------------------------------------------- the file


class IncidentFile:
    """A checked incident file; iterate it for ParsedRows (each pass re-reads the file).

    The file is opened only while iterating. Progress: ``bytes_read`` (of the
    current or last pass) against ``size``. To cancel, stop iterating.
    Iterating raises FileRefused if a later part of the file proves
    unreadable; the caller must then discard the whole file.
    """

    def __init__(
        self,
        path: Path,
        *,
        encoding: str,
        delimiter: str,
        header_line: int,
        match: ColumnMatch,
        now: datetime,
        ceiling: int,
    ) -> None:
        self.path = path
        self.encoding = encoding
        self.delimiter = delimiter
        self.header_line = header_line
        self.header: list[str] = match.header
        self.columns: dict[str, str] = match.columns
        self.unknown_columns: list[str] = match.unknown
        self.size = os.path.getsize(path)
        self._match = match
        self._now = now
        self._ceiling = ceiling
        self._counter: CountingReader | None = None

    @property
    def bytes_read(self) -> int:
        return self._counter.bytes_read if self._counter else 0

    @cached_property
    def sha256(self) -> str:
        """SHA-256 hex of the file's bytes: a separate chunked read, done on first use."""
        return file_sha256(self.path)

    def __iter__(self) -> Iterator[ParsedRow]:
        checker = _RowChecker(
            self._match, delimiter=self.delimiter, now=self._now, ceiling=self._ceiling
        )
        with _Source(self.path, self.encoding, self.delimiter) as source:
            self._counter = source.counter
            records = source.records()
            _, _, header = next(records, (0, 0, []))
            if [cell.strip() for cell in header] != self.header:
                raise FileRefused(
                    "確認した後でファイルが変更されました。もう一度読み込んでください。",
                    "The file changed after it was checked: open it again.",
                )
            for first, last, cells in records:
                yield checker.check(first, last, cells)


def read_incidents(
    path: str | Path,
    *,
    now: datetime,
    mapping: Mapping[str, str] | None = None,
    ceiling: int = DEFAULT_INCIDENT_CEILING,
    delimiter: str | None = None,
) -> IncidentFile:
    """Check the file as a whole and return it ready to iterate.

    ``now`` is the import time (aware): later dates are refused. ``mapping``
    maps header text to a field name (or IGNORE). Raises FileRefused (not
    text, unknown encoding, no header, missing or ambiguous columns),
    MappingError (bad mapping) or OSError (cannot open).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    path = Path(path)
    encoding = detect_file_encoding(path)
    delimiter = delimiter or delimiter_for(path)
    header_line, header, _ = _head(path, encoding, delimiter, rows=0)
    match = match_columns(header, mapping)
    match.require_usable()
    return IncidentFile(
        path,
        encoding=encoding,
        delimiter=delimiter,
        header_line=header_line,
        match=match,
        now=now,
        ceiling=ceiling,
    )


def _head(
    path: Path, encoding: str, delimiter: str, rows: int
) -> tuple[int, list[str], list[tuple[int, list[str]]]]:
    """Header line, trimmed header cells, and (first line, cells) of the next ``rows`` rows."""
    with _Source(path, encoding, delimiter) as source:
        records = source.records()
        found = next(records, None)
        if found is None:
            raise refuse(
                "ファイルが空です（見出し行がありません）。",
                "The file is empty (there is no header row).",
            )
        sample = [(first, cells) for first, _last, cells in itertools.islice(records, rows)]
    header_line, _last, header = found
    if len(header) > MAX_COLUMNS:
        raise FileRefused(
            f"見出し行に{len(header):,}列あります。読み込めるのは{MAX_COLUMNS:,}列までです"
            "（取込の項目は16です）。不要な列を削除してください。",
            f"The header row has {len(header):,} columns; at most {MAX_COLUMNS:,} are "
            "read (an incident list has 16 fields). Delete the columns not needed.",
        )
    return header_line, [cell.strip() for cell in header], sample


# ---------------------------------------------------------------- preview


@dataclass(frozen=True)
class Preview:
    """What the import wizard shows before anything is imported.

    ``rows`` are (first line, cells) of the first data rows, unchecked.
    ``missing`` lists required fields no column provides; ``clashes`` the
    fields claimed by several columns; ``missing_contact`` is True when no
    column holds a phone or an e-mail. The file is usable when all are empty.
    """

    encoding: str
    delimiter: str
    header_line: int
    header: list[str]
    columns: dict[str, str]
    unknown_columns: list[str]
    missing: list[str]
    clashes: dict[str, list[str]]
    missing_contact: bool
    rows: list[tuple[int, list[str]]]

    @property
    def usable(self) -> bool:
        return not (self.missing or self.clashes or self.missing_contact)


def preview(
    path: str | Path,
    rows: int = 20,
    mapping: Mapping[str, str] | None = None,
    delimiter: str | None = None,
) -> Preview:
    """The header, detected mapping and first ``rows`` raw rows; reads only the start.

    Raises FileRefused for a file that is not text in an accepted encoding or
    has no header, MappingError for a bad mapping; column problems are
    reported in the result instead, for the operator to settle.
    """
    path = Path(path)
    encoding = detect_file_encoding(path)
    delimiter = delimiter or delimiter_for(path)
    header_line, header, sample = _head(path, encoding, delimiter, rows)
    match = match_columns(header, mapping)
    return Preview(
        encoding=encoding,
        delimiter=delimiter,
        header_line=header_line,
        header=match.header,
        columns=match.columns,
        unknown_columns=match.unknown,
        missing=match.missing,
        clashes=match.clashes,
        missing_contact=match.missing_contact,
        rows=sample,
    )


def field_digest(record: IncidentRecord) -> str:
    """A short fingerprint per canonical field, stored with each incident, so that a
    later conflict can name the fields that differ without keeping the old content."""
    return "".join(f"{zlib.crc32(value.encode('utf-8')):08x}"
                   for value in record.canonical().values())


def digest_differences(first: str, second: str) -> list[str]:
    """Field names whose fingerprints differ between two field_digest values."""
    names = list(_CANONICAL_NAMES)
    return [name for index, name in enumerate(names)
            if first[index * 8:index * 8 + 8] != second[index * 8:index * 8 + 8]]


_CANONICAL_NAMES = tuple(f.name for f in fields(IncidentRecord) if f.name != "phone_digits")


# The content hash is JSON with sorted keys; its order is fixed, so it is written directly:
# for each key in sorted order, its '"key":' prefix and where its value is (None: "v").
_HASH_PLAN = tuple((f'"{key}":', None if key == "v" else _CANONICAL_NAMES.index(key))
                   for key in sorted(("v", *_CANONICAL_NAMES)))
_json_string = json.encoder.encode_basestring  # ensure_ascii=False, as json.dumps below


def fingerprint(record: IncidentRecord) -> tuple[str, str]:
    """(content_hash, field_digest) from one canonical form: the import's hot path.

    The same bytes as ``content_hash``'s json.dumps, built without the general
    encoder: a test holds the two equal.
    """
    values = _canonical_values(record)
    version = str(CONTENT_HASH_VERSION)
    data = ",".join([prefix + (version if at is None else _json_string(values[at]))
                     for prefix, at in _HASH_PLAN])
    digest = "".join([f"{zlib.crc32(v.encode('utf-8')):08x}" for v in values])
    return hashlib.sha256(("{" + data + "}").encode("utf-8")).hexdigest(), digest
