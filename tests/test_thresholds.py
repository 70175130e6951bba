"""Threshold rules on protocol records, out-of-fold logits, threshold tuning."""

import numpy as np
import pytest
from imblearn.metrics import geometric_mean_score
from sklearn.datasets import make_classification
from sklearn.metrics import f1_score, make_scorer
from sklearn.model_selection import StratifiedKFold

from crcen import experiments, thresholds
from crcen.methods import make_method

SEED = 0

TINY = experiments.Settings(
    n_splits=2, hidden=(4,), alpha=(1e-3,), max_iter=40, cv_folds=3
)


@pytest.fixture
def synthetic(monkeypatch, tmp_path):
    """A small imbalanced dataset known to the protocol, with a fresh cache."""
    monkeypatch.setenv("CRCEN_CACHE_DIR", str(tmp_path))
    X, y = make_classification(
        n_samples=300, n_features=5, weights=[0.88], random_state=SEED
    )
    real = experiments.load_dataset
    monkeypatch.setattr(
        experiments,
        "load_dataset",
        lambda name: (X, y) if name == "synthetic" else real(name),
    )
    return X, y


def _record(rng, n0=180, n1=20, n=400):
    return {"n_train": [n0, n1], "score": rng.normal(-2.0, 2.0, size=n)}


def test_moved_threshold_is_logit_adjustment():
    rng = np.random.default_rng(SEED)
    for _ in range(20):
        rec = _record(rng, n0=int(rng.integers(50, 500)), n1=int(rng.integers(5, 50)))
        moved = thresholds.moved_threshold_pred(rec)
        np.testing.assert_array_equal(moved, thresholds.logit_adjusted_pred(rec))
        n0, n1 = rec["n_train"]
        p = 1 / (1 + np.exp(-rec["score"]))
        np.testing.assert_array_equal(moved, p >= n1 / (n0 + n1))


def test_tau_zero_is_the_plain_rule():
    rec = _record(np.random.default_rng(SEED))
    np.testing.assert_array_equal(
        thresholds.logit_adjusted_pred(rec, tau=0.0), rec["score"] >= 0
    )
    with pytest.raises(ValueError, match="tau"):
        thresholds.logit_adjusted_pred(rec, tau=-1.0)
    with pytest.raises(ValueError, match="positive"):
        thresholds.moved_threshold_pred({"n_train": [10, 0], "score": [0.0]})


@pytest.mark.parametrize("metric", ["f1", "gmean"])
def test_tuned_threshold_is_the_best_candidate(metric):
    """The threshold maximises the score over sklearn's 100 candidates."""
    rng = np.random.default_rng(SEED)
    y = (rng.uniform(size=500) < 0.15).astype(int)
    z = rng.normal(size=500) + 1.5 * y
    if metric == "f1":
        scoring, score = "f1", f1_score
    else:
        scoring, score = make_scorer(geometric_mean_score), geometric_mean_score
    t = thresholds.tuned_threshold(y, z, scoring)
    candidates = np.linspace(z.min(), z.max(), 100)
    best = max(score(y, (z >= c).astype(int)) for c in candidates)
    assert score(y, (z >= t).astype(int)) == pytest.approx(best)
    assert candidates.min() <= t <= candidates.max()


def test_tuned_threshold_bad_input():
    with pytest.raises(ValueError, match="one length"):
        thresholds.tuned_threshold([0, 1, 1], [0.1, 0.2], "f1")


def test_oof_scores_match_the_pipelines(synthetic, monkeypatch):
    """Each fold's logits are those of the MLP pipeline fitted on the others."""
    X, y = synthetic
    config = {"hidden": 4, "alpha": 1e-3}
    out = thresholds.oof_scores("synthetic", config, settings=TINY)
    assert len(out) == TINY.n_splits
    for k, rec in enumerate(out):
        train, _ = experiments.split(y, k, TINY)
        np.testing.assert_array_equal(rec["train_index"], train)
        np.testing.assert_array_equal(rec["y_train"], y[train])
        cv = StratifiedKFold(3, shuffle=True, random_state=TINY.seed + k)
        for a, b in cv.split(train, y[train]):
            pipe = make_method(
                "MLP", hidden=4, alpha=1e-3, max_iter=40, random_state=TINY.seed + k
            ).fit(X[train[a]], y[train[a]])
            z = pipe.decision_function(X[train[b]])
            np.testing.assert_allclose(rec["score"][b], z, rtol=1e-6, atol=1e-6)
    # a second call reads the cache and fits nothing

    def no_fit(*args, **kwargs):
        raise AssertionError("oof_scores refitted a cached split")

    monkeypatch.setattr(thresholds, "fit_batch", no_fit)
    again = thresholds.oof_scores("synthetic", config, settings=TINY)
    np.testing.assert_array_equal(again[1]["score"], out[1]["score"])


def test_oof_scores_bad_input(synthetic):
    with pytest.raises(ValueError, match="folds"):
        thresholds.oof_scores(
            "synthetic", {"hidden": 4, "alpha": 1e-3}, folds=1, settings=TINY
        )
