"""Which column of an incident file holds which field.

Headers are matched after trimming, NFKC and case folding, in any order. An
operator mapping (``--map COLUMN=field`` or the wizard) overrides or extends the
automatic matching.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from app.core.errors import UserError
from app.importers.textfile import FileRefused

FIELDS: tuple[str, ...] = (
    "report_id",
    "member_id",
    "name",
    "name_kana",
    "phone",
    "email",
    "postal_code",
    "address",
    "channel",
    "occurred_at",
    "amount",
    "card_issuer",
    "card_last4",
    "contact_received_at",
    "merchant",
    "note",
)
REQUIRED_FIELDS: tuple[str, ...] = ("report_id", "name", "channel", "occurred_at", "amount")

# A header of more columns than this is refused whole: the contract has 16 fields, and
# files from Excel carry a few dozen columns at most.
MAX_COLUMNS = 200

# A mapping value that drops a column, e.g. to settle two columns that both mean "name".
IGNORE = "ignore"

# The accepted headers, as in the import contract; each field's own name is accepted too.
_HEADERS: dict[str, tuple[str, ...]] = {
    "report_id": ("受付番号", "受付ID", "報告番号", "report no", "report number"),
    "member_id": ("7iD", "会員ID", "7iD会員ID"),
    "name": ("氏名", "お名前", "名前", "full name"),
    "name_kana": ("フリガナ", "ふりがな", "氏名カナ", "カナ", "kana"),
    "phone": ("電話番号", "連絡先電話番号", "TEL"),
    "email": ("メールアドレス", "メール", "e-mail"),
    "postal_code": ("郵便番号", "〒", "zip"),
    "address": ("住所",),
    "channel": ("被害区分", "区分", "チャネル"),
    "occurred_at": ("発生日時", "発生日", "取引日時", "date"),
    "amount": ("被害金額", "金額"),
    "card_issuer": ("カード会社",),
    "card_last4": ("カード下4桁",),
    "contact_received_at": ("連絡先受領日", "連絡受付日"),
    "merchant": ("利用店舗", "店舗"),
    "note": ("備考",),
}

# The Japanese name of each field, first in every bilingual message.
LABELS_JA: dict[str, str] = {
    "report_id": "受付番号",
    "member_id": "会員ID",
    "name": "氏名",
    "name_kana": "フリガナ",
    "phone": "電話番号",
    "email": "メールアドレス",
    "postal_code": "郵便番号",
    "address": "住所",
    "channel": "被害区分",
    "occurred_at": "発生日時",
    "amount": "被害金額",
    "card_issuer": "カード会社",
    "card_last4": "カード下4桁",
    "contact_received_at": "連絡先受領日",
    "merchant": "利用店舗",
    "note": "備考",
}

_SEPARATORS = re.compile(r"[\s_]+")


def header_key(text: str) -> str:
    """Fold a header for matching: 'Report_ID ', 'report id' and 'ＲＥＰＯＲＴ ＩＤ' agree."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _SEPARATORS.sub(" ", folded).strip()


_FIELD_BY_HEADER: dict[str, str] = {
    header_key(alias): name for name, aliases in _HEADERS.items() for alias in (name, *aliases)
}


class MappingError(UserError):
    """An operator mapping names a column the file lacks or a field that does not exist."""


@dataclass
class ColumnMatch:
    """The outcome of matching a header row, before deciding whether it is usable."""

    header: list[str]
    by_index: dict[int, str] = field(default_factory=dict)  # column index -> field
    unknown: list[str] = field(default_factory=list)
    clashes: dict[str, list[str]] = field(default_factory=dict)  # field -> its header texts

    @property
    def columns(self) -> dict[str, str]:
        """Header text -> field, in column order."""
        return {self.header[index]: name for index, name in sorted(self.by_index.items())}

    @property
    def missing(self) -> list[str]:
        present = set(self.by_index.values())
        return [name for name in REQUIRED_FIELDS if name not in present]

    @property
    def missing_contact(self) -> bool:
        """No column holds a phone or an e-mail, so no row could be accepted."""
        return not {"phone", "email"} & set(self.by_index.values())

    def require_usable(self) -> None:
        """Refuse the file when no row could ever be accepted, or a column is ambiguous."""
        if self.missing:
            raise _missing_refusal(self.missing, self.header)
        if self.missing_contact:
            raise FileRefused(
                "電話番号かメールアドレスの列が必要です。どちらかの列を追加するか、"
                "列の割り当て（--map 列名=phone または --map 列名=email）で指定してください。",
                "A phone or an e-mail column is required: add one, or map an existing "
                "column (--map COLUMN=phone or --map COLUMN=email).",
            )
        if self.clashes:
            raise _clash_refusal(self.clashes)


def match_columns(header: Sequence[str], mapping: Mapping[str, str] | None = None) -> ColumnMatch:
    """Match header cells (already trimmed) to fields; the mapping wins over the aliases."""
    chosen = _mapped_fields(header, mapping or {})
    match = ColumnMatch(header=list(header))
    claimed: dict[str, list[int]] = {}
    explicit = set(chosen.values())
    unknown: set[str] = set()  # a set beside the list: each look-up stays O(1)
    for index, text in enumerate(header):
        name = chosen.get(index) or _FIELD_BY_HEADER.get(header_key(text))
        if index not in chosen and name in explicit:
            name = None  # the operator put another column on this field
        if name is None:
            if text and text not in unknown:
                unknown.add(text)
                match.unknown.append(text)
        elif name != IGNORE:
            claimed.setdefault(name, []).append(index)
    for name, indexes in claimed.items():
        match.by_index[indexes[0]] = name
        if len(indexes) > 1:
            match.clashes[name] = [header[index] for index in indexes]
    return match


def _mapped_fields(header: Sequence[str], mapping: Mapping[str, str]) -> dict[int, str]:
    """Column index -> field (or IGNORE) for each mapping entry, checked."""
    positions: dict[str, list[int]] = {}
    for index, text in enumerate(header):
        positions.setdefault(header_key(text), []).append(index)
    chosen: dict[int, str] = {}
    for column, target in mapping.items():
        name = target.strip().casefold()
        if name not in FIELDS and name != IGNORE:
            raise MappingError(
                f"割り当て先「{target}」という項目はありません。使える項目: {', '.join(FIELDS)}",
                f"There is no field {target!r}. Fields: {', '.join(FIELDS)}",
            )
        indexes = positions.get(header_key(column))
        if not indexes:
            raise MappingError(
                f"列「{column}」はファイルの見出しにありません。",
                f"The file's header has no column {column!r}.",
            )
        if name != IGNORE and name in chosen.values():
            raise MappingError(
                f"項目 {name} に2つの列が割り当てられています。",
                f"Two columns are mapped to the field {name}.",
            )
        for index in indexes:
            chosen[index] = name
    return chosen


def _missing_refusal(missing: list[str], header: Sequence[str]) -> FileRefused:
    names_ja = "、".join(f"{LABELS_JA[name]}（{name}）" for name in missing)
    names_en = ", ".join(missing)
    hint_ja = hint_en = ""
    if len(header) == 1 and "\t" in header[0]:
        hint_ja = (
            "見出しにタブが含まれています。タブ区切りなら拡張子を .tsv か .txt にしてください。"
        )
        hint_en = " The header holds tabs: name a tab-delimited file .tsv or .txt."
    return FileRefused(
        f"必須の列がありません: {names_ja}。{hint_ja}"
        "見出し行に列を追加するか、列の割り当て（--map 列名=項目）で既存の列を指定してください。",
        f"Required column(s) missing: {names_en}.{hint_en} "
        "Add the column(s) to the header row, or map an existing column (--map COLUMN=field).",
    )


def _clash_refusal(clashes: dict[str, list[str]]) -> FileRefused:
    details = "; ".join(f"{name}: {', '.join(texts)}" for name, texts in clashes.items())
    return FileRefused(
        f"複数の列が同じ項目を表しています（{details}）。"
        "使う列を割り当て（--map 列名=項目、不要な列は --map 列名=ignore）で指定してください。",
        f"Several columns mean the same field ({details}). "
        "Say which to use with --map COLUMN=field, and --map COLUMN=ignore for the others.",
    )
