"""Encoding detection and whole-file refusals, from bytes as Excel writes them."""

from __future__ import annotations

import codecs
import io
import zipfile

import pytest

from app.core.errors import UserError
from app.importers.incident_csv import FileRefused, detect_file_encoding, preview, read_incidents
from app.importers.textfile import PREFIX_SIZE, delimiter_for, detect_encoding, sniff_encoding

# Characters Excel writes in CP932 that the shift_jis codec cannot decode (or maps differently).
CP932_ONLY = "①㈱髙～"


def test_cp932_only_characters_really_are_outside_shift_jis():
    # The point of the test data: had we used shift_jis, these would fail.
    with pytest.raises(UnicodeEncodeError):
        CP932_ONLY.encode("shift_jis")
    assert CP932_ONLY.encode("cp932")


def test_order_bom_then_utf8_then_cp932():
    text = "受付番号,氏名\r\nA1,㈱髙橋①～\r\n"
    assert detect_encoding(codecs.BOM_UTF8 + text.encode("utf-8")) == "utf-8-sig"
    assert detect_encoding(text.encode("utf-8")) == "utf-8"
    assert detect_encoding(text.encode("cp932")) == "cp932"
    assert detect_encoding(b"report_id,name\r\n") == "utf-8"


def test_a_short_cp932_file_is_not_mistaken_for_anything_else():
    # Charset guessers call two kanji in CP932 "cp1252"; strict decoding does not.
    assert detect_encoding("髙橋".encode("cp932")) == "cp932"


def test_bytes_in_neither_encoding_are_refused():
    # 0x80 is a lone continuation byte in UTF-8 and undefined in CP932.
    with pytest.raises(FileRefused) as caught:
        detect_encoding(b"report_id,name\r\nA1,\x80\x80\r\n")
    assert "文字コード" in caught.value.ja
    assert "CSV UTF-8" in caught.value.ja  # says what to do
    assert "neither UTF-8 nor Shift_JIS" in caught.value.en
    assert isinstance(caught.value, UserError)


def test_a_multibyte_character_cut_at_the_prefix_end_is_not_held_against_it():
    utf8 = "あ".encode()  # three bytes
    assert detect_encoding(b"a,b\n" + utf8[:2], complete=False) == "utf-8"
    sjis = "あ".encode("cp932")  # two bytes, the lead 0x82 is never a UTF-8 start byte
    assert detect_encoding("髙橋,".encode("cp932") + sjis[:1], complete=False) == "cp932"
    # ... but a file that really ends there is broken.
    with pytest.raises(FileRefused):
        detect_encoding("髙橋,".encode("cp932") + sjis[:1], complete=True)


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (b"PK\x03\x04rest-of-zip", ".xlsx"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", ".xls"),
        (b"%PDF-1.7\n", "PDF"),
        (codecs.BOM_UTF16_LE + "受付番号\t氏名".encode("utf-16-le"), "UTF-16"),
        (b"report_id,name\r\nA1,\x00\x00\r\n", "NUL"),
    ],
)
def test_files_that_are_not_text_are_refused_whole(data, what):
    with pytest.raises(FileRefused) as caught:
        detect_encoding(data)
    assert what in caught.value.ja
    assert "保存し直してください" in caught.value.ja


def test_a_real_xlsx_is_refused_with_a_clear_message(tmp_path, now):
    path = tmp_path / "incidents.csv"  # renamed by someone, still a workbook
    with zipfile.ZipFile(path, "w") as book:
        book.writestr("[Content_Types].xml", "<Types/>")
        book.writestr("xl/workbook.xml", "<workbook/>")
    for call in (lambda: read_incidents(path, now=now), lambda: preview(path)):
        with pytest.raises(FileRefused) as caught:
            call()
        assert "Excelブック（.xlsx）" in caught.value.ja
        assert "Excel workbook (.xlsx)" in caught.value.en
        assert "「CSV UTF-8（コンマ区切り）」" in caught.value.ja


def test_detection_from_files(write, header):
    row = "A1,㈱髙橋①～,タカハシ,090-1234-5678,,クレジット,2019/07/03,1000"
    text = f"{header}\n{row}"
    assert detect_file_encoding(write(text, encoding="utf-8")) == "utf-8"
    assert detect_file_encoding(write(text, encoding="utf-8-sig")) == "utf-8-sig"
    assert detect_file_encoding(write(text, encoding="cp932")) == "cp932"


def test_an_ascii_prefix_defers_the_decision_to_the_first_non_ascii_byte():
    # English headers and a megabyte of plain rows, then a CP932 name.
    head = b"report_id,name\r\n" + b"A1,Taro\r\n" * (PREFIX_SIZE // 9 + 10)
    stream = io.BytesIO(head + "B2,髙橋\r\n".encode("cp932"))
    assert sniff_encoding(stream) == "cp932"
    assert stream.tell() == 0  # rewound for the real read
    stream = io.BytesIO(head + "B2,髙橋\r\n".encode())
    assert sniff_encoding(stream) == "utf-8"
    assert sniff_encoding(io.BytesIO(head)) == "utf-8"
    with pytest.raises(FileRefused, match="NUL"):
        sniff_encoding(io.BytesIO(head + b"\x00"))


@pytest.mark.parametrize("encoding", ["cp932", "utf-8"])
def test_a_character_split_at_the_prefix_boundary_is_read_whole(tmp_path, now, encoding):
    head = "受付番号,氏名,電話番号,区分,発生日,金額\n".encode(encoding)
    row = "A,山田,0312345678,credit,2019/7/3,1\n".encode(encoding)
    data = head + row * ((PREFIX_SIZE - len(head)) // len(row) - 1)
    # Pad a report_id so that the first byte of 髙 is the last byte of the prefix.
    pad = PREFIX_SIZE - 1 - len(data) - len(b"B,")
    data += b"B" + b"0" * pad + b"," + "髙橋,0312345678,credit,2019/7/3,1\n".encode(encoding)
    data += row * 10
    assert data[PREFIX_SIZE - 1 : PREFIX_SIZE + 1] == "髙".encode(encoding)[:2]
    path = tmp_path / "big.csv"
    path.write_bytes(data)
    incidents = read_incidents(path, now=now)
    assert incidents.encoding == encoding
    names = [row.record.name for row in incidents if row.ok]
    assert names.count("髙橋") == 1
    assert len(names) == data.count(b"\n") - 1
    assert incidents.bytes_read == incidents.size == len(data)


def test_an_undecodable_tail_refuses_the_file_while_streaming(tmp_path, now):
    body = (
        "受付番号,氏名,電話番号,区分,発生日,金額\n"
        + "A,山田,0312345678,credit,2019/7/3,1\n" * 40000
    )
    data = body.encode("utf-8")
    assert len(data) > PREFIX_SIZE
    path = tmp_path / "mixed.csv"
    path.write_bytes(data + "Z,髙橋,0312345678,credit,2019/7/3,1\n".encode("cp932"))
    incidents = read_incidents(path, now=now)
    assert incidents.encoding == "utf-8"
    seen = 0
    with pytest.raises(FileRefused) as caught:
        for _row in incidents:
            seen += 1
    assert seen >= 39000  # rows before the bad part were streamed
    assert "UTF-8として読めない" in caught.value.ja
    assert "not valid UTF-8" in caught.value.en


def test_a_nul_byte_late_in_the_file_refuses_it_while_streaming(tmp_path, now):
    body = (
        "受付番号,氏名,電話番号,区分,発生日,金額\n"
        + "A,山田,0312345678,credit,2019/7/3,1\n" * 40000
    )
    path = tmp_path / "nul.csv"
    path.write_bytes(body.encode() + b"B,\x00,0,0,0,0\n")
    incidents = read_incidents(path, now=now)
    with pytest.raises(FileRefused, match="NUL"):
        list(incidents)


def test_delimiter_by_extension():
    assert delimiter_for("a.csv") == ","
    assert delimiter_for("a.CSV") == ","
    assert delimiter_for("a.tsv") == "\t"
    assert delimiter_for("a.TXT") == "\t"
    assert delimiter_for("noext") == ","


def test_an_empty_file_is_refused(write, now):
    for data in (b"", b"\r\n\r\n", b",,,\r\n", codecs.BOM_UTF8):
        path = write(data)
        with pytest.raises(FileRefused, match="空です"):
            read_incidents(path, now=now)
        with pytest.raises(FileRefused, match="空です"):
            preview(path)
