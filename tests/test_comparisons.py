"""Comparisons over seeds (course.comparisons): means, ranges, claims and what they record."""
from __future__ import annotations

import json
import statistics

import pytest

from course.comparisons import compare


def fake(offset, wobble):
    """A run whose accuracy is offset + wobble·(seed − 1) and whose loss falls as accuracy rises."""
    return lambda seed: {"test_acc": offset + wobble * (seed - 1), "test_loss": 2.0 - offset}


def test_means_and_ranges_are_over_the_seeds():
    """Are the mean and the range (max − min) those of the per-seed values?"""
    results = compare({"a": fake(0.5, 0.02)}, seeds=(0, 1, 2), progress=False)
    values = [0.48, 0.5, 0.52]
    assert results.values["a"]["test_acc"] == pytest.approx(values)
    assert results.mean("a", "test_acc") == pytest.approx(statistics.fmean(values))
    assert results.spread("a", "test_acc") == pytest.approx(0.04)
    assert len(results.values["a"]["time"]) == 3


@pytest.mark.parametrize("gap, wobble, holds", [(0.10, 0.02, True), (0.03, 0.02, False), (0.041, 0.02, True),
                                                (-0.1, 0.0, False)])
def test_a_claim_holds_only_when_the_margin_exceeds_the_seed_to_seed_range(gap, wobble, holds):
    """Is "b beats a" true exactly when mean(b) − mean(a) is larger than the larger range of the two?"""
    results = compare({"a": fake(0.5, wobble), "b": fake(0.5 + gap, wobble)}, progress=False)
    claim = results.claim("b", "a", "test_acc", show=False)
    assert claim.margin == pytest.approx(gap)
    assert claim.spread == pytest.approx(2 * wobble)
    assert claim.holds is holds
    assert ("NOT SHOWN" in str(claim)) is (not holds)


def test_fewer_than_three_seeds_never_make_a_claim():
    """With one or two seeds, is even a large gap not claimed, and does the text say why?"""
    results = compare({"a": fake(0.5, 0.0), "b": fake(0.9, 0.0)}, seeds=(0, 1), progress=False)
    claim = results.claim("b", "a", show=False)
    assert not claim.holds and "2 seeds cannot separate" in str(claim)
    one = compare({"a": fake(0.5, 0.0)}, seeds=(0,), title="t", progress=False)
    assert "(1 seed: 0;" in one.table(show=False)


def test_for_a_loss_lower_is_better():
    """Does "b beats a on test loss" mean b's loss is lower, with a positive margin?"""
    results = compare({"a": fake(0.5, 0.0), "b": fake(0.7, 0.0)}, progress=False)
    claim = results.claim("b", "a", "test_loss", show=False)
    assert claim.holds and claim.margin == pytest.approx(0.2)
    assert not results.claim("a", "b", "test_loss", show=False).holds


def test_claims_print_numbers_taken_from_the_results(capsys):
    """Does a printed claim carry both means, the margin in points and the range, from the data?"""
    results = compare({"plain": fake(0.30, 0.01), "augmented": fake(0.394, 0.01)}, progress=False)
    results.claim("augmented", "plain", "test_acc")
    out = capsys.readouterr().out
    assert "augmented beats plain on test accuracy" in out
    assert "0.394 against 0.300" in out and "9.4 points" in out and "2.0 points" in out


def test_select_chooses_on_the_validation_metric_not_the_test_metric():
    """Does select(by='val_acc') pick the best validation mean even when another is best on test?"""
    runs = {"a": lambda s: {"val_acc": 0.9, "val_loss": 0.8, "test_acc": 0.5},
            "b": lambda s: {"val_acc": 0.8, "val_loss": 0.3, "test_acc": 0.7}}
    results = compare(runs, seeds=(0, 1), progress=False)
    assert results.select("val_acc") == "a"
    assert results.select("val_loss") == "b"  # a loss: the lowest wins


def test_the_table_shows_every_configuration_and_metric():
    """Does the table list each configuration with mean ± half range per metric?"""
    results = compare({"a": fake(0.5, 0.02), "b": fake(0.6, 0.0)}, title="demo", progress=False)
    text = results.table("test_acc", show=False)
    assert "demo (3 seeds: 0, 1, 2" in text
    assert "0.500 ± 0.020" in text and "0.600 ± 0.000" in text


def test_course_record_appends_comparisons_and_claims_as_json_lines(tmp_path, monkeypatch):
    """With COURSE_RECORD set, are the per-seed values, each claim, the size and the device written down?"""
    path = tmp_path / "record.jsonl"
    monkeypatch.setenv("COURSE_RECORD", str(path))
    monkeypatch.setenv("COURSE_SIZE", "cpu")
    results = compare({"a": fake(0.5, 0.01), "b": fake(0.7, 0.01)}, title="t", progress=False)
    results.claim("b", "a", show=False)
    entries = [json.loads(line) for line in path.read_text().splitlines()]
    assert [e["kind"] for e in entries] == ["comparison", "claim"]
    assert entries[0]["values"]["b"]["test_acc"] == pytest.approx([0.69, 0.7, 0.71])
    assert entries[1]["holds"] is True and entries[1]["values"]["a"] == pytest.approx([0.49, 0.5, 0.51])
    assert entries[1]["size"] == "cpu" and entries[1]["device"].startswith("cpu")


def test_nothing_to_compare_is_refused():
    """Are no configurations, or no seeds, refused with the reason?"""
    with pytest.raises(ValueError, match="configuration"):
        compare({})
    with pytest.raises(ValueError, match="seed"):
        compare({"a": fake(0.5, 0.0)}, seeds=())
