"""Tests for benchmarks.machine: what a process tree takes from the machine."""
from __future__ import annotations

import os
import time

import pytest

from benchmarks.machine import ProcessTree

MIB = 2 ** 20


@pytest.mark.skipif(not os.path.exists("/proc/self/smaps_rollup"), reason="the kernel reports no PSS")
def test_pages_a_fork_shares_count_once_in_the_proportional_peak():
    """A child forked after this process filled 200 MiB shares those pages: summed resident
    memory counts them twice, the proportional peak once (and both see them)."""
    block = bytearray(os.urandom(200 * MIB))  # touched: resident, not lazily zero
    with ProcessTree(every=0.05, every_pss=0.05) as tree:
        pid = os.fork()
        if pid == 0:  # the child only holds the shared pages for a while
            time.sleep(1.0)
            os._exit(0)
        os.waitpid(pid, 0)
    assert len(block) == 200 * MIB
    assert tree.peak >= 2 * 200 * MIB
    assert 200 * MIB <= tree.peak_proportional < tree.peak - 150 * MIB
