"""Files and figures shared by the balance-refund tests."""

from __future__ import annotations

import csv
from pathlib import Path

BALANCE_HEADER = ["会員ID", "残高", "不正チャージ由来残高", "氏名", "フリガナ", "電話番号",
                  "メールアドレス", "郵便番号", "住所", "生年月日", "退会日"]
APPLICATION_HEADER = ["申出番号", "会員ID", "氏名", "フリガナ", "電話番号", "メールアドレス",
                      "生年月日", "申出経路", "申出日時", "払戻方法", "金融機関コード",
                      "支店コード", "預金種目", "口座番号", "口座名義"]


def member(member_id: str, balance: int | str, fraud: int | str = "", *, kana="ヤマダ タロウ",
           phone="090-1111-2222", email="", closed="", birth="1980-01-02") -> list:
    return [member_id, str(balance), str(fraud), "山田 太郎", kana, phone, email, "100-0005",
            "東京都千代田区丸の内1-1-1", birth, closed]


def application(app_id: str, member_id: str = "", *, route="アプリ",
                applied="2019-11-01 10:00", method="口座振込", kana="ヤマダ タロウ",
                phone="090-1111-2222", email="", birth="1980-01-02") -> list:
    bank = ["0001", "001", "普通", "1234567", "ヤマダ タロウ"] if method == "口座振込" else \
        [""] * 5
    return [app_id, member_id, "山田 太郎", kana, phone, email, birth, route, applied, method,
            *bank]


def write_csv(path: Path, header: list[str], rows: list[list], encoding="utf-8") -> Path:
    with open(path, "w", encoding=encoding, newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)
    return path
