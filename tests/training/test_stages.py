"""The stage clock marks each stage as it starts and adds up the time spent in each."""

import time

from roundabout.training.stages import StageClock


def test_marks_and_timings() -> None:
    marked: list[str] = []
    clock = StageClock(marked.append)
    clock("load")
    time.sleep(0.02)
    clock("fit")
    clock("load")  # a stage may come back: its times add up
    time.sleep(0.01)
    timings = clock.done()
    assert marked == ["load", "fit", "load"]
    assert set(timings) == {"load", "fit"}
    assert timings["load"] >= 0.03 > timings["fit"]
    assert clock.done() == timings  # nothing runs after done
