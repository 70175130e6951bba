"""CRCENClassifier and CSMLPClassifier as scikit-learn estimators."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.utils.estimator_checks import parametrize_with_checks

from crcen import CRCENClassifier, CSMLPClassifier, theory

# A check expected to fail, with the reason.
EXPECTED_FAILED = {
    "check_sample_weight_equivalence_on_dense_data": (
        "a non-convex network stopped after max_iter L-BFGS iterations reaches "
        "different points from weighted and from repeated data"
    ),
}


def _expected_failed(estimator):
    return EXPECTED_FAILED


@parametrize_with_checks(
    [
        CRCENClassifier(hidden_layer_sizes=(5,), max_iter=50, random_state=0),
        CSMLPClassifier(hidden_layer_sizes=(5,), max_iter=50, random_state=0),
    ],
    expected_failed_checks=_expected_failed,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def imbalanced():
    return make_classification(
        n_samples=400, n_features=4, weights=[0.85], class_sep=0.8, random_state=1
    )


def _fit(X, y, **kw):
    kw.setdefault("hidden_layer_sizes", (6,))
    kw.setdefault("random_state", 0)
    return CRCENClassifier(**kw).fit(X, y)


@pytest.mark.parametrize(
    "labels", [(0, 1), (-1.0, 1.0), ("maj", "min"), (7, -2)], ids=str
)
def test_any_two_labels(imbalanced, labels):
    X, y01 = imbalanced
    y = np.where(y01 == 1, labels[1], labels[0])
    ref = _fit(X, y01)
    clf = _fit(X, y)
    assert set(clf.classes_) == set(labels)
    # same problem, same minority, same network: same predictions
    np.testing.assert_array_equal(clf.predict(X) == labels[1], ref.predict(X) == 1)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    pos = list(clf.classes_).index(labels[1])
    np.testing.assert_allclose(proba[:, pos], ref.predict_proba(X)[:, 1], atol=1e-10)


def test_balanced_lam_and_minority(imbalanced):
    X, y = imbalanced
    clf = _fit(X, y, lam="balanced")
    assert clf.lam_ == pytest.approx(np.mean(y == 0))
    # the minority is label 1 here; with labels swapped, it is label 0
    flipped = _fit(X, 1 - y, lam="balanced")
    np.testing.assert_allclose(
        flipped.predict_proba(X)[:, 0], clf.predict_proba(X)[:, 1], atol=1e-10
    )


def test_tie_makes_second_class_the_minority():
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = np.array(["a", "a", "b", "b"])
    clf = CRCENClassifier(hidden_layer_sizes=(), lam=0.9, max_iter=500, tol=1e-12)
    clf.fit(X, y)
    # λ = 0.9 weights "b": the key equation holds with "b" as class 1
    p = clf.predict_proba(X)[:, 1]
    lhs = theory.key_equation_lhs((y == "b").astype(int), p)
    assert lhs == pytest.approx(theory.key_equation_rhs(0.9), rel=1e-6)


def test_key_equation_at_optimum(imbalanced):
    X, y = imbalanced
    clf = _fit(X, y, activation="tanh", alpha=1e-2, tol=1e-10, max_iter=3000)
    p = clf.predict_proba(X)[:, 1]
    lhs = theory.key_equation_lhs(y, p)
    assert lhs == pytest.approx(theory.key_equation_rhs(clf.lam_), rel=1e-6)


def test_lam_half_is_plain_cross_entropy(imbalanced):
    X, y = imbalanced
    a = _fit(X, y, lam=0.5)
    b = CRCENClassifier(hidden_layer_sizes=(6,), lam=0.5, random_state=0)
    b.fit(X, y, sample_weight=np.ones(len(y)))
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    # the balanced λ predicts the minority class more often
    assert _fit(X, y).predict(X).sum() > a.predict(X).sum()


def test_sample_weight_scales_class_weights(imbalanced):
    X, y = imbalanced
    # doubling every minority weight under λ = 1/2 equals λ = 2/3
    sw = np.where(y == 1, 2.0, 1.0)
    # (the penalty is off: it would weigh differently against the rescaled loss)
    kw = {"hidden_layer_sizes": (), "alpha": 0.0, "tol": 1e-12, "max_iter": 1000}
    a = CRCENClassifier(lam=0.5, **kw).fit(X, y, sample_weight=sw)
    b = CRCENClassifier(lam=2 / 3, **kw).fit(X, y)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), atol=1e-7)


def test_same_seed_same_predictions(imbalanced):
    X, y = imbalanced
    runs = [_fit(X, y, random_state=7).predict_proba(X) for _ in range(3)]
    np.testing.assert_array_equal(runs[0], runs[1])
    np.testing.assert_array_equal(runs[0], runs[2])
    other = _fit(X, y, random_state=8).predict_proba(X)
    assert not np.array_equal(runs[0], other)


@pytest.mark.parametrize("solver", ["lbfgs", "adam", "sgd"])
def test_solvers_reduce_the_loss(imbalanced, solver):
    X, y = imbalanced
    clf = _fit(X, y, solver=solver, max_iter=30, learning_rate_init=0.01)
    assert clf.n_iter_ == len(clf.loss_curve_) - (solver == "lbfgs")
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]


def test_fitted_attributes(imbalanced):
    X, y = imbalanced
    clf = _fit(X, y)
    assert clf.n_features_in_ == 4
    assert clf.n_iter_ >= 1 and clf.loss_ == clf.loss_curve_[-1]
    assert clf.score(X, y) > 0.8
    assert clf.decision_function(X).shape == (400,)


def test_csmlp_predicts_minority_more_than_plain_mlp(imbalanced):
    X, y = imbalanced
    cs = CSMLPClassifier(hidden_layer_sizes=(6,), random_state=0).fit(X, y)
    plain = _fit(X, y, lam=0.5)
    assert cs.predict(X).sum() > plain.predict(X).sum()
    assert not hasattr(cs, "predict_proba")


X_OK = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0]])
Y_OK = np.array([0, 0, 1, 1])


@pytest.mark.parametrize(
    ("params", "X", "y", "match"),
    [
        ({"lam": 0.0}, X_OK, Y_OK, "open interval"),
        ({"lam": 1.0}, X_OK, Y_OK, "open interval"),
        ({"lam": 1.2}, X_OK, Y_OK, "open interval"),
        ({"lam": "equal"}, X_OK, Y_OK, "'balanced'"),
        ({}, X_OK, np.zeros(4), "only one class"),
        ({}, X_OK[:0], Y_OK[:0], "0 sample"),
        ({}, np.where(X_OK == 1, np.nan, X_OK), Y_OK, "NaN"),
        ({}, np.where(X_OK == 1, np.inf, X_OK), Y_OK, "infinity"),
        ({}, X_OK, Y_OK[:3], "inconsistent numbers of samples"),
        ({"alpha": -1.0}, X_OK, Y_OK, "alpha"),
        ({"hidden_layer_sizes": (0,)}, X_OK, Y_OK, "hidden_layer_sizes"),
        ({"max_iter": 0}, X_OK, Y_OK, "max_iter"),
        ({"solver": "newton"}, X_OK, Y_OK, "solver"),
        ({"activation": "gelu"}, X_OK, Y_OK, "activation"),
    ],
)
def test_bad_input(params, X, y, match):
    params = {"hidden_layer_sizes": (3,), **params}
    with pytest.raises(ValueError, match=match):
        CRCENClassifier(**params).fit(X, y)


def test_more_than_two_classes_csmlp():
    y = np.array([0, 1, 2, 2])
    with pytest.raises(ValueError, match="Only binary classification"):
        CSMLPClassifier(hidden_layer_sizes=(3,)).fit(X_OK, y)


def test_more_than_two_classes_with_float_lam():
    y = np.array([0, 1, 2, 2])
    with pytest.raises(ValueError, match="lam"):
        CRCENClassifier(hidden_layer_sizes=(3,), lam=0.7).fit(X_OK, y)


def test_bad_sample_weight():
    clf = CRCENClassifier(hidden_layer_sizes=(3,))
    with pytest.raises(ValueError, match="sample_weight"):
        clf.fit(X_OK, Y_OK, sample_weight=[1.0, -1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="sample_weight"):
        clf.fit(X_OK, Y_OK, sample_weight=[1.0, 1.0])
