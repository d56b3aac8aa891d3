"""A bulk job's fewer collections leave the collector as they found it, even nested,
from two threads at once, or when the job fails; cycles made inside are still freed."""

from __future__ import annotations

import gc
import threading
import weakref

import pytest

from app.core.collect import YOUNG, fewer_collections


class _Node:
    pass


def test_the_collector_is_as_it_was_after_nested_jobs_and_a_failure():
    before = gc.get_threshold()
    with fewer_collections():
        assert gc.get_threshold()[0] >= YOUNG
        with fewer_collections():
            pass
        assert gc.get_threshold()[0] >= YOUNG  # the outer job still runs
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
    with pytest.raises(RuntimeError), fewer_collections():
        raise RuntimeError
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_two_threads_leave_the_setting_restored():
    before = gc.get_threshold()
    inside, leave = threading.Barrier(2), threading.Event()

    def job():
        with fewer_collections():
            inside.wait()
            leave.wait()

    other = threading.Thread(target=job)
    other.start()
    with fewer_collections():
        inside.wait()
    assert gc.get_threshold()[0] >= YOUNG  # the other thread's job goes on
    leave.set()
    other.join()
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_a_cycle_made_inside_is_still_freed():
    with fewer_collections():
        node = _Node()
        node.self = node
        gone = weakref.ref(node)
        del node
        gc.collect()
        assert gone() is None
