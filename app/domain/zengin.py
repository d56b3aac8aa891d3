"""The Zengin (全銀) character set and the rules a bank transfer file needs.

Transfer files carry names in half-width katakana, one byte each in CP932. The
全銀 set itself also has ｦ, ¥, ｢ ｣, ',' and '/', but banks publish stricter lists
for 依頼人名 and 受取人名 (PCA「全銀協使用可能文字」: カナ without ヲ and small kana,
ﾞ ﾟ, A–Z, 0–9, space and ( ) - . only), and a file with one refused byte is refused
whole. So names keep to what every such list allows: digits, upper-case Latin
letters, ｱ to ﾝ (not ｦ), the voiced marks ﾞ ﾟ (a separate byte each: ｶﾞ is two
bytes), space and the symbols ( ) - . (never a '.' first). Small kana become large
ones (ｼﾞﾖｳ, not ｼﾞｮｳ), the long vowel becomes '-', ・ becomes '.', and anything
else is refused with a message naming the character, never dropped.

Also here: Japan Post Bank 記号・番号 to branch and account, the fixed-width
field rules, and the comparison of an account holder's name with the victim's.
No Qt, no SQL.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from app.core.errors import ValidationError

# Half-width katakana for each full-width katakana (after small kana became large).
# ヲ (ｦ) is left out: strict banks refuse it.
_FULL = ("アイウエオカキクケコサシスセソタチツテトナニヌネノ"
         "ハヒフヘホマミムメモヤユヨラリルレロワン")
_HALF = "ｱｲｳｴｵｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾅﾆﾇﾈﾉﾊﾋﾌﾍﾎﾏﾐﾑﾒﾓﾔﾕﾖﾗﾘﾙﾚﾛﾜﾝ"
_TO_HALF = dict(zip(_FULL, _HALF, strict=True))
_SMALL_TO_LARGE = dict(zip("ァィゥェォッャュョヮヵヶ", "アイウエオツヤユヨワカケ", strict=True))
_OLD_KANA = {"ヰ": "イ", "ヱ": "エ"}
_VOICED = "ﾞ"
_SEMI_VOICED = "ﾟ"
# Symbols as written by people (full or half width) and the Zengin byte they become.
# Not ¥ ｢ ｣ / , : the 全銀 set has them, strict banks refuse them in names.
_SYMBOLS = {
    " ": " ", "\u3000": " ", "(": "(", ")": ")", "（": "(", "）": ")",
    "-": "-", "－": "-", "‐": "-", "−": "-", "ー": "-", "ｰ": "-", "—": "-", "―": "-",
    ".": ".", "．": ".", "・": ".", "･": ".",
}
SYMBOLS = " ()-."
ALLOWED = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ" + _HALF + _VOICED + _SEMI_VOICED
                    + SYMBOLS)
ENCODING = "cp932"


def _hiragana_to_katakana(char: str) -> str:
    code = ord(char)
    return chr(code + 0x60) if 0x3041 <= code <= 0x3096 else char


def _one(char: str) -> str | None:
    """One character of input as Zengin characters, or None if it has none."""
    if char in _SYMBOLS:
        return _SYMBOLS[char]
    if "ｦ" <= char <= "ﾝ" or char in (_VOICED, _SEMI_VOICED):
        # Half-width input: small half-width kana (ｧ..ｯ) become large ones.
        char = unicodedata.normalize("NFKC", char)
        if char in (_VOICED, _SEMI_VOICED):
            return char
    if char in ("\u3099", "\u309b"):  # combining or spacing voiced mark
        return _VOICED
    if char in ("\u309a", "\u309c"):
        return _SEMI_VOICED
    char = unicodedata.normalize("NFKC", char)
    if len(char) != 1:
        return None
    char = _hiragana_to_katakana(char)
    if char.isascii() and char.isalnum():
        return char.upper()
    if char == "ヴ":
        return "ｳ" + _VOICED
    char = _SMALL_TO_LARGE.get(char, _OLD_KANA.get(char, char))
    base = unicodedata.normalize("NFD", char)
    mark = ""
    if len(base) == 2 and base[1] in ("\u3099", "\u309a"):
        mark = _VOICED if base[1] == "\u3099" else _SEMI_VOICED
        base = base[0]
    half = _TO_HALF.get(base)
    return half + mark if half else None


def to_zengin_kana(text: str, field: str = "holder_kana", label: str = "口座名義（カナ）",
                   en_label: str | None = None) -> str:
    """Convert a kana name to Zengin half-width katakana, or refuse it.

    スズキ　ジョウ and すずき じょう both give ｽｽﾞｷ ｼﾞﾖｳ; ｻﾄｳ ﾀﾛｰ gives ｻﾄｳ ﾀﾛ-.
    Kanji and other characters with no kana reading, and symbols strict banks
    refuse, are refused, naming them; so is a name that starts with '.'.
    """
    en_label = en_label or field
    out: list[str] = []
    bad: list[str] = []
    for char in (text or "").strip():
        converted = _one(char)
        if converted is None:
            bad.append(char)
        else:
            out.append(converted)
    if bad:
        unique = list(dict.fromkeys(bad))
        raise ValidationError(
            field, f"{label}に振込データで使えない文字があります: 「{'」「'.join(unique)}」。"
            "カタカナ（ヲを除く）・英大文字・数字・スペースと記号 ( ) - . で入力してください。",
            f"{en_label} holds characters a transfer file cannot carry: "
            f"{', '.join(repr(c) for c in unique)}. Use katakana (not ヲ), A-Z, digits, "
            "spaces and ( ) - . only.",
        )
    result = re.sub(" +", " ", "".join(out)).strip()
    if not result:
        raise ValidationError(field, f"{label}を入力してください。", f"{en_label} is empty.")
    if result.startswith("."):
        raise ValidationError(
            field, f"{label}の先頭に「.」は使えません（受け付けない銀行があります）。",
            f"{en_label} cannot start with '.' (some banks refuse it).",
        )
    return result


def is_zengin_text(text: str) -> bool:
    return all(char in ALLOWED for char in text)


def fit(text: str, width: int) -> str:
    """Left-aligned, space-padded to ``width`` bytes; a voiced mark never loses its kana.

    Every Zengin character is one byte, so bytes and characters agree; a cut that
    would leave ｶ without its ﾞ drops the ｶ too (ｶ alone is another sound).
    """
    if not is_zengin_text(text):
        raise ValueError(f"not Zengin text: {text!r}")
    cut = text[:width]
    if len(text) > width and text[width] in (_VOICED, _SEMI_VOICED):
        cut = cut[:-1]
    return cut.rstrip().ljust(width) if len(text) > width else cut.ljust(width)


def number(value: int | str, width: int) -> str:
    """Right-aligned, zero-padded digits; refuses what does not fit."""
    text = str(value)
    if not text.isdigit() or len(text) > width:
        raise ValueError(f"{value!r} does not fit {width} digits")
    return text.rjust(width, "0")


# 預金種目 as published: the sender's (header) is 1 普通, 2 当座 or 9 その他, never
# 4; a recipient's (data record) is 1, 2, 4 貯蓄 or 9.
SENDER_ACCOUNT_TYPE_CODES = {"ordinary": "1", "current": "2", "other": "9"}
RECIPIENT_ACCOUNT_TYPE_CODES = {"ordinary": "1", "current": "2", "savings": "4"}
LINE_ENDS = {"crlf": b"\r\n", "lf": b"\n", "none": b""}


def line_end(setting: str) -> bytes:
    try:
        return LINE_ENDS[setting.strip().lower()]
    except KeyError:
        raise ValidationError(
            "zengin_line_end", f"改行の設定は crlf・lf・none のいずれかです: {setting}",
            f"zengin_line_end must be crlf, lf or none: {setting}",
        ) from None


# -- Japan Post Bank -------------------------------------------------------------

JAPAN_POST_BANK = "9900"


@dataclass(frozen=True)
class PostBankAccount:
    branch_code: str  # 店番
    branch_name: str  # 店名, e.g. 〇五八
    account_type: str  # 'ordinary'
    account_number: str  # 7 digits


_KANJI_DIGITS = "〇一二三四五六七八九"


def post_bank_transfer_account(kigou: str, bangou: str) -> PostBankAccount:
    """ゆうちょ銀行 通常貯金の記号・番号 → 振込用の店番・口座番号.

    記号 is five digits starting with 1 (通常貯金); the branch is its 2nd and 3rd
    digits followed by 8 (記号 10530 → 058, 店名 〇五八); the account is 番号
    without its last digit (a check digit, 1 on a 通常貯金), zero-padded to seven
    digits (番号 12345671 → 1234567). 記号 starting with 0 (振替口座) uses other
    rules and is refused here rather than guessed.
    """
    kigou = unicodedata.normalize("NFKC", kigou or "").replace("-", "").strip()
    bangou = unicodedata.normalize("NFKC", bangou or "").replace("-", "").strip()
    if not (kigou.isdigit() and len(kigou) == 5 and kigou[0] == "1"):
        raise ValidationError(
            "kigou", "ゆうちょ銀行の記号は1で始まる5桁の数字で入力してください（通常貯金）。",
            "The Japan Post Bank 記号 must be 5 digits starting with 1 (通常貯金).",
        )
    if not (bangou.isdigit() and 2 <= len(bangou) <= 8 and bangou[-1] == "1"):
        raise ValidationError(
            "bangou", "ゆうちょ銀行の番号は末尾が1の8桁以内の数字で入力してください。",
            "The Japan Post Bank 番号 must be up to 8 digits ending in 1.",
        )
    branch = kigou[1:3] + "8"
    return PostBankAccount(
        branch_code=branch,
        branch_name="".join(_KANJI_DIGITS[int(d)] for d in branch),
        account_type="ordinary",
        account_number=bangou[:-1].rjust(7, "0"),
    )


# -- holder name against the victim's name ---------------------------------------------


def _name_key(text: str) -> str | None:
    try:
        converted = to_zengin_kana(text)
    except ValidationError:
        return None
    # Compare sounds, not spelling: spaces, symbols and voiced marks vary in practice
    # only by typing, but a different name is a different person.
    return re.sub(r"[ ().\-]", "", converted)


def holder_name_mismatch(holder_kana: str | None, victim_kana: str | None) -> bool:
    """True when the account holder's kana is not the victim's own name in kana.

    A flag for the verifier (a family member's account may be fine, but must be
    looked at), not a refusal. Nothing to compare is no mismatch.
    """
    if not holder_kana or not victim_kana:
        return False
    holder, victim = _name_key(holder_kana), _name_key(victim_kana)
    if holder is None or victim is None:
        return True
    return holder != victim
