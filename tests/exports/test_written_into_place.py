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


DIES_HALF_WAY = """
import os, sys
from app.core.files import written_into_place
with written_into_place(sys.argv[1]) as temp:
    temp.write_bytes(b"half a bank file")
    os._exit(9)  # as if killed: no clean-up runs
"""


def test_a_process_that_dies_half_way_leaves_nothing_after_the_next_start(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    from app.core.files import clean_stale_temporaries

    target = tmp_path / "furikomi.txt"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    died = subprocess.run([sys.executable, "-c", DIES_HALF_WAY, str(target)], env=env)
    assert died.returncode == 9
    left = list(tmp_path.iterdir())
    assert len(left) == 1 and left[0].name.endswith(".part") and not target.exists()
    assert clean_stale_temporaries() == 1
    assert list(tmp_path.iterdir()) == []


def test_the_clean_up_removes_only_the_program_own_temporary_names(tmp_path):
    from app.core.files import clean_stale_temporaries, temporary_folder

    precious = tmp_path / "letters.pdf"
    precious.write_bytes(b"a finished file")
    (temporary_folder() / "1-abc.pending").write_text(f"{precious}\n")
    assert clean_stale_temporaries() == 0
    assert precious.read_bytes() == b"a finished file"
    assert list(temporary_folder().iterdir()) == []
