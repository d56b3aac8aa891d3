"""Logging to a file in the user data folder, with personal data kept out.

Log lines never carry names, phone numbers, addresses or account numbers:
services log ids and case numbers only, and this filter masks digit runs long
enough to be a phone or account number in case one slips through.

A database error is the one place personal data would slip through wholesale:
the driver's text (PostgreSQL's "Failing row contains (...)", "Key (...)=(...)")
and SQLAlchemy's echo of the statement's parameters hold other people's names,
e-mail and addresses. So an exception is never logged by its text when it
comes from the database layer: the log keeps its class, its SQLSTATE or SQLite
error code, the names of the table, column and constraint, and the frames of
its traceback (file, line, function, source line; never local values).
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import traceback
from contextlib import suppress
from logging.handlers import RotatingFileHandler
from pathlib import Path

from app.core.files import private_folder

_LONG_DIGITS = re.compile(r"\d[\d-]{8,}\d")
# Packages whose exceptions' text may echo a statement's parameters or a row.
_DATABASE_PACKAGES = {"sqlalchemy", "psycopg", "psycopg2", "psycopg_binary", "sqlite3",
                      "_sqlite3", "sqlmodel"}
log = logging.getLogger("hosho")


def _from_database(exc: BaseException) -> bool:
    return any(k.__module__.split(".")[0] in _DATABASE_PACKAGES for k in type(exc).__mro__)


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and what caused it, innermost first (as tracebacks print them)."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and not any(current is s for s in seen):
        seen.append(current)
        current = current.__cause__ or (None if current.__suppress_context__
                                        else current.__context__)
    return seen[::-1]


def _codes(exc: BaseException) -> list[str]:
    """What identifies a database error without its text: SQLSTATE, SQLite's code, and the
    schema names PostgreSQL reports (table, column, constraint; never values)."""
    parts: list[str] = []
    for err in (exc, getattr(exc, "orig", None)):
        if err is None:
            continue
        sqlstate = getattr(err, "sqlstate", None) or getattr(err, "pgcode", None)
        if sqlstate:
            parts.append(f"SQLSTATE {sqlstate}")
        if getattr(err, "sqlite_errorname", None):
            parts.append(str(err.sqlite_errorname))
        diag = getattr(err, "diag", None)
        for label in ("table", "column", "constraint"):
            name = getattr(diag, f"{label}_name", None) if diag is not None else None
            if name:
                parts.append(f"{label} {name}")
    return list(dict.fromkeys(parts))


def _name(exc: BaseException) -> str:
    kind = type(exc)
    return kind.__qualname__ if kind.__module__ == "builtins" else (
        f"{kind.__module__}.{kind.__qualname__}")


def exception_summary(exc: BaseException) -> str:
    """One line safe to show or log: the class (and its cause's) with the database codes;
    the text only when nothing in the chain comes from the database layer."""
    chain = _chain(exc)
    hidden = any(_from_database(e) for e in chain)
    names = " <- ".join(_name(e) for e in reversed(chain))
    codes = [c for e in reversed(chain) for c in _codes(e)]
    text = "" if hidden else f": {exc}"
    return names + (f" ({', '.join(dict.fromkeys(codes))})" if codes else "") + text


def describe_exception(exc: BaseException) -> str:
    """A traceback whose frames are all there and whose messages carry no database text."""
    chain = _chain(exc)
    hidden = any(_from_database(e) for e in chain)
    lines: list[str] = []
    for index, err in enumerate(chain):
        if index:
            lines.append("\nThe above exception led to the following one:\n")
        lines.append("Traceback (most recent call last):\n")
        lines += traceback.StackSummary.extract(traceback.walk_tb(err.__traceback__),
                                                capture_locals=False).format()
        codes = _codes(err)
        head = _name(err) + (f" ({', '.join(codes)})" if codes else "")
        lines.append(f"{head}: [text withheld: database error]\n" if hidden
                     else f"{head}: {err}\n")
    return "".join(lines)


class SafeFormatter(logging.Formatter):
    """Every logged traceback goes through describe_exception, whoever logs it."""

    def formatException(self, ei) -> str:
        return describe_exception(ei[1]).rstrip("\n")

    def format(self, record: logging.LogRecord) -> str:
        # Another handler may have cached its own (unsafe) rendering of the traceback.
        cached, record.exc_text = record.exc_text, None
        try:
            return super().format(record)
        finally:
            record.exc_text = cached


def _safe_arg(value: object) -> object:
    return exception_summary(value) if isinstance(value, BaseException) else value


class PersonalDataFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_safe_arg(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _safe_arg(v) for k, v in record.args.items()}
        message = record.getMessage()
        record.msg = _LONG_DIGITS.sub("[masked]", message)
        record.args = ()
        return True


def new_reference() -> str:
    """A reference an operator can read out: eight hex digits, e.g. 3FA9-C21B."""
    raw = secrets.token_hex(4).upper()
    return f"{raw[:4]}-{raw[4:]}"


def report_bug(exc: BaseException, what: str = "unexpected error") -> str:
    """Log an unexpected error once, with its reference, and return the reference (shown
    to the user, who can quote it; the log line carries the same)."""
    reference = getattr(exc, "hosho_reference", None)
    if reference:
        return reference
    reference = new_reference()
    log.error("%s [ref %s]: %s", what, reference, exception_summary(exc),
              exc_info=(type(exc), exc, exc.__traceback__))
    with suppress(AttributeError):  # asked again (a second message): the same reference
        exc.hosho_reference = reference
    return reference


class _PrivateFileHandler(RotatingFileHandler):
    """Log files (the current one and the rotated ones) readable by their owner only."""

    def _open(self):
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        if hasattr(os, "fchmod"):  # POSIX: a log left 0644 by an older version is tightened
            with suppress(OSError):
                os.fchmod(fd, 0o600)
        return os.fdopen(fd, self.mode.replace("w", "a"), encoding=self.encoding,
                         errors=self.errors)


def setup_logging(folder: Path, level: int = logging.INFO) -> Path:
    private_folder(folder)
    path = folder / "hosho.log"
    handler = _PrivateFileHandler(path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
    handler.setFormatter(SafeFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(PersonalDataFilter())
    root = logging.getLogger()
    root.setLevel(level)
    root.addHandler(handler)
    # SQLAlchemy logs statements and parameters at INFO: never into this file.
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)
    return path
