"""The whole `hosho` command line at a centre (#15 item 6): the real command line
(app.cli.run) against a real server on loopback (SQLite, and PostgreSQL with
HOSHO_TEST_PG_URL), signed in as its operators. Files named on the command line stay
on the desk: uploaded for an import, downloaded into the desk's path after an export.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from app.cli import run
from app.domain.roles import SYSTEM_ACTOR
from app.server.files import Limits
from app.services import letters, operators, payouts, settings
from app.services.stats import programme_stats
from tests.conftest import PASSWORD, step_up_code
from tests.server.conftest import running_server
from tests.server.test_centre_cli import approved_case
from tests.services.helpers import SENDER

NEW_PASSWORD = "a long new password for the clerk"


def hosho(*argv: str, stdin: str = "") -> int:
    old = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        return run(list(argv), gui=lambda _args: 99)
    finally:
        sys.stdin = old


@pytest.fixture
def centre(ctx, tmp_path):
    """(url, spool): a server with its own spool folder, away from the desk's files."""
    spool = tmp_path / "server" / "spool"
    with running_server(ctx, limits=Limits(spool=spool)) as url:
        yield url, spool


@pytest.fixture
def desk_dir(tmp_path) -> Path:
    where = tmp_path / "desk"
    where.mkdir()
    return where


def signed_in(ctx, staff, url: str, who: str, home: Path, monkeypatch) -> None:
    """``who`` signed in at the centre, their token kept under ``home`` (one person's
    user folder: two supervisors are two sign-ins, two token files)."""
    monkeypatch.setenv("HOSHO_DATA_DIR", str(home))
    code = step_up_code(ctx, staff[who])
    assert hosho("--server", url, "login", who, "--password-stdin", "--code", code,
                 stdin=PASSWORD + "\n") == 0


def as_person(home: Path, monkeypatch) -> None:
    monkeypatch.setenv("HOSHO_DATA_DIR", str(home))


def case_number(ctx) -> str:
    from app.services.cases import get_case

    with ctx.db.read() as session:
        from sqlmodel import select

        from app.storage.models import Case

        case_id = session.exec(select(Case.id).order_by(Case.id.desc())).first()
    return get_case(ctx, SYSTEM_ACTOR, case_id).case_number


def json_out(capsys) -> dict | list:
    return json.loads(capsys.readouterr().out)


def test_a_day_at_the_centre_on_the_command_line(ctx, staff, centre, desk_dir, tmp_path,
                                                monkeypatch, capsys):
    url, spool = centre
    settings.change_many(ctx, SYSTEM_ACTOR, SENDER)
    sv1_home, sv2_home = tmp_path / "sv1-home", tmp_path / "sv2-home"
    signed_in(ctx, staff, url, "sv1", sv1_home, monkeypatch)
    capsys.readouterr()

    # The import's file is on the desk: uploaded; its refused rows come back beside it.
    source = desk_dir / "list.csv"
    source.write_text(
        "受付番号,氏名,電話番号,被害区分,発生日時,被害金額\n"
        "T1,山田 太郎,090-1111-2222,nanaco,2019/7/3,\"1,000円\"\n"
        "T2,鈴木 花子,090-3333-4444,nanaco,2019/02/30,5\n", encoding="utf-8")
    errors = desk_dir / "refused.csv"
    assert hosho("--server", url, "import-csv", str(source), "--json",
                 "--errors", str(errors)) == 0
    summary = json_out(capsys)
    assert (summary["read"], summary["accepted"], summary["rejected"]) == (2, 1, 1)
    assert "鈴木" in errors.read_text(encoding="utf-8-sig")

    # The figures are the database's, as a local `hosho stats` would print them.
    assert hosho("--server", url, "stats", "--json") == 0
    assert json_out(capsys) == json.loads(json.dumps(programme_stats(ctx)))

    # A letter batch: the PDF comes back to the desk's path.
    approved_case(ctx, staff)
    letter = desk_dir / "letters" / "notice.pdf"
    letter.parent.mkdir()
    assert hosho("--server", url, "letters", "guidance", "--case", case_number(ctx),
                 "--out", str(letter), "--json") == 0
    made = json_out(capsys)
    assert made["out"] == str(letter) and len(PdfReader(str(letter)).pages) == made["pages"]
    each = desk_dir / "each"  # a folder of letters, with the progress streamed
    assert hosho("--server", url, "letters", "guidance", "--case", case_number(ctx),
                 "--out", str(desk_dir / "unused.pdf"), "--per-case", str(each)) == 0
    assert len(list(each.glob("*.pdf"))) == 1 and not (desk_dir / "unused.pdf").exists()
    assert "1/1" in capsys.readouterr().err

    # Four eyes: built by sv1, refused to sv1, released by sv2 (another sign-in).
    assert hosho("--server", url, "payouts", "batch", "--json") == 0
    batch = json_out(capsys)
    assert batch["built_by"] == "sv1"
    code = step_up_code(ctx, staff["sv1"])
    assert hosho("--server", url, "payouts", "release", str(batch["id"]), "--code", code) == 2
    assert "二者確認" in capsys.readouterr().err
    assert payouts.get_batch(ctx, batch["id"]).status == "built"
    signed_in(ctx, staff, url, "sv2", sv2_home, monkeypatch)
    capsys.readouterr()
    code = step_up_code(ctx, staff["sv2"])
    assert hosho("--server", url, "payouts", "release", str(batch["id"]), "--code", code,
                 "--json") == 0
    assert json_out(capsys)["released_by"] == "sv2"
    released = payouts.get_batch(ctx, batch["id"])
    assert (released.built_by, released.released_by) == ("sv1", "sv2")

    # The bank file: personal data, so a fresh code; written on the desk.
    transfer = desk_dir / "furikomi.txt"
    assert hosho("--server", url, "payouts", "export", str(batch["id"]),
                 "--out", str(transfer)) == 2  # no code, no terminal: refused
    assert not transfer.exists()
    assert "確認コード" in capsys.readouterr().err
    as_person(sv1_home, monkeypatch)  # sv1's own session still holds
    assert hosho("--server", url, "payouts", "export", str(batch["id"]), "--out",
                 str(transfer), "--code", step_up_code(ctx, staff["sv1"])) == 0
    assert len(transfer.read_bytes()) % 122 == 0 and transfer.stat().st_mode & 0o077 == 0

    # Nothing the server wrote stays in its spool, and nothing was written elsewhere
    # under the server's folder; the desk's files are only where the desk named them.
    assert spool.is_dir()  # the uploads and downloads went through it
    server_files = [p for p in (tmp_path / "server").rglob("*") if p.is_file()]
    assert server_files == []
    for name in ("furikomi.txt", "notice.pdf", "refused.csv"):
        assert [p.parent for p in tmp_path.rglob(name)] in ([desk_dir], [letter.parent])
    capsys.readouterr()


def test_operator_admin_at_a_centre_takes_a_fresh_code(ctx, staff, centre, tmp_path,
                                                       monkeypatch, capsys):
    url, _spool = centre
    signed_in(ctx, staff, url, "admin1", tmp_path / "admin-home", monkeypatch)
    capsys.readouterr()
    assert hosho("--server", url, "operator", "add", "clerk9", "--role", "operator",
                 "--password-stdin", stdin=NEW_PASSWORD + "\n") == 2
    assert "確認コード" in capsys.readouterr().err
    assert "clerk9" not in {o.login for o in operators.list_operators(ctx)}
    assert hosho("--server", url, "operator", "add", "clerk9", "--role", "operator",
                 "--password-stdin", "--code", step_up_code(ctx, staff["admin1"]),
                 stdin=NEW_PASSWORD + "\n") == 0
    assert "clerk9" in capsys.readouterr().out
    added = {o.login: o for o in operators.list_operators(ctx)}["clerk9"]
    assert operators.authenticate(ctx, "clerk9", NEW_PASSWORD).id == added.id
    assert hosho("--server", url, "operator", "reset-password", "clerk9") == 2
    assert hosho("--server", url, "operator", "reset-password", "clerk9",
                 "--code", step_up_code(ctx, staff["admin1"])) == 0
    assert "one-time password" in capsys.readouterr().out
    assert hosho("--server", url, "operator", "list", "--json") == 0
    assert "clerk9" in {row["login"] for row in json_out(capsys)}


def test_the_audit_trail_from_a_centre(ctx, staff, centre, desk_dir, tmp_path, monkeypatch,
                                       capsys):
    """A checkpoint signed on the desk with the desk's key, checked against the chain at
    the centre; the trail's export behind a code, written on the desk."""
    url, _spool = centre
    key = desk_dir / "audit-key"
    assert hosho("audit", "keygen", "--out", str(key)) == 0  # local: no database
    signed_in(ctx, staff, url, "admin1", tmp_path / "admin-home", monkeypatch)
    capsys.readouterr()
    checkpoint = desk_dir / "checkpoint.json"
    assert hosho("--server", url, "audit", "checkpoint", "--out", str(checkpoint),
                 "--key", str(key)) == 0
    assert "signed by" in capsys.readouterr().out
    assert json.loads(checkpoint.read_text(encoding="utf-8"))["signature"]
    assert hosho("--server", url, "audit", "verify", "--against", str(checkpoint),
                 "--public-key", f"{key}.pub", "--json") == 0
    report = json_out(capsys)
    assert report["ok"] and report["checkpoints"][0]["signed_by"]
    trail = desk_dir / "trail.csv"
    assert hosho("--server", url, "audit", "export", "--out", str(trail)) == 2
    assert not trail.exists()
    assert hosho("--server", url, "audit", "export", "--out", str(trail),
                 "--code", step_up_code(ctx, staff["admin1"])) == 0
    assert "audit.checkpoint" in trail.read_text(encoding="utf-8-sig")


def test_the_balance_refund_files_from_a_centre(ctx, staff, centre, desk_dir, tmp_path,
                                                monkeypatch, capsys):
    """Both refund files uploaded from the desk; the figures and the lists after them."""
    from tests.services.refund_helpers import (
        APPLICATION_HEADER,
        BALANCE_HEADER,
        application,
        member,
        write_csv,
    )

    url, _spool = centre
    ctx.clock.advance(days=122)  # 20 Dec 2019: the refund applications are open
    signed_in(ctx, staff, url, "sv1", tmp_path / "sv1-home", monkeypatch)
    capsys.readouterr()
    balances = write_csv(desk_dir / "b.csv", BALANCE_HEADER,
                         [member("M1", 5000), member("M2", 0), member("M3", "x")], "cp932")
    assert hosho("--server", url, "refunds", "import-balances", str(balances), "--json") == 0
    assert json_out(capsys)["accepted"] == 2
    apps = write_csv(desk_dir / "a.csv", APPLICATION_HEADER,
                     [application("A1", "M1"), application("A2", "M2")])
    assert hosho("--server", url, "refunds", "import-applications", str(apps), "--json") == 0
    shown = json_out(capsys)
    assert shown["accepted"] == 2 and shown["states"]["confirmed"] == 1
    assert hosho("--server", url, "stats", "--json") == 0
    figures = json_out(capsys)["refunds"]
    assert (figures["balance_total"], figures["applications"]) == (5000, 2)
    assert hosho("--server", url, "letters", "due", "--json") == 0
    assert json_out(capsys) == letters.refund_letters_due(ctx)


def test_refusals_at_a_centre(ctx, staff, centre, tmp_path, monkeypatch, capsys):
    url, _spool = centre
    # No token yet: the message says how to sign in.
    monkeypatch.setenv("HOSHO_DATA_DIR", str(tmp_path / "nobody"))
    assert hosho("--server", url, "stats") == 2
    assert f"hosho --server {url} login" in capsys.readouterr().err
    signed_in(ctx, staff, url, "sv1", tmp_path / "sv1-home", monkeypatch)
    capsys.readouterr()
    assert hosho("--server", url, "payouts", "release", "1", "--as", "sv2") == 2
    assert "--as is refused" in capsys.readouterr().err
    for local_only in (["db", "upgrade"], ["demo"], ["db", "backup", "--out", "x.sqlite3"],
                       ["audit", "keygen", "--out", str(tmp_path / "k")]):
        assert hosho("--server", url, *local_only) == 2
        err = capsys.readouterr().err
        assert "refused in centre mode" in err and "センターモード" in err
    assert not (tmp_path / "k").exists()
    assert hosho("--server", url, "stats", "--db", str(tmp_path / "x.sqlite3")) == 2
    assert "--db is refused" in capsys.readouterr().err
    # An operator's session is an operator's: the supervisors' and admins' lists refused.
    signed_in(ctx, staff, url, "op1", tmp_path / "op1-home", monkeypatch)
    capsys.readouterr()
    assert hosho("--server", url, "reconcile") == 2
    assert hosho("--server", url, "operator", "list") == 2
