"""A write through the gateway answers what it changed; reads and looks change nothing."""

from __future__ import annotations

import json

from app.domain.states import Status
from app.services import cases, changes, intake, settings, victims
from app.services.cases import MoveRequest
from app.services.changes import Changed
from app.services.gateway import InProcessGateway
from app.services.imports import import_incidents
from tests.services.helpers import incident, victim


def test_a_write_names_the_cases_and_victims_it_changed(ctx, staff):
    desk = InProcessGateway(ctx, staff["op1"])
    opened = desk.write(intake.take_phone_intake, victim(), incident())
    case = opened.value
    assert opened.changed.cases == {case.id}
    assert opened.changed.victims == {case.victim.id}
    assert not opened.changed.settings and not opened.changed.letters

    noted = desk.write(cases.add_note, case.id, "折り返し希望")
    assert noted.value is None and noted.changed == Changed(cases=frozenset({case.id}))

    moved = desk.write(cases.move_case, case.id, MoveRequest(Status.CONTACTED,
                                                             expected_version=case.version))
    assert moved.value.status is Status.CONTACTED  # the service's own value, as before
    assert moved.changed.cases == {case.id}


def test_reads_and_looks_change_nothing(ctx, staff):
    case = intake.take_phone_intake(ctx, staff["op1"], victim(), incident())
    desk = InProcessGateway(ctx, staff["op1"])
    assert not desk.write(cases.get_case, case.id).changed  # a read with the actor
    assert not desk.write(victims.reveal_payout, case.id).changed  # recorded, not a change


def test_settings_and_bulk_imports_say_so(ctx, staff, tmp_path):
    admin = InProcessGateway(ctx, staff["admin1"])
    saved = admin.write(settings.change_many, {"credit_due_business_days": 7})
    assert saved.changed == Changed(settings=True)

    path = tmp_path / "list.csv"
    path.write_text("受付番号,氏名,電話番号,チャネル,発生日時,被害金額\n"
                    "R-1,佐藤 花子,090-1111-2222,nanaco_charge,2019-07-03 10:00,3000\n"
                    "R-2,鈴木 一郎,090-3333-4444,nanaco_charge,2019-07-03 11:00,2000\n",
                    encoding="utf-8")
    done = InProcessGateway(ctx, staff["op1"]).write(import_incidents, path)
    assert done.value.cases_created == 2
    assert len(done.changed.cases) == 2  # the bulk path's audit rows name them too


def test_outside_a_recording_nothing_is_kept_and_the_value_travels(ctx, staff):
    case = intake.take_phone_intake(ctx, staff["op1"], victim(), incident())  # the CLI's way
    assert case.id
    with changes.recording() as recorder:
        cases.add_note(ctx, staff["op1"], case.id, "メモ")
    value = recorder.value
    wire = json.loads(json.dumps(value.as_dict()))
    assert Changed.from_dict(wire) == value
    assert value | Changed(settings=True) == Changed(cases=value.cases, settings=True)


def test_files_are_named_by_the_desk_and_reach_the_service_as_paths(ctx, staff, tmp_path):
    from app.services.gateway import FileIn, FileOut

    path = tmp_path / "list.csv"
    path.write_text("受付番号,氏名,電話番号,チャネル,発生日時,被害金額\n"
                    "R-9,佐藤 花子,090-1111-2222,nanaco_charge,2019-07-03 10:00,3000\n",
                    encoding="utf-8")
    desk = InProcessGateway(ctx, staff["op1"])
    assert desk.write(import_incidents, FileIn(str(path))).value.cases_created == 1
    out = tmp_path / "trail.csv"
    from app.services.audit_log import AuditFilter, export_events
    from tests.conftest import step_up_code

    rows = InProcessGateway(ctx, staff["sv1"]).write(
        export_events, out=FileOut(str(out)), flt=AuditFilter(),
        second_factor=step_up_code(ctx, staff["sv1"])).value
    assert rows > 0 and out.read_text(encoding="utf-8-sig").count("\n") > rows
