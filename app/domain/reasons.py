"""Reasons the program writes itself, stored as a code with its parameters and worded
in the interface's language when shown (a reason an operator typed is stored as typed).

Stored form: ``{"reason": "letter_unanswered", "days": 14}`` (JSON). Rows written
before codes (English, or both languages joined by " / ") still display as they are.
"""

from __future__ import annotations

import json

# code: (Japanese, English) templates; parameters by name.
REASONS = {
    "reached_by_outreach": ("架電で本人と連絡がついた", "reached by outreach"),
    "payout_details_changed": ("支払先の変更", "payout details changed"),
    "payout_recheck": ("支払先変更のため再確認", "payout details changed: check again"),
    "letter_unanswered": ("案内状の発送後{days}日以上応答なし",
                          "no answer {days} days after the guidance letter"),
    "guidance_mailed": ("補償手続きのご案内を郵送（{code}）", "guidance letter mailed ({code})"),
    "deficiency_mailed": ("書類不備のご連絡を郵送（{code}）", "deficiency notice mailed ({code})"),
    "payment_notice_mailed": ("補償完了のお知らせを郵送（{code}）",
                              "payment notice mailed ({code})"),
}


def reason_code(reason: str, **params: object) -> str:
    """The stored form of one of the program's own reasons."""
    if reason not in REASONS:
        raise ValueError(f"unknown reason code {reason!r}")
    return json.dumps({"reason": reason, **params}, ensure_ascii=False, sort_keys=True)


def reason_words(stored: str | None) -> tuple[str, str] | None:
    """(Japanese, English) for a coded reason; None for a typed or an older one."""
    if not stored or not stored.startswith('{"'):
        return None
    try:
        data = json.loads(stored)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("reason") not in REASONS:
        return None
    ja, en = REASONS[data.pop("reason")]
    try:
        return ja.format(**data), en.format(**data)
    except (KeyError, IndexError):
        return ja, en
