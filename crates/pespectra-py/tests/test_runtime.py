"""GIL release, Ctrl-C, and the doctests of the package."""

import _thread
import doctest
import threading
import time

import numpy as np
import pytest

import pespectra


def slow_matrix(n=110):
    x = np.random.default_rng(1).standard_normal((n, n))
    return (x + x.T) / 2


def test_a_second_thread_runs_during_a_long_eig():
    a = slow_matrix()
    ticks = []
    stop = threading.Event()

    def count():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.005)

    t = threading.Thread(target=count)
    t.start()
    t0 = time.perf_counter()
    pespectra.eig(a, precision=512)
    t1 = time.perf_counter()
    stop.set()
    t.join()
    during = [x for x in ticks if t0 < x < t1]
    assert t1 - t0 > 0.2, "the call was too short to tell"
    # the counter thread ticks every ~5 ms while the call holds no GIL
    assert len(during) >= 0.3 * (t1 - t0) / 0.005, (len(during), t1 - t0)


def test_keyboard_interrupt_within_a_second():
    a = slow_matrix(260)
    timer = threading.Timer(0.3, _thread.interrupt_main)
    t0 = time.perf_counter()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        pespectra.eig(a, precision=2048)
    elapsed = time.perf_counter() - t0
    timer.cancel()
    assert elapsed < 0.3 + 1.0, elapsed


def test_doctests():
    r = doctest.testmod(pespectra, optionflags=doctest.ELLIPSIS)
    assert r.attempted >= 10 and r.failed == 0


def test_progress_reaches_the_callback():
    seen = []
    doc = pespectra._native.campaign("T3", 40, 7, 8, 1, None, None, lambda *a: seen.append(a))
    assert '"holds":40' in doc.replace(" ", "")
    assert seen and seen[-1] == ("T3", 40, 40)
    assert all(stage == "T3" and 0 <= d <= t == 40 for stage, d, t in seen)


def test_campaign_shards_merge_to_the_whole():
    whole = pespectra.campaign("R1", 30, max_n=8, progress=False)
    parts = [pespectra.campaign("R1", 30, max_n=8, shard=(i, 3), progress=False) for i in range(3)]
    assert sum(p.cases for p in parts) == whole.cases == 30
    assert sum(p.fails for p in parts) == whole.fails and whole.ok
