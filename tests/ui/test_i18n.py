from babel.messages.pofile import read_po

from app.core.i18n import catalog_paths, format_yen, set_locale


def japanese_translations() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in catalog_paths("ja"):
        with open(path, "rb") as handle:
            for message in read_po(handle, locale="ja"):
                if message.id and (message.string or message.id not in found):
                    found[message.id] = message.string
    return found


def test_every_interface_text_has_its_japanese_translation():
    untranslated = [msgid for msgid, text in japanese_translations().items() if not text]
    assert untranslated == []


def test_catalog_is_current_with_the_code(tmp_path):
    """Every msgid in the code is in the catalog (run tools/update_catalog.py)."""
    import subprocess
    import sys

    pot = tmp_path / "check.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-k", "_",
                    "-k", "N_", "--no-location", "-o", str(pot), "app/ui",
                    "app/domain/words.py", "app/exports/case_record_pdf.py",
                    "app/core/i18n.py"], check=True, capture_output=True)
    with open(pot, "rb") as handle:
        wanted = {m.id for m in read_po(handle) if m.id}
    assert wanted - set(japanese_translations()) == set()


def test_yen_formats_by_locale():
    set_locale("ja")
    assert format_yen(38_615_473) == "38,615,473円"
    set_locale("en")
    assert format_yen(38_615_473) == "¥38,615,473"
    set_locale("ja")


def test_a_bilingual_message_is_shown_in_the_interfaces_language():
    from app.core.i18n import one_language, set_locale

    set_locale("en")
    assert one_language("日本語", "English", "日本語 / English") == "English"
    assert one_language("", "", "日本語 / English") == "日本語 / English"  # older rows
    set_locale("ja")
    assert one_language("日本語", "English") == "日本語"
