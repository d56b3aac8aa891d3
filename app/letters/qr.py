"""QR codes for the claim form: qrcode's symbol, with its mask chosen faster.

``qrcode`` picks the mask by building the whole symbol eight times and scoring
each with its pure-Python penalty rules: about 2 ms a code, more than drawing
the page it sits on. Here qrcode still encodes the data (codewords with error
correction), but the eight trial symbols are made by XOR-ing the data bits onto
per-version templates that qrcode itself built, and scored with the same rules
and ties as ``qrcode.util.lost_point`` on all rows (and all columns) packed into
one integer. The symbol is then the data XOR qrcode's own final template for the
chosen mask: the tests check it equals ``QRCode.make()`` on thousands of payloads.

That leans on qrcode's internals (``util.create_data``, ``makeImpl``, the ``setup_*``
steps, ``modules``). ``self_check`` compares the two ways on sample payloads at the start
of a batch; when they differ, or the internals are gone, the batch uses
``qrcode_matrix``, qrcode's own ``make``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import qrcode
from qrcode import util
from qrcode.constants import ERROR_CORRECT_M

Matrix = tuple[tuple[bool, ...], ...]
# The finder-like pattern of penalty rule 3 (dark-light-dark x3-light-dark, four light
# modules after it), read from bit 0 up; rule 3 also counts it reversed.
_FINDER = (1, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0)


def qr_matrix(payload: str, *, fast: bool = True) -> Matrix:
    """The QR modules (no quiet zone) for ``payload``, exactly as printed. ``fast=False``
    is qrcode's own ``make`` (the same symbol, slower)."""
    if not fast:
        return qrcode_matrix(payload)
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=1, border=0)
    code.add_data(payload)
    version = code.best_fit()
    shape = _shape(version)
    rows, cols = shape.place(util.create_data(version, ERROR_CORRECT_M, code.data_list))
    mask = min(range(8), key=lambda m: (shape.penalty(rows ^ shape.trial_rows[m],
                                                      cols ^ shape.trial_cols[m]), m))
    return shape.unpack(rows ^ shape.final_rows[mask])


def qrcode_matrix(payload: str) -> Matrix:
    """The symbol through qrcode's public API only."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=1, border=0)
    code.add_data(payload)
    code.make(fit=True)
    return tuple(tuple(bool(cell) for cell in row) for row in code.get_matrix())


def self_check(payloads: tuple[str, ...]) -> None:
    """Raise RuntimeError unless the faster mask choice gives qrcode's own symbol for
    every payload (or whatever error the internals raise)."""
    for payload in payloads:
        if qr_matrix(payload) != qrcode_matrix(payload):
            raise RuntimeError("QR symbol differs from qrcode's own")


@dataclass(frozen=True)
class _Shape:
    """One version's geometry. A symbol is held as one integer: row r's module c at bit
    r * stride + c, with a zero bit between rows (and likewise for its columns)."""

    size: int
    row_bits: tuple[int, ...]  # per data module in placement order: its bit by rows
    col_bits: tuple[int, ...]  # ... and by columns
    trial_rows: tuple[int, ...]  # per mask: qrcode's trial symbol with all data bits 0
    trial_cols: tuple[int, ...]
    final_rows: tuple[int, ...]  # per mask: qrcode's final symbol with all data bits 0
    pairs: int  # where a window of 2 modules starts, in every line
    blocks: int  # ... in every line but the last: where a 2x2 block starts
    windows: int  # where a window of len(_FINDER) modules starts, in every line

    @property
    def stride(self) -> int:
        return self.size + 1

    def place(self, data: list[int]) -> tuple[int, int]:
        """The data bits (1 = dark before masking), by rows and by columns."""
        rows = cols = 0
        count = len(data) * 8
        for index, (row_bit, col_bit) in enumerate(zip(self.row_bits, self.col_bits,
                                                       strict=True)):
            if index < count and (data[index >> 3] >> (7 - (index & 7))) & 1:
                rows |= row_bit
                cols |= col_bit
        return rows, cols

    def penalty(self, rows: int, cols: int) -> int:
        """``qrcode.util.lost_point`` of this symbol."""
        lost = self._runs_and_finders(rows) + self._runs_and_finders(cols)
        same = ~(rows ^ (rows >> self.stride))  # equal to the module below...
        blocks = same & (same >> 1) & ~(rows ^ (rows >> 1))  # ...and the 2x2 block agrees
        lost += 3 * (blocks & self.blocks).bit_count()
        dark = rows.bit_count()
        return lost + int(abs(float(dark) / self.size**2 * 100 - 50) / 5) * 10

    def _runs_and_finders(self, lines: int) -> int:
        # rule 1: a run of n >= 5 equal modules costs n - 2 (n - 1 equal neighbours)
        equal = ~(lines ^ (lines >> 1)) & self.pairs
        four = equal & (equal >> 1) & (equal >> 2) & (equal >> 3)
        lost = four.bit_count() + 2 * (four & ~(four >> 1)).bit_count()
        # rule 3: 40 for each finder-like pattern, either way round
        for pattern in (_FINDER, _FINDER[::-1]):
            hits = self.windows
            for offset, dark in enumerate(pattern):
                hits &= (lines if dark else ~lines) >> offset
            lost += 40 * hits.bit_count()
        return lost

    def unpack(self, rows: int) -> Matrix:
        bits = format(rows, f"0{self.stride * self.size}b")[::-1]
        return tuple(tuple(ch == "1" for ch in bits[r * self.stride:r * self.stride + self.size])
                     for r in range(self.size))


@lru_cache(maxsize=8)
def _shape(version: int) -> _Shape:
    blank = _blank(version)
    size, stride = len(blank), len(blank) + 1
    order = _placement(size, {(r, c) for r in range(size) for c in range(size)
                              if blank[r][c] is None})
    code = qrcode.QRCode(version=version, error_correction=ERROR_CORRECT_M, border=0)
    code.data_cache = []  # no data: every data module is its mask bit

    def packed(test: bool, mask: int) -> tuple[int, int]:
        code.makeImpl(test, mask)
        dark = [(r, c) for r in range(size) for c in range(size) if code.modules[r][c]]
        return (sum(1 << (r * stride + c) for r, c in dark),
                sum(1 << (c * stride + r) for r, c in dark))

    def lanes(width: int, lines: int) -> int:
        return sum(((1 << (size - width + 1)) - 1) << (r * stride) for r in range(lines))

    trials = [packed(True, mask) for mask in range(8)]
    return _Shape(size, tuple(1 << (r * stride + c) for r, c in order),
                  tuple(1 << (c * stride + r) for r, c in order),
                  tuple(t[0] for t in trials), tuple(t[1] for t in trials),
                  tuple(packed(False, mask)[0] for mask in range(8)),
                  lanes(2, size), lanes(2, size - 1), lanes(len(_FINDER), size))


def _blank(version: int) -> list[list[bool | None]]:
    """qrcode's symbol before data, built by its own steps (as ``makeImpl`` does): function
    patterns and light type/version information set, data modules None."""
    code = qrcode.QRCode(version=version, error_correction=ERROR_CORRECT_M, border=0)
    size = code.modules_count = version * 4 + 17
    code.modules = [[None] * size for _ in range(size)]
    for row, col in ((0, 0), (size - 7, 0), (0, size - 7)):
        code.setup_position_probe_pattern(row, col)
    code.setup_position_adjust_pattern()
    code.setup_timing_pattern()
    code.setup_type_info(True, 0)
    if version >= 7:
        code.setup_type_number(True)
    return code.modules


def _placement(size: int, data: set[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Data modules in the order ``QRCode.map_data`` fills them: two-column strips from
    the right, up and down in turn, skipping the vertical timing column."""
    order: list[tuple[int, int]] = []
    upward = True
    for right in range(size - 1, 0, -2):
        col = right - 1 if right <= 6 else right
        rows = range(size - 1, -1, -1) if upward else range(size)
        order += [(r, c) for r in rows for c in (col, col - 1) if (r, c) in data]
        upward = not upward
    return tuple(order)
