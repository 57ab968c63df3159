"""The bounded duplicate-id table: agrees with a set, and stops growing at its cap."""

import random

from sspred.io.seen import SeenIds


def test_agrees_with_a_set_on_ids_with_repeats():
    rng = random.Random(0)
    keys = [f"sp|P{rng.randrange(30000):05d}" for _ in range(50000)]  # many repeats, near and far
    table, reference = SeenIds(), set()
    for k in keys:
        assert table.add(k) == (k in reference)
        reference.add(k)
    assert table.size == len(reference)
    assert all(k in table for k in reference) and "sp|Q99999" not in table


def test_growth_keeps_every_id_findable():
    table = SeenIds()
    for i in range(5000):  # grows 1024 -> 16384 slots on the way
        table.add(f"r{i}")
    assert table.nbytes == 16384 * 8
    assert all(f"r{i}" in table for i in range(5000)) and "r5000" not in table


def test_memory_is_capped_and_saturation_is_reported():
    table = SeenIds(max_slots=1024)
    assert not any(table.add(str(i)) for i in range(600))
    assert table.saturated and table.size == 512 and table.nbytes == 1024 * 8
    assert table.add("3") and table.add("511")  # ids it holds are still recognised
    assert not table.add("599")  # ids after the cap are not tracked
