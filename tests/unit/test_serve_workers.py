"""`coinslot serve` starts one API process per CPU on PostgreSQL, one on SQLite, or as many as asked."""

from __future__ import annotations

import os

from coinslot.cli.server import usable_cpus, web_workers


def test_postgresql_serves_one_process_per_cpu_by_default() -> None:
    assert web_workers(None, is_sqlite=False, cpus=8) == 8
    assert web_workers(None, is_sqlite=False, cpus=0) == 1


def test_sqlite_serves_one_process_unless_asked_for_more() -> None:
    assert web_workers(None, is_sqlite=True, cpus=8) == 1
    assert web_workers(3, is_sqlite=True, cpus=8) == 3


def test_an_operator_s_count_wins_on_postgresql() -> None:
    assert web_workers(2, is_sqlite=False, cpus=16) == 2


def test_the_cpus_are_those_this_process_may_use() -> None:
    cpus = usable_cpus()
    assert 1 <= cpus <= (os.cpu_count() or cpus)
