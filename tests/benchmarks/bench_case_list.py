"""Case list at a million cases: the first screen and a search keystroke.

    .venv/bin/python -m tests.benchmarks.bench_case_list [--victims N]

Each figure is the service call the list makes (SQLAlchemy, row records)
beside the same SQL run in plain sqlite3. Targets: first screen within 0.5 s,
a keystroke's result within 150 ms.
"""

from __future__ import annotations

import argparse
import sqlite3

from sqlalchemy import text

from app.domain.channels import Channel
from app.domain.states import Status
from app.services.case_search import CaseQuery, build_query, list_cases
from app.services.context import AppContext
from app.storage.db import Database
from tests.benchmarks.common import demo_database, report, timed

PAGE = 200


def plain_sqlite(path, query: CaseQuery):
    statement = build_query(query).limit(PAGE)
    sql = str(statement.compile(compile_kwargs={"literal_binds": True}))
    connection = sqlite3.connect(path)
    return lambda: connection.execute(sql).fetchall()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--victims", type=int, default=1_000_000)
    args = parser.parse_args()
    path = demo_database(args.victims)
    ctx = AppContext(Database(str(path)))
    with ctx.db.read() as session:
        sample = session.execute(text(
            "SELECT name_kana, phone_digits FROM victim "
            "WHERE id = 4242 % (SELECT max(id) FROM victim) + 1")).one()
    surname_kana = sample[0].split(" ")[0]
    hiragana = "".join(chr(ord(c) - 0x60) for c in surname_kana)
    cases = [
        ("first screen (no filter, by case number)", CaseQuery(), "500 ms"),
        ("first screen sorted by claimed amount", CaseQuery(sort="claimed_amount",
                                                            descending=True), "500 ms"),
        (f"keystroke: kana '{hiragana[:2]}'", CaseQuery(text=hiragana[:2]), "150 ms"),
        (f"keystroke: kana '{hiragana}'", CaseQuery(text=hiragana), "150 ms"),
        ("keystroke: phone, 3 digits", CaseQuery(text=sample[1][:3]), "150 ms"),
        ("keystroke: phone, 5 digits", CaseQuery(text=sample[1][:5]), "150 ms"),
        ("keystroke: phone, 7 digits", CaseQuery(text=sample[1][:7]), "150 ms"),
        ("keystroke: case number", CaseQuery(text="H-0424242"), "150 ms"),
        ("filter: nanaco, received",
         CaseQuery(channel=Channel.NANACO_CHARGE, status=Status.RECEIVED), "500 ms"),
    ]
    print(f"case list benchmark on {path.name}")
    for name, query, target in cases:
        ours = timed(lambda q=query: list_cases(ctx, q, PAGE))
        baseline = timed(plain_sqlite(path, query))
        report(name, ours, baseline, target)


if __name__ == "__main__":
    main()
