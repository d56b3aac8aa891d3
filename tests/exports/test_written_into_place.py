"""Reports and bank files appear whole or not at all."""

from __future__ import annotations

import stat

import pytest

from app.core.files import written_into_place


def test_a_finished_file_is_moved_into_place_readable_by_its_owner_only(tmp_path):
    target = tmp_path / "report.pdf"
    with written_into_place(target) as temp:
        temp.write_bytes(b"%PDF-1.4 whole")
        assert not target.exists()  # nobody sees it before it is complete
    assert target.read_bytes() == b"%PDF-1.4 whole"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert list(tmp_path.iterdir()) == [target]


def test_a_failure_part_way_leaves_the_old_file_and_no_leftovers(tmp_path):
    target = tmp_path / "furikomi.txt"
    target.write_bytes(b"yesterday's file")
    with pytest.raises(RuntimeError), written_into_place(target) as temp:
        temp.write_bytes(b"half")
        raise RuntimeError("disk full")
    assert target.read_bytes() == b"yesterday's file"
    assert list(tmp_path.iterdir()) == [target]
