"""Device choice, heavy-cell sizes, seeds and CPU threads, without needing the hardware.

CUDA and MPS are made to appear or vanish by monkeypatching what torch reports.
"""
from __future__ import annotations

import os
import random

import numpy as np
import pytest
import torch

import course.device as device_module
from course.device import (configure_cpu_threads, current_size, describe_device, is_autograding, is_quick, pick_device,
                           set_seed, usable_cpu_cores, workload)


@pytest.fixture
def hardware(monkeypatch):
    """Pretend which accelerators exist: ``hardware(cuda=True, mps=False, gpus=1)``."""
    for name in ("COURSE_DEVICE", "COURSE_QUICK", "COURSE_SIZE", "NBGRADER_EXECUTION", "COURSE_CPU_THREADS"):
        monkeypatch.delenv(name, raising=False)

    def pretend(cuda=False, mps=False, gpus=1):
        monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: gpus if cuda else 0)
        monkeypatch.setattr(device_module, "_mps_available", lambda: mps)

    return pretend


@pytest.mark.parametrize("cuda, mps, expected", [
    (True, True, "cuda"), (True, False, "cuda"), (False, True, "mps"), (False, False, "cpu")])
def test_the_best_device_is_cuda_then_mps_then_cpu(hardware, cuda, mps, expected):
    """With no preference, is CUDA preferred to MPS, and MPS to the CPU?"""
    hardware(cuda=cuda, mps=mps)
    assert pick_device() == torch.device(expected)


def test_course_device_overrides_the_choice(hardware, monkeypatch):
    """With a GPU present, does COURSE_DEVICE=cpu still give the CPU, and does an argument beat the variable?"""
    hardware(cuda=True, mps=True, gpus=2)
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert pick_device() == torch.device("cpu")
    monkeypatch.setenv("COURSE_DEVICE", "cuda:1")
    assert pick_device() == torch.device("cuda", 1)
    assert pick_device("mps") == torch.device("mps")
    monkeypatch.setenv("COURSE_DEVICE", "  ")
    assert pick_device() == torch.device("cuda")


@pytest.mark.parametrize("wanted, message", [
    ("cuda", "no CUDA GPU"), ("mps", "MPS is not available")])
def test_asking_for_a_missing_device_says_why(hardware, monkeypatch, wanted, message):
    """Does COURSE_DEVICE naming an absent accelerator fail with the reason, not fall back silently?"""
    hardware(cuda=False, mps=False)
    monkeypatch.setenv("COURSE_DEVICE", wanted)
    with pytest.raises(RuntimeError, match=message):
        pick_device()


def test_asking_for_a_gpu_index_beyond_the_count_says_how_many(hardware):
    """On a one-GPU machine, does cuda:3 fail and say there is only one GPU?"""
    hardware(cuda=True, gpus=1)
    with pytest.raises(RuntimeError, match="only 1 CUDA GPU"):
        pick_device("cuda:3")


def test_autograding_and_quick_mode_follow_their_variables(hardware, monkeypatch):
    """Is NBGRADER_EXECUTION autograding (and quick), and COURSE_QUICK quick when set to 1/true/yes/on,
    not when empty, 0 or false, and refused when it is neither?"""
    hardware()
    assert not is_autograding() and not is_quick()
    for off in ("0", "false", "No", ""):
        monkeypatch.setenv("COURSE_QUICK", off)
        assert not is_quick(), off
    monkeypatch.setenv("COURSE_QUICK", "maybe")
    with pytest.raises(ValueError, match="COURSE_QUICK"):
        is_quick()
    monkeypatch.setenv("COURSE_QUICK", "1")
    assert is_quick() and not is_autograding()
    monkeypatch.delenv("COURSE_QUICK")
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert is_autograding() and is_quick()


@pytest.mark.parametrize("cuda, mps, expected", [(True, False, 40), (False, True, 40), (False, False, 8)])
def test_workload_picks_the_gpu_or_cpu_size_for_the_device_it_would_train_on(hardware, cuda, mps, expected):
    """Does a heavy cell get its GPU size on CUDA or MPS and its CPU size on a CPU?"""
    hardware(cuda=cuda, mps=mps)
    assert workload(full=40, cpu=8, quick=1) == expected


def test_workload_follows_an_explicit_device_and_course_device(hardware, monkeypatch):
    """Does an explicit device, or COURSE_DEVICE=cpu on a GPU machine, decide the size?"""
    hardware(cuda=True)
    assert workload(full=(1024, 256), cpu=(128, 64), device="cpu") == (128, 64)
    assert workload(full=(1024, 256), cpu=(128, 64), device=torch.device("cuda")) == (1024, 256)
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert workload(full={"epochs": 40}, cpu={"epochs": 8}) == {"epochs": 8}


@pytest.mark.parametrize("variable, value", [("COURSE_QUICK", "1"), ("NBGRADER_EXECUTION", "validate")])
def test_workload_shrinks_to_quick_under_grading_and_in_ci_even_on_a_gpu(hardware, monkeypatch, variable, value):
    """Under autograding or COURSE_QUICK, does a heavy cell take its quick size, or its CPU size without one?"""
    hardware(cuda=True)
    monkeypatch.setenv(variable, value)
    assert workload(full=40, cpu=8, quick=1) == 1
    assert workload(full=40, cpu=8) == 8
    assert workload(full=40, cpu=8, quick=0) == 0  # a falsy quick size is still a size


@pytest.mark.parametrize("size, expected", [("full", 40), ("cpu", 8), ("quick", 1), ("CPU", 8)])
def test_course_size_forces_one_size_on_any_machine_and_under_ci(hardware, monkeypatch, size, expected):
    """Does COURSE_SIZE win over the device and over COURSE_QUICK, so a full run can be recorded on a CPU?"""
    hardware(cuda=False)
    monkeypatch.setenv("COURSE_QUICK", "1")
    monkeypatch.setenv("COURSE_SIZE", size)
    assert workload(full=40, cpu=8, quick=1) == expected
    assert current_size() == size.lower()


def test_current_size_names_the_size_workload_takes(hardware, monkeypatch):
    """Does current_size say full on a GPU, cpu on a CPU, quick in CI, as workload chooses?"""
    monkeypatch.delenv("COURSE_SIZE", raising=False)
    hardware(cuda=True)
    assert current_size() == "full" and workload(full="f", cpu="c", quick="q") == "f"
    hardware(cuda=False, mps=False)
    assert current_size() == "cpu" and workload(full="f", cpu="c", quick="q") == "c"
    monkeypatch.setenv("COURSE_QUICK", "1")
    assert current_size() == "quick" and workload(full="f", cpu="c", quick="q") == "q"


def test_an_unknown_course_size_is_refused_with_the_choices(monkeypatch):
    """Is COURSE_SIZE=huge refused with a message that lists full, cpu and quick?"""
    monkeypatch.setenv("COURSE_SIZE", "huge")
    with pytest.raises(ValueError, match="full, cpu, quick"):
        current_size()


def test_set_seed_repeats_python_numpy_and_torch():
    """After set_seed(s) twice, do random, NumPy and torch draw the same numbers, and another seed not?"""
    def draw(seed):
        set_seed(seed)
        return random.random(), np.random.rand(), torch.rand(1).item()

    assert draw(3) == draw(3)
    assert draw(3) != draw(4)


@pytest.fixture
def restore_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def test_cpu_threads_are_capped_by_usable_cores_and_the_maximum(restore_threads, monkeypatch, hardware):
    """Does the thread count stay within the cores this process may use and the cap, and is it applied?"""
    hardware()
    count = configure_cpu_threads()
    assert 1 <= count <= min(usable_cpu_cores(), device_module.MAX_CPU_THREADS)
    assert torch.get_num_threads() == count
    assert configure_cpu_threads(max_threads=1) == 1 == torch.get_num_threads()


@pytest.mark.parametrize("cores, physical, load, expected", [
    (2, 2, 0.1, 2), (2, 2, 0.6, 1), (2, 2, 9.5, 1), (16, 8, 0.0, 8), (16, 8, 10.2, 6), (64, 32, 0.0, 8),
    (8, 4, 2.0, 4)])
def test_cpu_threads_leave_room_for_work_already_running(restore_threads, monkeypatch, hardware,
                                                         cores, physical, load, expected):
    """With this many cores, physical cores and load average, is the thread count the free physical
    cores, capped at MAX_CPU_THREADS, and never below one?"""
    hardware()
    monkeypatch.setattr(device_module, "usable_cpu_cores", lambda: cores)
    monkeypatch.setattr(device_module, "_TORCH_DEFAULT_THREADS", physical)
    monkeypatch.setattr(os, "getloadavg", lambda: (load, load, load))
    assert device_module.busy_cpu_cores() == load
    assert configure_cpu_threads() == expected == torch.get_num_threads()


def test_course_cpu_threads_sets_the_count(restore_threads, monkeypatch, hardware):
    """Does COURSE_CPU_THREADS choose the thread count?"""
    hardware()
    monkeypatch.setenv("COURSE_CPU_THREADS", "1")
    assert configure_cpu_threads() == 1 == torch.get_num_threads()


def test_usable_cores_follow_the_affinity_mask_and_a_cgroup_quota(monkeypatch, tmp_path):
    """With 8 CPUs in the affinity mask, does a cgroup quota of 2.5 CPUs give 3 cores, and 'max' give 8?"""
    if not hasattr(os, "sched_getaffinity"):
        pytest.skip("no affinity masks on this platform")
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)))
    quota = tmp_path / "cpu.max"
    monkeypatch.setattr(device_module, "CGROUP_CPU_MAX", str(quota))
    assert usable_cpu_cores() == 8  # no such file
    quota.write_text("250000 100000\n")
    assert usable_cpu_cores() == 3
    quota.write_text("max 100000\n")
    assert usable_cpu_cores() == 8
    quota.write_text("50000 100000\n")
    assert usable_cpu_cores() == 1


def test_describe_device_names_the_device(monkeypatch):
    """Does the one-line description say cpu and its threads, in the singular for one?"""
    monkeypatch.setattr(device_module, "_threads_chosen", [2])  # the process has chosen already
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        assert describe_device("cpu") == "cpu (2 threads)"
        torch.set_num_threads(1)
        assert describe_device("cpu") == "cpu (1 thread)"
    finally:
        torch.set_num_threads(before)
    assert describe_device("mps") == "mps"
