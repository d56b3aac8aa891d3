"""Opening an incident file as text: encoding, delimiter, byte counting, digest.

Files come from Excel on Japanese Windows desks. The encoding is decided from
the bytes in a fixed order (BOM, strict UTF-8, strict CP932), never guessed by
a charset library: on short CP932 files those answer cp1252. The ``shift_jis``
codec is never used: it cannot decode ①, ㈱ or 髙 as Excel writes them.
"""

from __future__ import annotations

import codecs
import hashlib
import io
from pathlib import Path
from typing import BinaryIO

from app.core.errors import UserError

PREFIX_SIZE = 1 << 20  # enough Japanese text to tell UTF-8 from CP932 for sure

RESAVE_JA = (
    "Excelで「CSV UTF-8（コンマ区切り）」または「CSV（コンマ区切り）」形式で保存し直してください。"
)
RESAVE_EN = "Save it again from Excel as 'CSV UTF-8 (Comma delimited)' or 'CSV (Comma delimited)'."

# Files people pick by mistake in the file dialog, recognised by their first bytes.
_NOT_TEXT = (
    (
        b"PK\x03\x04",
        "Excelブック（.xlsx）などのZIP形式",
        "an Excel workbook (.xlsx) or another zip file",
    ),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "旧形式のExcelブック（.xls）",
        "an old Excel workbook (.xls)",
    ),
    (b"%PDF", "PDF", "a PDF document"),
    # Excel's "Unicode テキスト" is UTF-16 with a BOM; it would pass as neither encoding.
    (codecs.BOM_UTF16_LE, "UTF-16（Excelの「Unicode テキスト」）", "UTF-16 (Excel 'Unicode Text')"),
    (codecs.BOM_UTF16_BE, "UTF-16", "UTF-16"),
)


class FileRefused(UserError):
    """The whole file cannot be imported; ``ja``/``en`` say why and what to do.

    Raised by ``read_incidents`` and ``preview`` before any row is read, and
    also while iterating when a later part of the file turns out unreadable
    (a byte sequence invalid in the detected encoding, a NUL byte, broken
    quoting): the caller must then treat the whole file as refused.
    """


def refuse(ja: str, en: str) -> FileRefused:
    """A FileRefused whose message ends with how to fix the file."""
    return FileRefused(f"{ja}{RESAVE_JA}", f"{en} {RESAVE_EN}")


def delimiter_for(path: str | Path) -> str:
    """Tab for .tsv and .txt (Excel's 'Text (Tab delimited)'), comma otherwise."""
    return "\t" if Path(path).suffix.lower() in {".tsv", ".txt"} else ","


def detect_encoding(raw_prefix: bytes, *, complete: bool = True) -> str:
    """Name the codec for the first bytes of a file.

    ``complete`` says the bytes are the whole file; when False, a multibyte
    character cut at the end of the prefix is not held against an encoding.
    Raises FileRefused for binary files and for text in no accepted encoding.
    """
    refuse_if_not_text(raw_prefix, offset=0)
    return _choose_encoding(raw_prefix, complete=complete)


def _choose_encoding(data: bytes, *, complete: bool) -> str:
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    for encoding in ("utf-8", "cp932"):
        if _decodes(data, encoding, final=complete):
            return encoding
    raise refuse(
        "文字コードを判別できません（UTF-8でもShift_JIS（CP932）でもありません）。",
        "The file is neither UTF-8 nor Shift_JIS (CP932) text.",
    )


def refuse_if_not_text(chunk: bytes, *, offset: int) -> None:
    """Refuse workbooks, PDFs, UTF-16 and anything with NUL bytes (binary data)."""
    if offset == 0:
        for signature, what_ja, what_en in _NOT_TEXT:
            if chunk.startswith(signature):
                raise refuse(
                    f"このファイルは{what_ja}で、CSVではありません。",
                    f"This file is {what_en}, not CSV.",
                )
    nul = chunk.find(b"\x00")
    if nul >= 0:
        raise refuse(
            f"{offset + nul + 1:,}バイト目にNUL文字があり、テキストファイルではありません。",
            f"Byte {offset + nul + 1:,} is a NUL byte: this is not a text file.",
        )


# Python's cp932 maps the single bytes 0x80, 0xA0 and 0xFD-0xFF to U+0080 and private-use
# characters; Excel never writes them, so seeing them means the file is not CP932.
_CP932_STRAYS = frozenset("\x80\uf8f0\uf8f1\uf8f2\uf8f3")


def _decodes(data: bytes, encoding: str, *, final: bool) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        text = decoder.decode(data, final=final)
    except UnicodeDecodeError:
        return False
    return encoding != "cp932" or _CP932_STRAYS.isdisjoint(text)


def sniff_encoding(stream: BinaryIO) -> str:
    """Detect the encoding of a seekable binary stream, then rewind it.

    Decided on the first PREFIX_SIZE bytes. When those are all ASCII (English
    headers and numbers), the decision is made at the first non-ASCII byte
    instead, reading on in chunks so memory stays flat: that byte follows
    single-byte characters, so it starts a character in both encodings.
    """
    prefix = stream.read(PREFIX_SIZE)
    at_eof = len(prefix) < PREFIX_SIZE
    try:
        if at_eof or not prefix.isascii():
            return detect_encoding(prefix, complete=at_eof)
        refuse_if_not_text(prefix, offset=0)  # a NUL byte is ASCII
        return _encoding_after_ascii(stream, offset=len(prefix))
    finally:
        stream.seek(0)


def _encoding_after_ascii(stream: BinaryIO, *, offset: int) -> str:
    while True:
        chunk = stream.read(PREFIX_SIZE)
        if not chunk:
            return "utf-8"
        refuse_if_not_text(chunk, offset=offset)
        if not chunk.isascii():
            break
        offset += len(chunk)
    first = next(i for i, byte in enumerate(chunk) if byte >= 0x80)
    window = chunk[first:]
    window += stream.read(PREFIX_SIZE - len(window))
    refuse_if_not_text(window, offset=offset + first)
    complete = not stream.read(1)
    return _choose_encoding(window, complete=complete)


class CountingReader(io.RawIOBase):
    """A binary reader that counts bytes (for progress) and refuses NUL bytes.

    Every byte of the file passes through here on its way to the decoder, so
    a binary tail on an otherwise textual file is caught too.
    """

    def __init__(self, raw: BinaryIO) -> None:
        super().__init__()
        self._raw = raw
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        data = self._raw.read(len(buffer))
        refuse_if_not_text(data, offset=self.bytes_read)
        size = len(data)
        buffer[:size] = data
        self.bytes_read += size
        return size

    def close(self) -> None:
        self._raw.close()
        super().close()


def open_text(path: str | Path, encoding: str) -> tuple[io.TextIOWrapper, CountingReader]:
    """Open for the csv module: strict decoding, newline='' so quoted breaks survive."""
    counter = CountingReader(open(path, "rb"))  # noqa: SIM115 - closed with the wrapper
    text = io.TextIOWrapper(counter, encoding=encoding, errors="strict", newline="")
    return text, counter


def file_sha256(path: str | Path) -> str:
    """The hex SHA-256 of the file's bytes, read in chunks."""
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()
