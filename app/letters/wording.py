"""Letter wording: editable TOML files under resources/letters, checked when loaded.

Each file's keys and placeholders are declared in SCHEMA. Loading fails, with
the file, the key and the placeholder named, when a key is missing or unknown,
a placeholder is unknown, a required placeholder is absent, or a character is in
no bundled font. Filling a template with an empty value is refused too: a
letter never goes out with a blank where a name or number should be.
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from app.core.paths import resources_dir
from app.domain.refunds import REFUSAL_REASONS
from app.letters.errors import LetterDataError, WordingError
from app.letters.fonts import FontBook, font_book
from app.letters.model import LetterKind

COMMON_PLACEHOLDERS = frozenset({
    "name", "case_number", "letter_code", "issue_date", "organization",
    "support_centre", "hotline", "hotline_hours",
})
# Placeholders every key of a file may use (always filled for that kind).
FILE_PLACEHOLDERS = {
    "common": frozenset(),
    "guidance": frozenset({"claimed_total", "incident_count", "channel"}),
    "deficiency": frozenset({"item_count"}),
    "payment_notice": frozenset({"paid_amount", "paid_date"}),
    "refund_confirmation": frozenset({"application_id", "applied_on", "balance",
                                      "refund_amount"}),
    "refund_refusal": frozenset({"application_id", "applied_on"}),
    "refund_payment": frozenset({"application_id", "paid_amount"}),
    "alignment": frozenset({"organization", "support_centre", "hotline", "hotline_hours"}),
}
# The letters' files, each of whose keys may use COMMON_PLACEHOLDERS: "common" and one
# per kind (a new kind adds its file, FILE_PLACEHOLDERS and SCHEMA entries).
LETTER_FILES = ("common", *(kind.value for kind in LetterKind))
# Not a letter: the envelope-window alignment sheet (no recipient, no case).
SHEET_FILES = ("alignment",)
FILES = (*LETTER_FILES, *SHEET_FILES)


@dataclass(frozen=True)
class Spec:
    required: frozenset[str] = frozenset()
    extra: frozenset[str] = frozenset()  # allowed in this key only, besides required


def _s(required: str = "", extra: str = "") -> Spec:
    return Spec(frozenset(required.split()), frozenset(extra.split()))


PLAIN = Spec()


def _plain(*keys: str) -> dict[str, Spec]:
    return dict.fromkeys(keys, PLAIN)


SCHEMA: dict[str, dict[str, Spec]] = {
    "common": {
        **_plain("labels.case_number", "labels.letter_code", "labels.honorific",
                 "labels.record", "labels.end", "closing.text", "closing.heading",
                 "security.heading"),
        "labels.page": _s("page pages"),
        "labels.continued": _s("title"),
        "closing.contact": _s("hotline"),
        "closing.ask_case_number": _s("case_number"),
        "security.notice": _s("hotline"),
        "security.letter_code": _s("letter_code"),
        # the balance-refund programme's letters: filed under the application number
        "labels.application_id": PLAIN,
        "closing.refund_text": PLAIN,
        "closing.ask_application_id": _s("application_id"),
    },
    "guidance": {
        **_plain("title", "apology", "body", "damage.heading", "damage.number", "damage.date",
                 "damage.channel", "damage.merchant", "damage.amount", "damage.total",
                 "damage.no_merchant", "next_steps.heading", "next_steps.credit_charge",
                 "next_steps.credit_charge_transfer", "next_steps.debit_charge",
                 "next_steps.nanaco_charge", "next_steps.unauthorized_use",
                 "reply.heading", "reply.items", "reply.without_deadline"),
        "damage.summary": _s("claimed_total"),
        "reply.with_deadline": _s("reply_by"),
        **{f"form.{key}": PLAIN for key in (
            "title", "declaration", "case_number", "name", "address", "incidents", "total",
            "total_note", "filled_date", "signature", "phone", "bank_heading", "bank_name",
            "branch_name", "account_type", "account_type_choices", "account_number",
            "holder_kana", "bank_note", "nanaco_heading", "nanaco_number", "nanaco_note",
            "card_heading", "card_issuer", "card_last4", "billing_confirmation_date",
            "payment_date", "card_note", "qr_note", "return_note", "office_use",
            "office_stamps")},
        "form.addressee": _s("support_centre"),
        "form.incident_count": _s("incident_count"),
    },
    "deficiency": {
        **_plain("title", "apology", "body", "heading", "col_number", "col_item",
                 "col_action", "note_heading", "return_heading", "return_text",
                 "without_deadline"),
        "with_deadline": _s("reply_by"),
    },
    "payment_notice": {
        **_plain("title", "apology", "body", "heading", "amount", "date", "method",
                 "destination", "closing", "bank.method", "nanaco.method", "card.method"),
        "bank.destination": _s("account_number", "bank_name branch_name account_type"),
        "bank.text": _s("paid_amount"),
        "nanaco.destination": _s("nanaco_number"),
        "nanaco.text": _s("paid_amount"),
        "card.destination": _s("card_last4", "card_issuer"),
        "card.text": _s("paid_amount", "card_issuer"),
    },
    "refund_confirmation": {
        **_plain("title", "apology", "body", "heading", "applied_on", "balance",
                 "from_charges", "amount", "method", "destination", "closing",
                 "bank.method", "postal.method", "postal.destination"),
        "from_charges_note": _s("from_charges"),
        "bank.destination": _s("account_number", "bank_name branch_name account_type"),
        "bank.text": _s("refund_amount"),
        "postal.text": _s("refund_amount"),
    },
    "refund_refusal": {
        **_plain("title", "apology", "body", "heading", "applied_on", "reason", "closing"),
        **{f"reasons.{code}": _s("", "closed_on" if code == "account_closed" else "")
           for code in REFUSAL_REASONS},
    },
    "refund_payment": {
        **_plain("title", "apology", "body", "heading", "amount", "date", "method",
                 "destination", "closing", "bank.method", "postal.method", "postal.cash_by",
                 "postal.how"),
        "bank.destination": _s("account_number", "bank_name branch_name account_type"),
        "bank.text": _s("paid_date"),
        "postal.destination": _s("certificate_number"),
        "postal.text": _s("cash_by"),
    },
    "alignment": {
        **_plain("title", "instructions", "ruler", "sample.name", "sample.postal_code",
                 "sample.address", "sample.building"),
        "window": _s("window_x window_y window_width window_height"),
        "fold": _s("fold fold_at"),
    },
}
CHECKLIST_FILE = "deficiency"
CHECKLIST_FIELDS = ("code", "label", "action")
_CODE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True)
class ChecklistItem:
    code: str  # stored with the letter; stable
    label: str  # what is missing or wrong
    action: str  # what the victim should do


@dataclass(frozen=True)
class Wording:
    directory: Path
    texts: Mapping[str, Mapping[str, str]]  # file -> dotted key -> template
    checklist: tuple[ChecklistItem, ...]

    def raw(self, file: str, key: str) -> str:
        return self.texts[file][key]

    def fill(self, file: str, key: str, values: Mapping[str, object]) -> str:
        """The template with its placeholders replaced; an empty value is refused."""
        template = self.texts[file][key]
        filled: dict[str, str] = {}
        for name in _placeholders(template):
            value = values.get(name)
            if value is None or str(value).strip() == "":
                raise LetterDataError(
                    name, f"文面 {file}.{key} の「{name}」に入れる値がありません。",
                    f"no value for {{{name}}} in {file}.toml [{key}]: a letter never prints "
                    "a blank",
                )
            filled[name] = str(value)
        return template.format_map(filled)

    def item(self, code: str) -> ChecklistItem | None:
        return next((i for i in self.checklist if i.code == code), None)


def placeholders(template: str) -> list[str]:
    """Field names used in ``template``, in order (validated by load_wording)."""
    return list(_placeholders(template))


@lru_cache(maxsize=1024)
def _placeholders(template: str) -> tuple[str, ...]:
    # every letter fills the same few hundred templates: parse each once
    return tuple(field for _, field, _, _ in string.Formatter().parse(template)
                 if field is not None)


def wording_dir() -> Path:
    return resources_dir() / "letters"


def _flatten(data: Mapping, prefix: str = "") -> dict[str, object]:
    flat: dict[str, object] = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, path + "."))
        else:
            flat[path] = value
    return flat


def _check_template(path: Path, key: str, template: object, allowed: frozenset[str],
                    required: frozenset[str], book: FontBook) -> str:
    if not isinstance(template, str):
        raise WordingError(path, key, "文字列ではありません。", "the value must be a string")
    if not template.strip():
        raise WordingError(path, key, "空欄です。", "the value is empty")
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise WordingError(path, key, f"波かっこの使い方が正しくありません（{exc}）。",
                           f"bad braces: {exc} (write {{{{ and }}}} for literal braces)") from exc
    used: set[str] = set()
    for _, field, spec, conversion in parsed:
        if field is None:
            continue
        if not _IDENTIFIER.match(field) or spec or conversion:
            raise WordingError(path, key, f"差し込み項目 {{{field}}} の書き方が正しくありません。",
                               f"placeholder {{{field}}} must be a plain name", field)
        if field not in allowed:
            raise WordingError(path, key, f"不明な差し込み項目 {{{field}}} があります。",
                               f"unknown placeholder {{{field}}}; allowed here: "
                               f"{', '.join(sorted(allowed))}", field)
        used.add(field)
    for field in sorted(required - used):
        raise WordingError(path, key, f"必須の差し込み項目 {{{field}}} がありません。",
                           f"required placeholder {{{field}}} is missing", field)
    text = template.strip("\n")
    for char in text:
        if char != "\n" and book.font_for(char) is None:
            raise WordingError(path, key, f"印刷できない文字 U+{ord(char):04X} があります。",
                               f"character U+{ord(char):04X} is in no bundled font")
    return text


def _load_file(path: Path) -> dict:
    if not path.exists():
        raise WordingError(path, "(file)", "ファイルがありません。", "the file is missing")
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise WordingError(path, "(file)", f"TOMLとして読めません（{exc}）。",
                           f"not valid TOML: {exc}") from exc


def _checklist(path: Path, items: object, book: FontBook) -> tuple[ChecklistItem, ...]:
    if not isinstance(items, list) or not items:
        raise WordingError(path, "items", "チェックリスト [[items]] がありません。",
                           "the checklist [[items]] is missing or empty")
    result: list[ChecklistItem] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        key = f"items[{index}]"
        if not isinstance(item, dict) or set(item) != set(CHECKLIST_FIELDS):
            raise WordingError(path, key, "code・label・action の3項目が必要です。",
                               "each item needs exactly code, label and action")
        code = item["code"]
        if not isinstance(code, str) or not _CODE.match(code):
            raise WordingError(path, key, f"code {code!r} は英小文字・数字・_ で書いてください。",
                               f"bad code {code!r}: use lower-case letters, digits and _")
        if code in seen:
            raise WordingError(path, key, f"code {code} が重複しています。",
                               f"duplicate code {code}")
        seen.add(code)
        label = _check_template(path, f"{key}.label", item["label"], COMMON_PLACEHOLDERS,
                                frozenset(), book)
        action = _check_template(path, f"{key}.action", item["action"], COMMON_PLACEHOLDERS,
                                 frozenset(), book)
        result.append(ChecklistItem(code, label, action))
    return tuple(result)


def load_wording(directory: Path | None = None, *, book: FontBook | None = None) -> Wording:
    """Read and check every wording file; raise WordingError on the first problem."""
    directory = Path(directory) if directory else wording_dir()
    book = book or font_book()
    texts: dict[str, dict[str, str]] = {}
    checklist: tuple[ChecklistItem, ...] = ()
    for file in FILES:
        path = directory / f"{file}.toml"
        data = _flatten(_load_file(path))
        schema = SCHEMA[file]
        if file == CHECKLIST_FILE:
            checklist = _checklist(path, data.pop("items", None), book)
        for key in data:
            if key not in schema:
                raise WordingError(path, key, "不明な項目です（綴りを確認してください）。",
                                   "unknown key (check the spelling)")
        texts[file] = {}
        for key, spec in schema.items():
            if key not in data:
                raise WordingError(path, key, "項目がありません。", "the key is missing")
            common = COMMON_PLACEHOLDERS if file in LETTER_FILES else frozenset()
            allowed = common | FILE_PLACEHOLDERS[file] | spec.required | spec.extra
            texts[file][key] = _check_template(path, key, data[key], allowed, spec.required,
                                               book)
    return Wording(directory, texts, checklist)


def deficiency_checklist(directory: Path | None = None) -> tuple[ChecklistItem, ...]:
    """The items an operator may tick for a deficiency letter (for the GUI)."""
    return load_wording(directory).checklist
