"""Refresh the message catalogs: extract the msgids from app/, merge them into
each resources/i18n/<locale>/LC_MESSAGES/hosho.po, keeping the translations.

    .venv/bin/python tools/update_catalog.py

New msgids arrive untranslated; tests/ui/test_i18n.py fails until each has
its Japanese text.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
POT = ROOT / "resources" / "i18n" / "hosho.pot"


def extract() -> None:
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-k", "_",
                    "-k", "N_", "--no-location", "--sort-output", "--project", "Hosho Desk",
                    "-o", str(POT), "app/ui", "app/domain/words.py",
                    "app/exports/case_record_pdf.py", "app/core/i18n.py"],
                   cwd=ROOT, check=True,
                   capture_output=True)


def merge(locale: str) -> None:
    path = ROOT / "resources" / "i18n" / locale / "LC_MESSAGES" / "hosho.po"
    with open(POT, "rb") as handle:
        template = read_po(handle)
    with open(path, "rb") as handle:
        catalog = read_po(handle, locale=locale)
    catalog.update(template, no_fuzzy_matching=True)
    # An area's own catalog (hosho-<area>.po) keeps its msgids: do not repeat them here.
    for part in sorted(path.parent.glob("hosho-*.po")):
        with open(part, "rb") as handle:
            for message in read_po(handle, locale=locale):
                if message.id and message.id in catalog and not catalog[message.id].string:
                    del catalog[message.id]
    with open(path, "wb") as handle:
        write_po(handle, catalog, no_location=True, sort_output=True, width=100)


if __name__ == "__main__":
    extract()
    merge("ja")
