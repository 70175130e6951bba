"""The protocol on a small synthetic dataset, the methods, CSMLP's loss, the paper."""

from dataclasses import replace

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification

from crcen import experiments, fit_stack, methods, paper, protocol, theory
from crcen._loss import LOSSES

SEED = 0

TINY = experiments.Settings(
    n_splits=2, hidden=(4, 8), alpha=(1e-3, 1e-1), max_iter=40, cv_folds=3
)


def _synthetic():
    X, y = make_classification(
        n_samples=400,
        n_features=6,
        n_informative=4,
        weights=[0.88],
        class_sep=1.5,
        random_state=SEED,
    )
    return X * [1, 10, 100, 0.1, 1, 5], y


@pytest.fixture
def synthetic(monkeypatch, tmp_path):
    """Make "synthetic" a dataset of the protocol, with a fresh cache."""
    monkeypatch.setenv("CRCEN_CACHE_DIR", str(tmp_path))
    real = experiments.load_dataset

    def load_dataset(name):
        return _synthetic() if name == "synthetic" else real(name)

    monkeypatch.setattr(experiments, "load_dataset", load_dataset)
    return "synthetic"


def test_splits_are_stratified_and_fixed():
    _, y = _synthetic()
    train, test = experiments.split(y, 1, TINY)
    assert len(test) == 100 and not set(train) & set(test)
    assert abs(y[test].mean() - y.mean()) < 0.01
    again, _ = experiments.split(y, 1, replace(TINY, n_splits=10))
    np.testing.assert_array_equal(train, again)
    other, _ = experiments.split(y, 0, TINY)
    assert set(other) != set(train)


def test_quick_mode_is_the_same_protocol_smaller(monkeypatch):
    monkeypatch.setenv("CRCEN_MODE", "quick")
    assert experiments.settings() is experiments.QUICK
    monkeypatch.setenv("CRCEN_MODE", "full")
    full = experiments.settings()
    assert full.hidden == experiments.GRID["hidden"]
    assert full.alpha == experiments.GRID["alpha"]
    assert (full.n_splits, full.cv_folds, full.max_iter) == (4, 4, 200)
    assert full.test_size == experiments.QUICK.test_size == 0.25


def test_subsample_keeps_the_imbalance(synthetic):
    small = replace(TINY, max_samples=200)
    X, y = experiments.load(synthetic, small)
    _, y_all = _synthetic()
    assert X.shape == (200, 6) and abs(y.mean() - y_all.mean()) < 0.01


def test_grid_search_picks_the_best_mean_cv_gmean(synthetic):
    out = protocol.grid_search(synthetic, "CRCEN", settings=TINY)
    assert out["cv_gmean"].shape == (2, 2, 3)
    mean = out["cv_gmean"].mean(-1)
    i, j = np.unravel_index(np.argmax(mean), mean.shape)
    assert (out["hidden"], out["alpha"]) == (TINY.hidden[i], TINY.alpha[j])
    assert np.all((out["cv_gmean"] >= 0) & (out["cv_gmean"] <= 1))
    # the reweighted loss finds minority samples in every fold
    assert mean.max() > 0.5


@pytest.mark.parametrize("method", methods.METHODS)
def test_records_match_the_pipeline(synthetic, method):
    """The batched fit of the protocol equals the method's pipeline."""
    X, y = _synthetic()
    conf = {"hidden": 8, "alpha": 1e-2} if method in methods.MLP_METHODS else None
    records = protocol.run_protocol(synthetic, method, config=conf, settings=TINY)
    assert [r["split"] for r in records] == [0, 1]
    for r in records:
        train, test = experiments.split(y, r["split"], TINY)
        np.testing.assert_array_equal(r["test_index"], test)
        np.testing.assert_array_equal(r["y_test"], y[test])
        np.testing.assert_array_equal(r["pred"], r["score"] > r["threshold"])
        assert r["n_train"] == [int((y[train] == 0).sum()), int(y[train].sum())]
        kw = {**conf, "max_iter": TINY.max_iter} if conf else {}
        seed = r["seed"] + 1000 * (r.get("attempts", 1) - 1)
        pipe = methods.make_method(method, random_state=seed, **kw)
        pipe.fit(X[train], y[train])
        np.testing.assert_array_equal(r["pred"], pipe.predict(X[test]))
        if conf:
            z = pipe.decision_function(X[test])
            np.testing.assert_allclose(r["score"], z, rtol=1e-6, atol=1e-6)


def test_rusboost_draws_again_when_it_cannot_start(synthetic):
    # on this dataset the first stump of split 0's undersample errs on more
    # than half of the training set, and imbalanced-learn refuses to fit
    X, y = _synthetic()
    train, _ = experiments.split(y, 0, TINY)
    with pytest.raises(ValueError, match="worse than random"):
        methods.make_method("RUSBoost", random_state=0).fit(X[train], y[train])
    record = protocol.run_protocol(synthetic, "RUSBoost", 1, settings=TINY)[0]
    assert record["attempts"] > 1


def test_lambda_of_each_method(synthetic):
    conf = {"hidden": 4, "alpha": 1e-2}
    crcen, mlp = (
        protocol.run_protocol(synthetic, m, config=conf, settings=TINY)[0]
        for m in ("CRCEN", "MLP")
    )
    n0, n1 = crcen["n_train"]
    assert crcen["lam"] == pytest.approx(n0 / (n0 + n1))
    assert mlp["lam"] == 0.5
    twice = protocol.run_protocol(
        synthetic, "CRCEN", config=conf, lam_alpha=2.0, settings=TINY
    )[0]
    assert twice["lam"] == pytest.approx(theory.lam_for_alpha(2.0, n0, n1))
    assert not np.array_equal(twice["score"], crcen["score"])
    with pytest.raises(ValueError, match="CSMLP and CRCEN only"):
        protocol.run_protocol(synthetic, "MLP", lam_alpha=2.0, settings=TINY)


def test_cached_splits_are_not_refitted(synthetic, monkeypatch):
    conf = {"hidden": 4, "alpha": 1e-2}
    first = protocol.run_protocol(synthetic, "CRCEN", config=conf, settings=TINY)
    fitted = []
    real = protocol.fit_batch

    def counting(method, prepared, *args):
        fitted.append(len(prepared))
        return real(method, prepared, *args)

    monkeypatch.setattr(protocol, "fit_batch", counting)
    again = protocol.run_protocol(synthetic, "CRCEN", config=conf, settings=TINY)
    assert fitted == []
    np.testing.assert_array_equal(first[1]["score"], again[1]["score"])
    more = protocol.run_protocol(synthetic, "CRCEN", 3, config=conf, settings=TINY)
    assert fitted == [1] and len(more) == 3
    np.testing.assert_array_equal(first[0]["score"], more[0]["score"])


def test_interrupted_run_resumes(synthetic, monkeypatch):
    conf = {"hidden": 4, "alpha": 1e-2}
    stored, fitted = [], []
    real_store, real_fit = protocol.cache.store, protocol._fit_mlp_splits

    def store_once(key, value, folder=None):
        if stored:
            raise KeyboardInterrupt("stopped after the first split")
        stored.append(key["split"])
        return real_store(key, value, folder)

    with monkeypatch.context() as patch:
        patch.setattr(protocol.cache, "store", store_once)
        with pytest.raises(KeyboardInterrupt):
            protocol.run_protocol(synthetic, "MLP", config=conf, settings=TINY)

    def counting(X, y, method, ks, *args):
        fitted.extend(ks)
        return real_fit(X, y, method, ks, *args)

    monkeypatch.setattr(protocol, "_fit_mlp_splits", counting)
    records = protocol.run_protocol(synthetic, "MLP", config=conf, settings=TINY)
    assert stored == [0] and fitted == [1] and len(records) == 2


def test_results_table(synthetic):
    table = protocol.results(
        [synthetic], ["CRCEN", "BRF"], settings=TINY, progress=False
    )
    assert list(table.columns) == [
        "dataset",
        "method",
        "lam_alpha",
        "split",
        "F1",
        "G-mean",
        "TN",
        "FP",
        "FN",
        "TP",
    ]
    assert table.shape[0] == 4
    assert (table[["TN", "FP", "FN", "TP"]].sum(axis=1) == 100).all()
    assert list(table["method"]) == ["CRCEN", "CRCEN", "BRF", "BRF"]
    assert table[["F1", "G-mean"]].apply(lambda c: c.between(0, 1)).all().all()


def test_bad_input(synthetic):
    with pytest.raises(ValueError, match="Unknown method"):
        protocol.run_protocol(synthetic, "SVM", settings=TINY)
    with pytest.raises(ValueError, match="no grid search"):
        protocol.grid_search(synthetic, "BRF", settings=TINY)
    with pytest.raises(ValueError, match="takes no config"):
        protocol.run_protocol(synthetic, "BRF", config={"hidden": 4}, settings=TINY)
    with pytest.raises(ValueError, match="n_splits"):
        protocol.run_protocol(synthetic, "BRF", 0, settings=TINY)
    with pytest.raises(ValueError, match="lam can be set"):
        methods.make_method("MLP", lam=0.9)


def test_csmlp_loss_and_gradient():
    torch.manual_seed(SEED)
    z = torch.randn(2, 7, 1, dtype=torch.float64, requires_grad=True)
    y = (torch.rand(2, 7) > 0.6).double()
    w = torch.where(y > 0, 0.9, 0.1).double()
    loss_fn, n_out = LOSSES["csmlp"]
    assert n_out(2) == 1
    loss = loss_fn(z, y, w)
    o = torch.tanh(z[..., 0])
    t = 2 * y - 1
    expected = 0.5 * (w * (t - o) ** 2).sum(-1)
    torch.testing.assert_close(loss, expected)
    # Castro and Braga's gradient: dL/dz = -w (t - o) (1 - o^2)
    (grad,) = torch.autograd.grad(loss.sum(), z)
    torch.testing.assert_close(grad[..., 0], -w * (t - o) * (1 - o**2))
    assert torch.autograd.gradcheck(lambda v: loss_fn(v, y, w), (z,))


@pytest.mark.parametrize("lam", [0.8, 0.9])
def test_csmlp_constant_output_weighs_the_classes(lam):
    # With no input to use, the network outputs the constant o minimising
    # λ N1 (1 - o)² + (1 - λ) N0 (1 + o)²: o = (a - b) / (a + b), a = λ N1,
    # b = (1 - λ) N0; λ = N0 / (N0 + N1) = 0.8 puts it on the boundary, o = 0.
    y = np.array([1.0, 0, 0, 0, 0])
    w = np.where(y > 0, lam, 1 - lam)[None, :]
    fit = fit_stack(
        np.zeros((5, 1)), y, w, hidden_layer_sizes=[()], loss="csmlp", tol=1e-12
    )
    o = np.tanh(fit.stack.decision_function(np.zeros((1, 1)))[0, 0, 0])
    a, b = lam * 1, (1 - lam) * 4
    assert o == pytest.approx((a - b) / (a + b), abs=1e-6)


def test_paper_table2_is_the_data():
    pytest.importorskip("imblearn")
    from crcen.datasets import load_dataset

    for name, (n, d, ratio) in paper.TABLE2.items():
        X, y = load_dataset(name)
        assert X.shape == (n, d)
        n1 = int(y.sum())
        digits = 0 if ratio >= 10 else 1
        assert round((n - n1) / n1, digits) == ratio


def test_paper_figure1_expense():
    (fn1, fp1), (fn2, fp2) = paper.FIGURE1_ABALONE[1.0], paper.FIGURE1_ABALONE[2.0]
    assert (fp2 - fp1) / (fn1 - fn2) == pytest.approx(5.526, abs=1e-3)
    assert set(paper.TABLE3) == {
        (d, m) for d in paper.TABLE2 for m in paper.TABLE3_METHODS
    }
    assert paper.TABLE3_METHODS == methods.METHODS
