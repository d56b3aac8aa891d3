"""Settings that take one of a few words."""

from __future__ import annotations

import pytest

from app.core.errors import ValidationError
from app.domain.settings import parse_setting, settings_from


def test_words_are_normalised_and_others_refused():
    assert parse_setting("letter_date_style", " Era ") == "era"
    assert parse_setting("zengin_account_type", " Other ") == "other"
    with pytest.raises(ValidationError):  # the header's 預金種目 is 1, 2 or 9, never 4
        parse_setting("zengin_account_type", "savings")
    with pytest.raises(ValidationError) as refused:
        parse_setting("letter_date_style", "heisei")
    assert "western / era" in refused.value.ja and "heisei" in refused.value.en


def test_a_word_stored_before_it_was_checked_still_loads():
    """Refusing it at load would stop every screen; the letters that need it say why."""
    assert settings_from({"zengin_line_end": "bogus"}).zengin_line_end == "bogus"
    assert settings_from({"zengin_line_end": "LF"}).zengin_line_end == "lf"
    # So does a sender value saved before the widths were checked: the export names it.
    assert settings_from({"zengin_account_type": "savings",
                          "zengin_company_code": "12345678901"}).zengin_company_code == (
        "12345678901")
