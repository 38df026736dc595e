"""Worker pools of the gates: workers never see a terminal's Ctrl-C, and an interrupt stops them at once."""

import os
import signal
import time

import pytest

from synthkit.gates.pool import sigint_blocked, worker_pool

pytestmark = pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="POSIX signal masks")


def _blocked_signals(_: object) -> list[int]:
    return sorted(int(s) for s in signal.pthread_sigmask(signal.SIG_BLOCK, []))


def _sleep(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def test_workers_started_with_sigint_blocked_never_see_ctrl_c():
    with worker_pool(1) as pool:
        with sigint_blocked():
            future = pool.submit(_blocked_signals, None)
        assert int(signal.SIGINT) in future.result(timeout=120)
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, [])  # this process gets Ctrl-C again


def test_an_interrupt_stops_the_workers_without_running_queued_tasks():
    with pytest.raises(KeyboardInterrupt):
        with worker_pool(2) as pool:
            futures = [pool.submit(_sleep, 60) for _ in range(6)]
            deadline = time.monotonic() + 120
            while not futures[0].running() and time.monotonic() < deadline:
                time.sleep(0.05)
            processes = list(pool._processes.values())
            raise KeyboardInterrupt
    deadline = time.monotonic() + 30
    while any(p.is_alive() for p in processes) and time.monotonic() < deadline:
        time.sleep(0.1)  # the pool's own thread may reap a worker first; is_alive reads its exit code then
    assert not any(p.is_alive() for p in processes)
    assert not any(f.done() and not f.exception() for f in futures)
