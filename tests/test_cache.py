"""The results cache: round trips, keys, and what an interrupted write leaves."""

import json
import os

import numpy as np
import pytest

from crcen import cache


def _value():
    return {
        "score": np.array([0.1, -2.5, 1 / 3]),
        "pred": np.array([[1, 0], [0, 1]], dtype=np.int64),
        "lam": 0.9064,
        "n_iter": 200,
        "config": {"hidden": 8, "alpha": 1e-4},
        "missing": None,
    }


def test_round_trip_is_exact(tmp_path):
    cache.store({"seed": 1}, _value(), tmp_path)
    got = cache.load({"seed": 1}, tmp_path)
    np.testing.assert_array_equal(got["score"], _value()["score"])
    assert got["score"].dtype == np.float64
    assert got["pred"].dtype == np.int64 and got["pred"].shape == (2, 2)
    assert got["lam"] == 0.9064 and got["config"] == {"hidden": 8, "alpha": 1e-4}
    assert got["missing"] is None


def test_the_key_names_the_entry(tmp_path):
    cache.store({"seed": 1, "method": "CRCEN"}, {"x": 1}, tmp_path)
    assert cache.load({"method": "CRCEN", "seed": 1}, tmp_path) == {"x": 1}
    assert cache.load({"seed": 2, "method": "CRCEN"}, tmp_path) is None
    assert cache.load({"seed": 1, "method": "MLP"}, tmp_path) is None


def test_a_new_package_version_misses(tmp_path, monkeypatch):
    cache.store({"seed": 1}, {"x": 1}, tmp_path)
    versions = cache._versions()
    monkeypatch.setattr(cache, "_versions", lambda: versions | {"crcen": "9.9"})
    assert cache.load({"seed": 1}, tmp_path) is None


def test_cached_computes_once(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return _value()

    first = cache.cached({"seed": 3}, compute, tmp_path)
    second = cache.cached({"seed": 3}, compute, tmp_path)
    assert len(calls) == 1
    np.testing.assert_array_equal(first["score"], second["score"])


def test_interrupted_write_leaves_no_entry(tmp_path, monkeypatch):
    def broken_replace(src, dst):
        raise KeyboardInterrupt("interrupted between writing and renaming")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(KeyboardInterrupt):
        cache.cached({"seed": 4}, _value, tmp_path)
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []
    assert cache.load({"seed": 4}, tmp_path) is None
    # the next run resumes: it computes the entry and stores it
    calls = []
    value = cache.cached({"seed": 4}, lambda: calls.append(1) or _value(), tmp_path)
    assert calls == [1] and value["n_iter"] == 200


def test_interrupted_compute_leaves_no_entry(tmp_path):
    def compute():
        raise KeyboardInterrupt("stopped while fitting")

    with pytest.raises(KeyboardInterrupt):
        cache.cached({"seed": 5}, compute, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_killed_writer_leaves_only_an_ignored_temporary(tmp_path):
    # A process killed mid-write never reaches os.replace: what is left is a
    # partial temporary file, which no key maps to.
    text = json.dumps({"key": cache.full_key({"seed": 6}), "value": {"x": 1}})
    (tmp_path / ".tmp-killed.json").write_text(text[: len(text) // 2])
    assert cache.load({"seed": 6}, tmp_path) is None
    assert cache.cached({"seed": 6}, lambda: {"x": 2}, tmp_path) == {"x": 2}


def test_corrupt_entry_is_recomputed(tmp_path, caplog):
    path = cache.store({"seed": 7}, {"x": 1}, tmp_path)
    path.write_text(path.read_text()[:-10])
    assert cache.load({"seed": 7}, tmp_path) is None
    assert "unreadable" in caplog.text
    assert cache.cached({"seed": 7}, lambda: {"x": 2}, tmp_path) == {"x": 2}
    assert cache.load({"seed": 7}, tmp_path) == {"x": 2}


def test_entry_with_another_key_is_ignored(tmp_path):
    path = cache.entry_path({"seed": 8}, tmp_path)
    entry = {"key": cache.full_key({"seed": 9}), "value": {"x": 1}}
    path.write_text(json.dumps(entry))
    assert cache.load({"seed": 8}, tmp_path) is None


@pytest.mark.parametrize(
    "key, value, message",
    [
        ([("seed", 1)], {"x": 1}, "must be a dict"),
        ({"versions": 1}, {"x": 1}, "may not use"),
        ({"seed": 1}, None, "None"),
    ],
)
def test_bad_input(tmp_path, key, value, message):
    with pytest.raises(ValueError, match=message):
        cache.cached(key, lambda: value, tmp_path)


def test_unstorable_value(tmp_path):
    with pytest.raises(TypeError, match="cannot store"):
        cache.store({"seed": 1}, {"x": object()}, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_keys_follow_the_code_the_fits_run_through(tmp_path):
    modules = cache.source_modules()
    assert {"_train", "_stack", "_loss", "methods", "protocol"} <= set(modules)
    # presentation and the published numbers cannot change a result
    assert not {"plotting", "paper"} & set(modules)
    source = tmp_path / "m.py"
    source.write_text("from . import cache, config\nfrom ._train import x\n")
    assert cache._imported_modules(source) == {"cache", "config", "_train"}


def test_docstrings_and_comments_do_not_change_the_code(tmp_path):
    a, b, c = (tmp_path / f"{n}.py" for n in "abc")
    a.write_text('"""Module."""\n\ndef f(x):\n    """Doc."""\n    return x + 1\n')
    b.write_text('"""Other."""\n# a comment\ndef f(x):\n    return (x + 1)\n')
    c.write_text("def f(x):\n    return x + 2\n")
    assert cache._code_of(a) == cache._code_of(b) != cache._code_of(c)
