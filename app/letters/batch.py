"""Batches of letters: one PDF drawn in chunks and joined, or one PDF per letter.

The files are staged (owner-only temporary names, journalled) and appear only when
the caller places them; a refused letter is listed and the rest go on.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from reportlab.pdfgen.canvas import Canvas

from app.core.files import Staging, ensure_folder
from app.letters import pdfconcat
from app.letters.compose import LetterRenderer
from app.letters.errors import LetterError, UnprintableCharacterError
from app.letters.ink import PRODUCER
from app.letters.model import (
    BatchResult,
    LetterData,
    LetterSettings,
    RefusedLetter,
    RenderedLetter,
)

log = logging.getLogger(__name__)


def _refusal(letter: LetterData, exc: LetterError) -> RefusedLetter:
    if isinstance(exc, UnprintableCharacterError):
        return RefusedLetter(letter.reference, letter.letter_code, letter.kind, exc.message,
                             exc.field, exc.char, exc.codepoint, exc.ja, exc.en)
    return RefusedLetter(letter.reference, letter.letter_code, getattr(letter, "kind", ""),
                         exc.message, getattr(exc, "field", None), ja=exc.ja, en=exc.en)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def safe_file_name(letter: LetterData) -> str:
    """'H-0001234-4_guidance_G7K2-QX9P.pdf'; an application number keeps only letters,
    digits, '-' and '_' (it is the applicant's source's text)."""
    reference = re.sub(r"[^0-9A-Za-z_-]", "_", letter.reference)[:64] or "letter"
    return f"{reference}_{letter.kind.value}_{letter.letter_code}.pdf"


def render_letters(
    letters: Iterable[LetterData],
    out: Path,
    *,
    settings: LetterSettings | None = None,
    per_case_dir: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    staging: Staging | None = None,
) -> BatchResult:
    """Render letters into one PDF at ``out`` (each letter from a new page), or, when
    ``per_case_dir`` is given, one PDF per letter there (``out`` is then not written).

    Files are written under temporary names in the target folder (owner-only, listed
    in the program's journal of temporary files so that a crash leaves none after the
    next start). Without ``staging`` they are moved into place when the whole batch is
    done; with one, they stay there for the caller to place (``staging.place_all()``)
    once it has recorded the batch. After a cancel (``cancel()`` returned True, checked
    before each letter) or an error, nothing is left behind and ``out`` is untouched.
    Letters that cannot be printed (a character in no bundled font, incomplete data)
    are listed in ``refused``; the rest go on. ``progress(done, total)`` is called after
    each letter. The library shortcuts are self-checked once, here (shortcuts.py).
    """
    settings = settings or LetterSettings()
    renderer = LetterRenderer(settings)
    items = letters if isinstance(letters, Sequence) else list(letters)
    with contextlib.ExitStack() as stack:
        own = staging is None
        staged = stack.enter_context(Staging()) if own else staging
        if per_case_dir is not None:
            result = _render_per_case(renderer, items, Path(per_case_dir), progress, cancel,
                                      staged)
        else:
            result = _render_batch(renderer, items, Path(out), progress, cancel, staged)
        if own:
            staged.place_all()
        return result


def _render_batch(renderer: LetterRenderer, items: Sequence[LetterData], out: Path,
                  progress, cancel, staging: Staging) -> BatchResult:
    ensure_folder(out.parent)
    chunks: list[Path] = []
    placed: list[tuple[LetterData, int, int]] = []  # letter, first page, pages
    refused: list[RefusedLetter] = []
    page = 0
    canvas: Canvas | None = None
    in_chunk = 0
    try:
        for done, letter in enumerate(items, 1):
            if cancel is not None and cancel():
                _discard(staging, chunks)
                return BatchResult(None, refused=tuple(refused), cancelled=True)
            try:
                pages = renderer.compose(letter)
            except LetterError as exc:
                refused.append(_refusal(letter, exc))
            else:
                if canvas is None:
                    chunks.append(staging.new(out, f"{out.stem}-{len(chunks)}"))
                    canvas = renderer.new_canvas(str(chunks[-1]))
                renderer.draw(canvas, pages, letter)
                placed.append((letter, page + 1, len(pages)))
                page += len(pages)
                in_chunk += 1
                if in_chunk >= renderer.settings.chunk_letters:
                    canvas.save()
                    canvas, in_chunk = None, 0
            if progress is not None:
                progress(done, len(items))
        if canvas is not None:
            canvas.save()
        if not placed:
            _discard(staging, chunks)
            return BatchResult(None, refused=tuple(refused))
        if len(chunks) == 1:
            final_tmp = chunks[0]
        else:
            final_tmp = staging.new(out)
            _join(chunks, final_tmp, fast=renderer.shortcuts.concat)
            _discard(staging, chunks)
        digest = _sha256(final_tmp)
    except BaseException:
        _discard(staging, chunks)
        raise
    rendered = tuple(RenderedLetter(lt.reference, lt.letter_code, lt.kind, n, first, digest,
                                    out) for lt, first, n in placed)
    return BatchResult(out, rendered, tuple(refused), page, digest, files=(out,))


def _join(chunks: list[Path], target: Path, *, fast: bool) -> None:
    if fast:
        try:
            with target.open("wb") as handle:
                pdfconcat.concatenate(chunks, handle, producer=PRODUCER)
            return
        except pdfconcat.UnexpectedPDF as exc:  # passed the self-check, yet a chunk differs
            log.warning("letters: a chunk is not laid out as the byte-level join expects "
                        "(%s); this batch joins its chunks with pypdf", exc)
    with target.open("wb") as handle:  # truncates what a failed fast join left
        pdfconcat.join_with_pypdf(chunks, handle, producer=PRODUCER)


def _discard(staging: Staging, temps: Iterable[Path]) -> None:
    for temp in temps:
        staging.discard(temp)


def _render_per_case(renderer: LetterRenderer, items: Sequence[LetterData], folder: Path,
                     progress, cancel, staging: Staging) -> BatchResult:
    ensure_folder(folder)
    pending: list[tuple[Path, Path, RenderedLetter]] = []  # temp, final, record
    refused: list[RefusedLetter] = []
    total_pages = 0
    try:
        for done, letter in enumerate(items, 1):
            if cancel is not None and cancel():
                _discard(staging, (tmp for tmp, _, _ in pending))
                return BatchResult(None, refused=tuple(refused), cancelled=True)
            try:
                data, pages = renderer.pdf_bytes(letter)
            except LetterError as exc:
                refused.append(_refusal(letter, exc))
            else:
                final = folder / safe_file_name(letter)
                tmp = staging.new(final, final.stem)
                tmp.write_bytes(data)
                record = RenderedLetter(letter.reference, letter.letter_code, letter.kind,
                                        pages, 1, hashlib.sha256(data).hexdigest(), final)
                pending.append((tmp, final, record))
                total_pages += pages
            if progress is not None:
                progress(done, len(items))
    except BaseException:
        _discard(staging, (tmp for tmp, _, _ in pending))
        raise
    if not pending:
        return BatchResult(None, refused=tuple(refused))
    return BatchResult(folder, tuple(r for _, _, r in pending), tuple(refused), total_pages,
                       None, files=tuple(final for _, final, _ in pending))


def render_letter(letter: LetterData, *, settings: LetterSettings | None = None) -> bytes:
    """One letter as PDF bytes (for a preview). Raises UnprintableCharacterError or
    LetterDataError instead of refusing quietly."""
    return LetterRenderer(settings).pdf_bytes(letter)[0]
