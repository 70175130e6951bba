"""Prior correction of reweighted probabilities (crcen.calibration)."""

import numpy as np
import pytest
from scipy.special import expit
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from crcen import CRCENClassifier
from crcen.calibration import (
    PriorCorrectedClassifier,
    class_weights_of,
    correct_logit,
    correct_proba,
    prior_corrected_proba,
    prior_shift,
)

SEED = 0


def _logistic_data(n, rng):
    """Samples of a known logistic model with about 12 % positives."""
    X = rng.normal(size=(n, 2))
    eta = expit(-3.0 + 1.5 * X[:, 0] - X[:, 1])
    y = (rng.uniform(size=n) < eta).astype(int)
    return X, y, eta


def _tight(**kw):
    return CRCENClassifier(
        hidden_layer_sizes=(), alpha=0.0, tol=1e-10, random_state=SEED, **kw
    )


def test_shift_and_inverse():
    assert prior_shift(0.5) == 0.0
    assert prior_shift(0.8) == pytest.approx(np.log(4.0))
    assert correct_logit(np.log(4.0), 0.8) == pytest.approx(0.0)
    p = np.linspace(0.01, 0.99, 9)
    back = correct_proba(correct_proba(p, 0.9), 0.1)
    np.testing.assert_allclose(back, p, rtol=1e-12)
    # probability 1/2 under weight lam is the calibrated 1 - lam
    assert correct_proba(0.5, 0.9) == pytest.approx(0.1)
    np.testing.assert_array_equal(correct_proba([0.0, 1.0], 0.7), [0.0, 1.0])


@pytest.mark.parametrize("bad", [0.0, 1.0, -0.2, 1.5, np.nan])
def test_bad_lam(bad):
    with pytest.raises(ValueError, match="lam must lie"):
        prior_shift(bad)
    with pytest.raises(ValueError, match="lam must lie"):
        correct_proba(0.3, bad)


def test_bad_probability():
    with pytest.raises(ValueError, match="probabilities"):
        correct_proba([0.2, 1.2], 0.6)
    with pytest.raises(ValueError, match="probabilities"):
        correct_proba([np.nan], 0.6)


@pytest.mark.parametrize("minority", ["a", "b"])
@pytest.mark.parametrize("lam", ["balanced", 0.7, 0.95])
def test_intercept_only_recovers_frequency(minority, lam):
    """Without features the weighted optimum is λN1 / (λN1 + (1 − λ)N0)
    exactly; the correction must give back N1 / N whichever label is rare."""
    other = "b" if minority == "a" else "a"
    y = np.array([minority] * 6 + [other] * 24)
    X = np.zeros((len(y), 1))
    clf = _tight(lam=lam).fit(X, y)
    col = list(clf.classes_).index(minority)
    lam_ = clf.lam_
    weighted = lam_ * 6 / (lam_ * 6 + (1 - lam_) * 24)
    assert clf.predict_proba(X[:1])[0, col] == pytest.approx(weighted, abs=1e-8)
    corrected = prior_corrected_proba(clf, X[:1])[0]
    assert corrected[col] == pytest.approx(6 / 30, abs=1e-8)
    assert corrected.sum() == pytest.approx(1.0)


def test_known_logistic_model():
    """At a tight optimum the corrected λ = N0/N model is the λ = 1/2 one."""
    X, y, eta = _logistic_data(20_000, np.random.default_rng(SEED))
    weighted = _tight().fit(X, y)
    plain = _tight(lam=0.5).fit(X, y)
    assert weighted.converged_ and plain.converged_
    p_w = weighted.predict_proba(X)[:, 1]
    p_c = prior_corrected_proba(weighted, X)[:, 1]
    p_0 = plain.predict_proba(X)[:, 1]
    assert np.abs(p_w - eta).mean() > 0.1  # weighting biases the probabilities
    assert np.abs(p_c - eta).mean() < 0.005
    assert np.abs(p_c - p_0).max() < 0.005
    # the correction is exactly the bias shift of Eq. prior correction
    np.testing.assert_allclose(
        prior_corrected_proba(weighted, X)[:, 1],
        correct_proba(p_w, weighted.lam_),
        rtol=1e-10,
    )


def test_decisions_are_a_moved_threshold():
    """CRCEN's decisions are the corrected probabilities thresholded at N1/N."""
    X, y, _ = _logistic_data(3_000, np.random.default_rng(SEED + 1))
    clf = _tight().fit(X, y)
    p_c = prior_corrected_proba(clf, X)[:, 1]
    np.testing.assert_array_equal(clf.predict(X) == 1, p_c > y.mean())


def test_wrapper_pipeline_and_frozen():
    X, y, _ = _logistic_data(2_000, np.random.default_rng(SEED + 2))
    net = make_pipeline(StandardScaler(), _tight())
    wrapped = PriorCorrectedClassifier(net).fit(X, y)
    fitted = net.fit(X, y)
    np.testing.assert_allclose(
        wrapped.predict_proba(X), prior_corrected_proba(fitted, X), rtol=1e-10
    )
    assert wrapped.n_features_in_ == 2
    np.testing.assert_array_equal(wrapped.classes_, [0, 1])
    np.testing.assert_allclose(wrapped.class_weights_, [y.mean(), 1 - y.mean()])
    frozen = PriorCorrectedClassifier(FrozenEstimator(fitted)).fit(X, y)
    np.testing.assert_allclose(frozen.predict_proba(X), wrapped.predict_proba(X))
    proba = frozen.predict_proba(X)
    np.testing.assert_array_equal(frozen.predict(X), np.argmax(proba, axis=1))
    # the corrected rule predicts far fewer minority samples than CRCEN's
    assert (frozen.predict(X) == 1).sum() < (fitted.predict(X) == 1).sum()


def test_multiclass_dict_weights():
    """Softmax: p_k ∝ w_k N_k without features; corrected p_k = N_k / N."""
    y = np.repeat([0, 1, 2], [20, 6, 4])
    X = np.zeros((len(y), 1))
    weights = {0: 1.0, 1: 3.0, 2: 5.0}
    clf = CRCENClassifier(
        hidden_layer_sizes=(), class_weight=weights, tol=1e-10, random_state=SEED
    ).fit(X, y)
    wn = np.array([20 * 1.0, 6 * 3.0, 4 * 5.0])
    np.testing.assert_allclose(clf.predict_proba(X[:1])[0], wn / wn.sum(), atol=1e-8)
    np.testing.assert_allclose(class_weights_of(clf), [1.0, 3.0, 5.0])
    corrected = prior_corrected_proba(clf, X[:1])[0]
    np.testing.assert_allclose(corrected, [20 / 30, 6 / 30, 4 / 30], atol=1e-8)
    wrapped = PriorCorrectedClassifier(clf).fit(X, y)
    np.testing.assert_array_equal(wrapped.predict(X[:3]), [0, 0, 0])


def test_estimator_without_weights():
    X, y, _ = _logistic_data(200, np.random.default_rng(SEED + 3))
    with pytest.raises(ValueError, match="class weights"):
        class_weights_of(LogisticRegression().fit(X, y))
    with pytest.raises(ValueError, match="must be an estimator"):
        PriorCorrectedClassifier("CRCEN").fit(X, y)
