"""The per-chunk work reports progress inside a chunk: the data records of a chunk reach the
shared counter in steps (each decoded field, the columns, the validation), never all at once
at the end, and the steps add up to the chunk's data records exactly."""

from __future__ import annotations

from contextlib import nullcontext

from migrate.read import open_reader
from migrate.run.chunkwork import ChunkContext, ChunkWorker, Converted
from migrate.synth.generate import generate

DEFAULT_CHUNK = 32 * 1024 * 1024  # migrate run's --chunk-mb 32


class Counter:
    """Stands for multiprocessing.Value('q'): records every addition."""

    def __init__(self) -> None:
        self.additions: list[int] = []
        self._value = 0

    def get_lock(self):
        return nullcontext()

    @property
    def value(self) -> int:
        return self._value

    @value.setter
    def value(self, new: int) -> None:
        self.additions.append(new - self._value)
        self._value = new


def test_a_default_chunk_reports_its_records_in_many_small_steps(tmp_path, juki_mapping):
    data = tmp_path / "juki.dat"
    generate(juki_mapping, data, 20_000, seed=3, defects=20)
    reader = open_reader(data, juki_mapping, DEFAULT_CHUNK)
    (task,) = reader.plan()  # 20,000 records of 432 bytes: one default chunk
    counter = Counter()
    worker = ChunkWorker(ChunkContext(juki_mapping, data, DEFAULT_CHUNK, {}), counter)
    outcome = worker.process(*task)
    steps = len(worker.mapper.used_fields) + 2
    assert sum(counter.additions) == counter.value == outcome.data_read == 20_000
    assert len(counter.additions) >= steps
    # the largest step is a few fields' share: the bar moves many times within one chunk
    assert max(counter.additions) <= 2 * 20_000 // steps + 1, counter.additions
    assert all(step > 0 for step in counter.additions)


def test_steps_add_up_to_the_records_read_even_when_some_are_unknown():
    counter = Counter()
    progress = Converted(counter, records=10, steps=3)
    for _ in range(5):  # more steps than announced never pass the records announced
        progress.step()
    assert counter.value == 10
    progress.finish(12)  # two records of an unknown type counted at the end
    assert counter.value == 12 and counter.additions == [3, 3, 4, 2]


def test_no_counter_no_reporting():
    progress = Converted(None, records=10, steps=2)
    progress.step()
    progress.finish(10)
    assert progress.added == 0
