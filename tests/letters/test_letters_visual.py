"""The first page of each kind (and the claim form) compared with reference images.

The references in tests/letters/reference/ are the pages rasterised with poppler's
pdftoppm at 50 dpi in grey. The comparison is tolerant (anti-aliasing and poppler
versions differ) but catches a moved block, a missing paragraph or boxes for text.

After an intended change of layout or wording, look at the new pages, then
regenerate the references:

    HOSHO_UPDATE_LETTER_REFERENCES=1 .venv/bin/python -m pytest tests/letters/test_letters_visual.py

and commit the PNGs with the change.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from letters_helpers import SAMPLES, rasterise
from PIL import Image, ImageChops, ImageStat

from app.letters import render_letters

REFERENCE = Path(__file__).parent / "reference"
UPDATE = os.environ.get("HOSHO_UPDATE_LETTER_REFERENCES") == "1"
DPI = 50
# at most this share of pixels may differ by more than a quarter of the grey range
MAX_CHANGED = 0.004
MAX_MEAN = 1.5  # mean absolute difference, 0-255

PAGES = [("guidance", 1), ("guidance", 2), ("deficiency", 1), ("payment_notice", 1)]


def difference(a: Image.Image, b: Image.Image) -> tuple[float, float]:
    diff = ImageChops.difference(a.convert("L"), b.convert("L"))
    changed = sum(diff.histogram()[65:])
    return changed / (diff.width * diff.height), ImageStat.Stat(diff).mean[0]


@pytest.mark.parametrize(("kind", "page"), PAGES)
def test_page_matches_reference(tmp_path, kind, page):
    out = tmp_path / f"{kind}.pdf"
    render_letters([SAMPLES[kind]()], out)
    (png,) = rasterise(out, tmp_path / "page", dpi=DPI, first=page, last=page)
    reference = REFERENCE / f"{kind}-p{page}.png"
    if UPDATE:
        REFERENCE.mkdir(exist_ok=True)
        shutil.copy(png, reference)
        pytest.skip(f"reference written: {reference}")
    assert reference.exists(), f"no reference {reference}: see this module's docstring"
    new, old = Image.open(png), Image.open(reference)
    assert new.size == old.size
    changed, mean = difference(new, old)
    if changed > MAX_CHANGED or mean > MAX_MEAN:
        kept = Path(os.environ.get("PYTEST_LETTER_DIFF_DIR", tmp_path)) / f"{kind}-p{page}.png"
        shutil.copy(png, kept)
        pytest.fail(f"{kind} page {page} differs from {reference.name}: {changed:.2%} of "
                    f"pixels changed, mean {mean:.2f}; new page kept at {kept}")


def test_comparison_notices_a_moved_block():
    page = Image.new("L", (413, 585), 255)
    moved = page.copy()
    page.paste(0, (40, 40, 200, 60))
    moved.paste(0, (40, 50, 200, 70))
    assert difference(page, moved)[0] > MAX_CHANGED
    assert difference(page, page) == (0.0, 0.0)
