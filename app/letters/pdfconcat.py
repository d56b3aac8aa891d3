"""Concatenate the chunk PDFs of a batch page after page, holding one chunk in memory.

A batch of 10,000 letters is drawn in chunks (ReportLab keeps every page of a
canvas in memory until it is saved); this writes the chunks' objects straight
to the output file with renumbered references, so memory does not grow with
the number of chunks. pypdf's PdfWriter would keep every object until the end.

The chunks are ReportLab's own output (a plain xref table, objects one after the
other, no strings in what pages reach), so they are copied as bytes: only the
references and the font subset tags in the objects' dictionaries are rewritten,
and streams are copied untouched. Parsing and re-serialising every object with
pypdf took longer than drawing the pages.

That relies on how ReportLab lays out its files. ``self_check`` joins two sample chunks
and reads the result back with pypdf at the start of a batch; when it does not hold
(or a part is not as expected, ``UnexpectedPDF``), the batch joins with
``join_with_pypdf``: the same pages, slower, holding the whole output in memory.
"""

from __future__ import annotations

import io
import itertools
import re
from collections import deque
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from pypdf import PdfWriter

_CATALOG, _PAGES, _INFO = 1, 2, 3
_XREF = re.compile(rb"xref\s+(\d+)\s+(\d+)\s+")
_HEADER = re.compile(rb"(\d+) 0 obj\s")
# A reference, or a page's /Parent (which becomes the output's page tree).
_REF = re.compile(rb"/Parent \d+ 0 R|(?<![\d.])(\d+) 0 R\b")
_SUBSET_TAG = re.compile(rb"/(BaseFont|FontName) /([A-Z]{6})\+")
_STREAM = b">>\nstream\n"


class UnexpectedPDF(ValueError):
    """A part is not laid out as ReportLab writes its files."""


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

    def write(self, number: int, body: bytes) -> None:
        """Object ``number``: ``body`` is everything after its ``N 0 obj`` line."""
        self.offsets[number] = self.out.tell()
        self.out.write(b"%d 0 obj\n" % number)
        self.out.write(body)

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


class _Part:
    """One chunk file: its bytes, and where each object starts and ends."""

    def __init__(self, path: Path) -> None:
        self.data = Path(path).read_bytes()
        self.spans = self._spans()

    def _spans(self) -> dict[int, tuple[int, int]]:
        data = self.data
        try:
            xref = int(data[data.rindex(b"startxref") + 9:].split()[0])
        except ValueError as exc:
            raise UnexpectedPDF("no startxref") from exc
        head = _XREF.match(data, xref)
        if head is None:
            raise UnexpectedPDF("no xref table where startxref points")
        first, count = int(head[1]), int(head[2])
        rows = data[head.end():head.end() + 20 * count]
        starts = {first + i: int(rows[20 * i:20 * i + 10]) for i in range(count)
                  if rows[20 * i + 17:20 * i + 18] == b"n"}
        # objects follow one another, the xref table after the last
        ends = sorted((*starts.values(), xref))
        following = dict(itertools.pairwise(ends))
        return {number: (start, following[start]) for number, start in starts.items()}

    def text(self, number: int) -> tuple[bytes, bytes]:
        """Object ``number`` after its ``N 0 obj`` line, in two parts: its dictionary (or
        value), where references are rewritten, and its stream with the keywords around
        it (empty when it has none), copied untouched."""
        start, end = self.spans[number]
        head = _HEADER.match(self.data, start)
        if head is None or int(head[1]) != number:
            raise UnexpectedPDF(f"object {number} is not where the xref says")
        body = self.data[head.end():end]
        cut = body.find(_STREAM)
        return (body, b"") if cut < 0 else (body[:cut + 2], body[cut + 2:])

    def pages(self) -> list[int]:
        """The page objects, in order, from the trailer's /Root down the page tree."""
        trailer = self.data[self.data.rindex(b"trailer"):]
        root = re.search(rb"/Root (\d+) 0 R", trailer)
        if root is None:
            raise UnexpectedPDF("no /Root in the trailer")
        tree = re.search(rb"/Pages (\d+) 0 R", self.text(int(root[1]))[0])
        if tree is None:
            raise UnexpectedPDF("no /Pages in the catalog")
        return self._leaves(int(tree[1]))

    def _leaves(self, number: int) -> list[int]:
        text = self.text(number)[0]
        if re.search(rb"/Type /Pages\b", text) is None:
            return [number]
        kids = re.search(rb"/Kids \[([^\]]*)\]", text)
        if kids is None:
            raise UnexpectedPDF(f"page tree node {number} has no /Kids")
        return [leaf for kid in re.findall(rb"(\d+) 0 R", kids[1])
                for leaf in self._leaves(int(kid))]


def _copy_part(writer: _Writer, path: Path) -> list[int]:
    """Write every page of ``path`` and what it references; return the new page numbers."""
    part = _Part(path)
    numbers: dict[int, int] = {}
    tags: dict[bytes, bytes] = {}
    queue: deque[int] = deque()

    def new_number(old: int) -> int:
        if old not in numbers:
            numbers[old] = writer.allocate()
            queue.append(old)
        return numbers[old]

    def reference(match: re.Match[bytes]) -> bytes:
        if match[1] is None:  # a page's parent: the output's page tree
            return b"/Parent %d 0 R" % _PAGES
        return b"%d 0 R" % new_number(int(match[1]))

    def retag(match: re.Match[bytes]) -> bytes:
        """Each part's font subsets are tagged AAAAAA+, AAAAAB+...: give them tags unique
        in the whole file, since some printers and viewers share fonts by name."""
        tag = tags.setdefault(match[2], writer.new_tag().encode())
        return b"/%s /%s+" % (match[1], tag)

    pages = [new_number(number) for number in part.pages()]
    while queue:
        old = queue.popleft()
        text, stream = part.text(old)
        writer.write(numbers[old], _SUBSET_TAG.sub(retag, _REF.sub(reference, text)) + stream)
    return pages


def concatenate(parts: Iterable[Path], out: BinaryIO, *, producer: str = "Hosho Desk") -> int:
    """Write the pages of ``parts`` in order to ``out``; return the page count."""
    writer = _Writer(out)
    kids: list[int] = []
    for part in parts:
        kids.extend(_copy_part(writer, part))
    writer.finish(kids, producer)
    return len(kids)


def join_with_pypdf(parts: Iterable[Path], out: BinaryIO, *,
                    producer: str = "Hosho Desk") -> int:
    """``concatenate`` through pypdf's public API; each part's font subsets retagged
    apart as ``concatenate`` does."""
    from pypdf import PdfReader, PdfWriter  # imported when needed: it slows the start-up

    writer = PdfWriter()
    for part in parts:
        writer.append(PdfReader(part))
    writer.add_metadata({"/Producer": producer})
    _retag_subsets(writer)
    writer.write(out)
    return len(writer.pages)


def _retag_subsets(writer: PdfWriter) -> None:
    from pypdf.generic import NameObject

    tags = _Writer(io.BytesIO())  # only its tag counter
    seen: set[int] = set()
    for page in writer.pages:
        fonts = page.get("/Resources", {}).get("/Font", {})
        for ref in fonts.values():
            font = ref.get_object()
            if id(font) in seen:
                continue
            seen.add(id(font))
            tag = tags.new_tag()
            descriptor = font.get("/FontDescriptor")
            for holder, key in ((font, "/BaseFont"),
                                (descriptor.get_object() if descriptor else None, "/FontName")):
                name = str(holder.get(key, "")) if holder is not None else ""
                if re.fullmatch(r"/[A-Z]{6}\+.+", name):
                    holder[NameObject(key)] = NameObject(f"/{tag}+{name[8:]}")


def _font_names(pages) -> set[str]:
    return {str(font.get_object()["/BaseFont"]) for page in pages
            for font in page["/Resources"]["/Font"].values()}


def self_check(parts: list[Path]) -> None:
    """Raise RuntimeError unless ``concatenate`` of ``parts`` (ReportLab chunks) reads back
    with pypdf as their pages, in order, with no subset tag shared across parts."""
    from pypdf import PdfReader

    readers = [PdfReader(part, strict=True) for part in parts]
    originals = [page for reader in readers for page in reader.pages]
    buffer = io.BytesIO()
    written = concatenate(parts, buffer)
    joined = PdfReader(io.BytesIO(buffer.getvalue()), strict=True).pages
    if written != len(originals) or len(joined) != len(originals):
        raise RuntimeError("joined page count differs")
    for copy, page in zip(joined, originals, strict=True):
        if copy.get_contents().get_data() != page.get_contents().get_data():
            raise RuntimeError("a joined page's contents differ")
        if copy.extract_text() != page.extract_text():
            raise RuntimeError("a joined page's text differs")
    if len(_font_names(joined)) != sum(len(_font_names(r.pages)) for r in readers):
        raise RuntimeError("font subset tags shared across parts")
