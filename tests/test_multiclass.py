"""CRCENClassifier with more than two classes: softmax and class weights."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.metrics import balanced_accuracy_score, recall_score
from sklearn.model_selection import train_test_split

from crcen import CRCENClassifier, CSMLPClassifier, theory

SEED = 0


def _three_classes(n=600, seed=SEED):
    return make_classification(
        n_samples=n,
        n_features=4,
        n_informative=3,
        n_redundant=0,
        n_classes=3,
        n_clusters_per_class=1,
        weights=[0.75, 0.18, 0.07],
        class_sep=0.8,
        random_state=seed,
    )


def _classwise_sides(y_idx, P, w):
    """Both sides of the class-wise key equation, one pair per class:
    w_k Σ_{i∈S_k} (1 − p_ik)  and  Σ_{i∉S_k} w_{y_i} p_ik."""
    wi = w[y_idx]
    lhs = np.array([w[k] * np.sum(1 - P[y_idx == k, k]) for k in range(len(w))])
    rhs = np.array([np.sum(wi[y_idx != k] * P[y_idx != k, k]) for k in range(len(w))])
    return lhs, rhs


def _fit(X, y, **kw):
    params = dict(hidden_layer_sizes=(), tol=1e-10, max_iter=500, random_state=SEED)
    params.update(kw)
    return CRCENClassifier(**params).fit(X, y)


def test_estimator_outputs():
    X, y = _three_classes()
    labels = np.array(["cat", "dog", "emu"])[y]
    clf = _fit(X, labels, hidden_layer_sizes=(6,), class_weight="balanced", tol=1e-5)
    np.testing.assert_array_equal(clf.classes_, ["cat", "dog", "emu"])
    assert clf.lam_ is None
    P = clf.predict_proba(X)
    assert P.shape == (len(y), 3)
    np.testing.assert_allclose(P.sum(1), 1.0)
    z = clf.decision_function(X)
    assert z.shape == (len(y), 3)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[np.argmax(P, 1)])
    np.testing.assert_array_equal(np.argmax(z, 1), np.argmax(P, 1))
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), P)


@pytest.mark.parametrize("weights", ["balanced", {0: 1.0, 1: 2.5, 2: 9.0}])
def test_classwise_key_equation_at_tight_optimum(weights):
    """Softmax with free biases: at a stationary point, for every class k,
    w_k Σ_{S_k}(1 − p_ik) = Σ_{i∉S_k} w_{y_i} p_ik, even with an L2 penalty."""
    X, y = _three_classes()
    clf = _fit(X, y, class_weight=weights, alpha=1e-2)
    assert clf.converged_
    counts = np.bincount(y)
    if weights == "balanced":
        w = len(y) / (3 * counts)
    else:
        w = np.array([weights[k] for k in range(3)])
    lhs, rhs = _classwise_sides(y, clf.predict_proba(X), w)
    np.testing.assert_allclose(lhs, rhs, rtol=1e-6)
    # the three equations are dependent: their differences sum to zero
    assert np.sum(lhs - rhs) == pytest.approx(0.0, abs=1e-9 * lhs.sum())


def test_classwise_key_equation_network():
    """A hidden layer keeps the equation: the output biases stay free."""
    X, y = _three_classes()
    clf = _fit(
        X,
        y,
        hidden_layer_sizes=(4,),
        activation="tanh",
        class_weight="balanced",
        alpha=1e-3,
        tol=1e-7,
        max_iter=800,
    )
    w = len(y) / (3 * np.bincount(y))
    lhs, rhs = _classwise_sides(y, clf.predict_proba(X), w)
    np.testing.assert_allclose(lhs, rhs, rtol=1e-2)


def test_two_classes_reduce_to_eq6():
    """For two classes the class-wise equation is Eq. (6)."""
    X, y = make_classification(n_samples=400, weights=[0.85], random_state=SEED)
    clf = _fit(X, y, lam="balanced")
    lam = clf.lam_
    p = clf.predict_proba(X)
    w = np.array([1 - lam, lam])  # class 1 is the minority here
    lhs, rhs = _classwise_sides(y, p, w)
    np.testing.assert_allclose(lhs, rhs, rtol=1e-6)
    ratio = theory.key_equation_lhs(y, p[:, 1])
    assert ratio == pytest.approx(theory.key_equation_rhs(lam), rel=1e-6)


def test_class_weight_equals_sample_weight():
    """A class-weight dict is the same objective as per-sample weights."""
    X, y = _three_classes(n=300)
    weights = {0: 1.0, 1: 2.0, 2: 4.0}
    ones = {0: 1.0, 1: 1.0, 2: 1.0}
    a = _fit(X, y, hidden_layer_sizes=(3,), class_weight=weights, max_iter=50)
    sw = np.array([weights[k] for k in y])
    b = CRCENClassifier(
        hidden_layer_sizes=(3,),
        class_weight=ones,
        max_iter=50,
        tol=1e-10,
        random_state=SEED,
    ).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), rtol=1e-8)


def test_balanced_weights_help_the_rare_classes():
    X, y = _three_classes(n=3000)
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=0.5, stratify=y, random_state=SEED
    )
    plain = _fit(X_tr, y_tr, class_weight={0: 1.0, 1: 1.0, 2: 1.0})
    bal = _fit(X_tr, y_tr, class_weight="balanced")
    rec_plain = recall_score(y_te, plain.predict(X_te), average=None)
    rec_bal = recall_score(y_te, bal.predict(X_te), average=None)
    assert rec_bal[2] > rec_plain[2] + 0.03
    bacc_plain = balanced_accuracy_score(y_te, plain.predict(X_te))
    assert balanced_accuracy_score(y_te, bal.predict(X_te)) > bacc_plain


def test_default_weighting_is_balanced():
    X, y = _three_classes(n=300)
    a = _fit(X, y, max_iter=30)
    b = _fit(X, y, class_weight="balanced", max_iter=30)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X))


@pytest.mark.parametrize(
    "params,match",
    [
        ({"class_weight": {0: 1.0, 1: 2.0}}, "no weight for classes"),
        ({"class_weight": {0: 1.0, 1: 2.0, 2: 0.0}}, "must be positive"),
        ({"class_weight": "even"}, "class_weight must be"),
        ({"class_weight": [1.0, 2.0, 3.0]}, "class_weight must be"),
        ({"lam": 0.8}, "lam=0.8"),
    ],
)
def test_bad_multiclass_input(params, match):
    X, y = _three_classes(n=60)
    with pytest.raises(ValueError, match=match):
        CRCENClassifier(hidden_layer_sizes=(), **params).fit(X, y)


def test_csmlp_is_binary_only():
    X, y = _three_classes(n=60)
    with pytest.raises(ValueError, match="Only binary"):
        CSMLPClassifier(hidden_layer_sizes=()).fit(X, y)
