"""The conversion bar between chunks: LiveCount hands the records counted inside chunks to the
display at every look (REFRESHES_PER_SECOND looks a second, here on a fake clock), never goes
back, and ends on the records of the run; workers of a process pool share its counter, which is
let go when the run ends."""

from __future__ import annotations

import threading

from migrate.run.progress import REFRESHES_PER_SECOND, LiveCount


def test_every_look_shows_what_the_workers_counted_and_never_goes_back():
    live = LiveCount()
    shown: list[tuple[int, int]] = []
    looks: list[float] = []
    finished = threading.Event()
    workers_add = iter([0, 700, 0, 1_300, 2_000])  # records converted between two looks

    def clock(seconds: float) -> bool:  # a fake clock: each look is one tick later
        looks.append(seconds)
        step = next(workers_add, None)
        if step is None:
            finished.set()
            return True  # the phase ends
        with live.counter().get_lock():
            live.counter().value += step
        return False

    with live.shown(lambda done, total: shown.append((done, total)), 4_000, wait=clock):
        assert finished.wait(10)
        live.settle(2_000)  # the first chunk's outcome arrives after its records were counted
    assert all(pause == 1 / REFRESHES_PER_SECOND for pause in looks)
    assert shown == [(0, 4_000), (700, 4_000), (2_000, 4_000), (4_000, 4_000)]


def test_settled_chunks_move_the_bar_when_workers_share_no_memory():
    live = LiveCount()  # Dask: nothing reaches the shared counter
    shown: list[int] = []
    with live.shown(lambda done, total: shown.append(done), 300,
                    wait=lambda seconds: threading.Event().wait(10)):
        for done in (100, 200, 300):
            live.settle(done)
    assert shown == [100, 200, 300]


def test_pool_workers_count_into_the_runs_counter(tmp_path, juki_mapping):
    from migrate.run.pipeline import Pipeline, RunOptions
    from migrate.synth.generate import generate

    data = tmp_path / "x.dat"
    generate(juki_mapping, data, 2_000, seed=4)
    pipeline = Pipeline(RunOptions(juki_mapping, data, tmp_path / "o", db_url="none",
                                   chunk_bytes=432 * 500, workers=2))
    result = pipeline.run()
    assert pipeline.converted.counted == result.ledger.data_read == 2_000
    assert pipeline.converted.shared is None  # let go, with its semaphore, when the run ended


def test_one_process_counts_without_a_shared_counter(tmp_path, juki_mapping):
    """--workers 1: no multiprocessing.Value, so no resource tracker is started for it."""
    from migrate.run.pipeline import Pipeline, RunOptions
    from migrate.synth.generate import generate

    data = tmp_path / "x.dat"
    generate(juki_mapping, data, 1_000, seed=4)
    pipeline = Pipeline(RunOptions(juki_mapping, data, tmp_path / "o", db_url="none",
                                   chunk_bytes=432 * 500, workers=1))
    pipeline.run()
    assert pipeline.converted.shared is None
    assert pipeline.converted.counted == 1_000
