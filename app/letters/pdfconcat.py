"""Concatenate PDF files page after page while holding only one input in memory.

A batch of 10,000 letters is drawn in chunks (ReportLab keeps every page of a
canvas in memory until it is saved); this writes the chunks' objects straight
to the output file with renumbered references, so memory does not grow with
the number of chunks. pypdf's PdfWriter would keep every object until the end.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from pypdf import PdfReader
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    PdfObject,
    StreamObject,
)

_CATALOG, _PAGES, _INFO = 1, 2, 3
_SUBSET_TAG = re.compile(r"^/([A-Z]{6})\+")
_FONT_NAME_KEYS = ("/BaseFont", "/FontName")


class _Writer:
    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.offsets: dict[int, int] = {}
        self.next_number = 4
        self.tags = 0
        out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")

    def new_tag(self) -> str:
        """A subset tag (six capitals) not used by any earlier part."""
        value, letters = self.tags, []
        self.tags += 1
        for _ in range(6):
            value, digit = divmod(value, 26)
            letters.append(chr(ord("A") + digit))
        return "".join(reversed(letters))

    def allocate(self) -> int:
        number = self.next_number
        self.next_number += 1
        return number

    def write(self, number: int, obj: PdfObject) -> None:
        self.offsets[number] = self.out.tell()
        self.out.write(f"{number} 0 obj\n".encode())
        obj.write_to_stream(self.out)
        self.out.write(b"\nendobj\n")

    def finish(self, kids: list[int], producer: str) -> None:
        kids_text = " ".join(f"{k} 0 R" for k in kids)
        raw = {
            _CATALOG: f"<< /Type /Catalog /Pages {_PAGES} 0 R >>",
            _PAGES: f"<< /Type /Pages /Count {len(kids)} /Kids [{kids_text}] >>",
            _INFO: f"<< /Producer ({producer}) >>",
        }
        for number, text in raw.items():
            self.offsets[number] = self.out.tell()
            self.out.write(f"{number} 0 obj\n{text}\nendobj\n".encode())
        xref = self.out.tell()
        size = self.next_number
        lines = [f"xref\n0 {size}\n", "0000000000 65535 f \n"]
        lines += [f"{self.offsets.get(n, 0):010d} 00000 n \n" if n in self.offsets
                  else "0000000000 65535 f \n" for n in range(1, size)]
        self.out.write("".join(lines).encode())
        self.out.write(f"trailer\n<< /Size {size} /Root {_CATALOG} 0 R /Info {_INFO} 0 R >>\n"
                       f"startxref\n{xref}\n%%EOF\n".encode())


def _copy_part(writer: _Writer, path: Path) -> list[int]:
    """Write every page of ``path`` and what it references; return the new page numbers."""
    reader = PdfReader(path)
    numbers: dict[int, int] = {}
    tags: dict[str, str] = {}
    queue: deque[int] = deque()

    def new_number(idnum: int) -> int:
        if idnum not in numbers:
            numbers[idnum] = writer.allocate()
            queue.append(idnum)
        return numbers[idnum]

    def remap(obj: PdfObject) -> PdfObject:
        if isinstance(obj, IndirectObject):
            return IndirectObject(new_number(obj.idnum), 0, None)
        if isinstance(obj, StreamObject):
            copy = obj.__class__()
            copy._data = obj._data
            for key, value in obj.items():
                copy[NameObject(key)] = remap(value)
            return copy
        if isinstance(obj, DictionaryObject):
            copy = DictionaryObject()
            for key, value in obj.items():
                copy[NameObject(key)] = (retag(value) if key in _FONT_NAME_KEYS
                                         else remap(value))
            return copy
        if isinstance(obj, ArrayObject):
            return ArrayObject(remap(v) for v in obj)
        return obj

    def retag(value: PdfObject) -> PdfObject:
        """Each part's font subsets are tagged AAAAAA+, AAAAAB+...: give them tags unique
        in the whole file, since some printers and viewers share fonts by name."""
        match = _SUBSET_TAG.match(str(value)) if isinstance(value, NameObject) else None
        if match is None:
            return remap(value)
        tag = tags.setdefault(match.group(1), writer.new_tag())
        return NameObject(f"/{tag}+{str(value)[8:]}")

    pages: list[int] = []
    for page in reader.pages:
        ref = page.indirect_reference
        pages.append(new_number(ref.idnum))
    while queue:
        idnum = queue.popleft()
        obj = reader.get_object(idnum)
        if isinstance(obj, DictionaryObject) and obj.get("/Type") == "/Page":
            copy = remap(DictionaryObject({k: v for k, v in obj.items() if k != "/Parent"}))
            copy[NameObject("/Parent")] = IndirectObject(_PAGES, 0, None)
            writer.write(numbers[idnum], copy)
        else:
            writer.write(numbers[idnum], remap(obj))
    return pages


def concatenate(parts: Iterable[Path], out: BinaryIO, *, producer: str = "Hosho Desk") -> int:
    """Write the pages of ``parts`` in order to ``out``; return the page count."""
    writer = _Writer(out)
    kids: list[int] = []
    for part in parts:
        kids.extend(_copy_part(writer, part))
    writer.finish(kids, producer)
    return len(kids)
