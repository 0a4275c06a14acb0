"""The student-side explainer: a failing visible test names the mistake its numbers match."""
import json

import numpy as np
import pytest
import torch

from course.feedback import DATA_NAME, LIKELY, Explainer, encode, find_data, same


def _explainer(tmp_path, entries, assignment="demo"):
    path = tmp_path / DATA_NAME
    path.write_text(json.dumps({"assignment": assignment, "tests": {"test_x": entries}}))
    return Explainer(assignment, path=path)


MISTAKE = {"diagnosis": "you forgot the bias correction.", "first_wrong": 1,
           "values": [encode(1.0), encode(np.array([3.16, 1.0]))]}


def test_encoding_keeps_numbers_arrays_tensors_dicts_and_tuples():
    """Do a NumPy array, a torch tensor and a list encode alike, and do dicts and tuples keep
    their structure?"""
    a = encode(np.array([[1.0, 2.0]]))
    assert a == encode(torch.tensor([[1.0, 2.0]])) == encode([[1, 2]]) == {"shape": [1, 2], "data": [1.0, 2.0]}
    assert encode({"tp": 2, "fp": 1}) == {"keys": ["fp", "tp"], "items": [encode(1), encode(2)]}
    assert encode((np.zeros(2), np.ones(3)))["items"][1]["shape"] == [3]
    assert encode(None) == {"type": "NoneType"} and encode(True) == {"shape": [], "data": [1.0]}


def test_same_compares_within_tolerance_shape_and_structure():
    """Are values equal within the tolerance, and different in shape, structure or beyond it?"""
    assert same(encode([1.0, np.inf]), encode([1.0 + 1e-9, np.inf]))
    assert not same(encode([1.0, 2.0]), encode([1.0, 2.1]))
    assert not same(encode(np.zeros((1, 2))), encode(np.zeros(2)))
    assert not same(encode({"a": 1}), encode((1,)))
    assert same(encode(0.30), encode(0.302), rtol=0, atol=0.005)


def test_a_failing_assert_gets_the_diagnosis_its_numbers_match(tmp_path):
    """Does an assert that fails after the numbers of a known mistake carry its diagnosis,
    under the failure's own message and traceback?"""
    explain = _explainer(tmp_path, [MISTAKE])
    with pytest.raises(AssertionError) as failure:
        with explain("test_x") as seen:
            seen(1.0)
            value = seen(np.array([3.16, 1.0]))
            if not np.allclose(value, [1.0, 1.0]):   # pytest rewrites `assert` in this file
                raise AssertionError(f"{value}")
    text = str(failure.value)
    assert text.startswith("[3.16 1.  ]\n\n" + LIKELY + "you forgot the bias correction."), text
    assert failure.traceback[-1].name == "test_a_failing_assert_gets_the_diagnosis_its_numbers_match"


def test_right_numbers_or_other_wrong_numbers_get_no_diagnosis(tmp_path):
    """Is nothing added when the numbers so far are still right (before the mistake's first
    wrong one), when they differ from the mistake's, or when the error is not an assert?"""
    explain = _explainer(tmp_path, [MISTAKE])
    with pytest.raises(AssertionError) as failure:
        with explain("test_x") as seen:
            seen(1.0)
            assert False, "an assert on something not recorded"
    assert LIKELY not in str(failure.value)
    with pytest.raises(AssertionError) as failure:
        with explain("test_x") as seen:
            seen(1.0), seen(np.array([2.0, 1.0]))
            assert False, "other numbers"
    assert LIKELY not in str(failure.value)
    with pytest.raises(TypeError):
        with explain("test_x") as seen:
            seen(1.0), seen(np.array([3.16, 1.0]))
            raise TypeError("not an assert: left as it is")


def test_several_matching_mistakes_are_all_named(tmp_path):
    other = dict(MISTAKE, diagnosis="you restart the state at every step.")
    explain = _explainer(tmp_path, [MISTAKE, other])
    with pytest.raises(AssertionError) as failure:
        with explain("test_x") as seen:
            seen(1.0), seen([3.16, 1.0])
            assert False
    assert "bias correction" in str(failure.value) and "\n  or: you restart" in str(failure.value)


def test_without_data_the_explainer_changes_nothing(tmp_path, monkeypatch):
    """Outside the course (no mistakes.json beside the notebook or in the package), does a
    failure stay exactly as it was?"""
    monkeypatch.chdir(tmp_path)
    explain = Explainer("no-such-assignment")
    assert explain.path is None and "no data found" in repr(explain)
    with pytest.raises(AssertionError, match=r"^plain$"):
        with explain("test_x") as seen:
            seen(1.0)
            raise AssertionError("plain")


def test_data_is_found_beside_the_notebook_first(tmp_path, monkeypatch):
    """Does the explainer read the mistakes.json in the notebook's folder (the kernel's working
    folder), and only one written for the same assignment?"""
    (tmp_path / DATA_NAME).write_text(json.dumps({"assignment": "metrics", "tests": {}}))
    monkeypatch.chdir(tmp_path)
    assert find_data("metrics") == tmp_path / DATA_NAME
    assert find_data("optimizers") != tmp_path / DATA_NAME
