"""Hostile values through the import service and phone intake, on SQLite and PostgreSQL:
each bad cell rejects its row (the others still import), never the whole import; the same
limits hold on both databases because the importer checks them before either does."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from app.core.clock import JST
from app.core.errors import ValidationError
from app.domain.channels import Channel
from app.importers.limits import MAX_CHARS
from app.services import intake
from app.services.imports import import_incidents
from app.storage.models import Incident, Victim
from tests.services.helpers import incident, victim

HEADER = ("受付番号,7iD,氏名,フリガナ,電話番号,メールアドレス,被害区分,発生日時,被害金額,"
          "カード会社\r\n")
GOOD = "G1,,山田 太郎,,090-1111-2222,,nanaco,2019/07/03,1000,"


def write(tmp_path, rows: list[str]):
    path = tmp_path / "hostile.csv"
    path.write_bytes((HEADER + "".join(r + "\r\n" for r in rows)).encode("utf-8"))
    return path


HOSTILE = {
    "report_id": "R" * 65 + ",,佐藤 一,,090-2222-3333,,nanaco,2019/07/03,1000,",
    "name": "H2,," + "佐" * 201 + ",,090-2222-3333,,nanaco,2019/07/03,1000,",
    "phone": "H3,,佐藤 二,,090" + "-" * 38 + "2222-3333,,nanaco,2019/07/03,1000,",
    "card_issuer": "H4,,佐藤 三,,090-2222-3333,,credit,2019/07/03,1000," + "カ" * 101,
    "amount": "H5,,佐藤 四,,090-2222-3333,,nanaco,2019/07/03," + "9" * 4301 + ",",
    "occurred_at": "H6,,佐藤 五,,090-2222-3333,,nanaco,0001-01-01,1000,",
    "member_id": "H7," + "7" * 65 + ",佐藤 六,,090-2222-3333,,nanaco,2019/07/03,1000,",
}


@pytest.mark.parametrize("field", sorted(HOSTILE))
def test_one_bad_cell_rejects_its_row_and_the_rest_imports(ctx, staff, tmp_path, field):
    summary = import_incidents(ctx, staff["op1"], write(tmp_path, [GOOD, HOSTILE[field]]))
    assert (summary.read, summary.accepted, summary.rejected) == (2, 1, 1)
    [refused] = summary.refused
    assert refused.line == 3
    assert len(refused.reasons) == 1, refused.reasons
    with ctx.db.read() as session:
        assert session.execute(select(func.count()).select_from(Incident)).scalar_one() == 1


def test_every_hostile_row_at_once(ctx, staff, tmp_path):
    summary = import_incidents(ctx, staff["op1"], write(tmp_path, [*HOSTILE.values(), GOOD]))
    assert (summary.read, summary.accepted, summary.rejected) == (len(HOSTILE) + 1, 1,
                                                                  len(HOSTILE))


def test_values_at_their_limits_are_stored_whole(ctx, staff, tmp_path):
    row = (f"{'R' * 64},{'7' * 64},{'佐' * 200},{'サ' * 200},090-1234-5678,,credit,"
           f"2019/01/01,1000000,{'カ' * 100}")
    summary = import_incidents(ctx, staff["op1"], write(tmp_path, [row]))
    assert summary.accepted == 1, summary.refused
    with ctx.db.read() as session:
        stored = session.execute(select(Victim.name, Victim.member_id)).one()
        issuer = session.execute(select(Incident.card_issuer)).scalar_one()
    assert (len(stored.name), len(stored.member_id), len(issuer)) == (200, 64, 100)


# ---------------------------------------------------------------- phone intake

NOW = datetime(2019, 8, 20, 10, 0, tzinfo=JST)
FORM = {"name": "山田 太郎", "phone": "090-1234-5678", "occurred_at": "2019/07/03",
        "amount": "1000"}


@pytest.mark.parametrize(("field", "value"), [
    ("name", "山" * 201),
    ("phone", "090" + "-" * 38 + "1234-5678"),
    ("address", "東" * (MAX_CHARS["address"] + 1)),
    ("card_issuer", "カ" * 101),
    ("merchant", "店" * 201),
    ("amount", "9" * 5000),
    ("amount", "٣٠٠٠"),
    ("occurred_at", "0001-01-01"),
    ("occurred_at", "2018/12/31"),
    ("name", "山田\x00太郎"),
])
def test_the_intake_form_reads_by_the_same_limits(field, value):
    with pytest.raises(intake.FormProblems) as caught:
        intake.parse_intake_form({**FORM, field: value}, Channel.CREDIT_CHARGE, NOW)
    assert list(caught.value.problems) == [field]


@pytest.mark.parametrize(("data", "field"), [
    ({"name": "山" * 201}, "name"),
    ({"name": "\ufdfa" * 14}, "name"),  # 210 characters once folded for the name key
    ({"phone": "0" * 41}, "phone"),
    ({"phone": "0" * 25}, "phone"),  # fits its 40 characters, not the 20 of its digits
    ({"member_id": "7" * 65}, "member_id"),
    ({"email": "a" * 250 + "@example.jp"}, "email"),
    ({"postal_code": "1234-56789"}, "postal_code"),
    ({"name": "山田\ud800太郎"}, "name"),  # a lone surrogate no driver can encode
])
def test_phone_intake_refuses_what_its_columns_cannot_hold(ctx, staff, data, field):
    with pytest.raises(ValidationError) as caught:
        intake.take_phone_intake(ctx, staff["op1"], victim(**data), incident())
    assert caught.value.field == field
    with ctx.db.read() as session:
        assert session.execute(select(func.count()).select_from(Victim)).scalar_one() == 0


@pytest.mark.parametrize(("data", "field"), [
    ({"card_issuer": "カ" * 101}, "card_issuer"),
    ({"merchant": "店" * 201}, "merchant"),
    ({"note": "備" * (MAX_CHARS["note"] + 1)}, "note"),
    ({"report_id": "R" * 65}, "report_id"),
    ({"card_last4": "12345"}, "card_last4"),
    ({"occurred_at": datetime(1, 1, 1, tzinfo=JST)}, "occurred_at"),
    ({"occurred_at": datetime(2018, 12, 31, 23, 59, tzinfo=JST)}, "occurred_at"),
])
def test_phone_intake_refuses_an_incident_its_columns_cannot_hold(ctx, staff, data, field):
    with pytest.raises(ValidationError) as caught:
        intake.take_phone_intake(ctx, staff["op1"], victim(), incident(**data))
    assert caught.value.field == field
    with ctx.db.read() as session:
        assert session.execute(select(func.count()).select_from(Incident)).scalar_one() == 0


def test_the_refused_rows_kept_for_the_screen_are_bounded_in_size(ctx, staff, tmp_path,
                                                                  monkeypatch):
    from app.services import imports

    monkeypatch.setattr(imports, "SAMPLE_CHARS", 10_000)
    long_issuer = "カ" * 3000  # far over the card issuer's 100 characters: each row rejected
    rows = [f"L{i},,山田 太郎,,090-1111-2222,,nanaco,2019/07/03,1000,{long_issuer}"
            for i in range(10)]
    every: list = []
    summary = import_incidents(ctx, staff["op1"], write(tmp_path, rows), on_refused=every.append)
    assert summary.rejected == 10 and len(every) == 10  # all counted, all to the errors file
    assert 1 <= len(summary.refused) <= 3
