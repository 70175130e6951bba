"""Prior correction: calibrated probabilities from a reweighted network.

Weighting the classes moves the optimum of the cross-entropy. For two classes
with weights λ (minority) and 1 − λ (majority), the minimiser of the expected
weighted loss is

.. math::

    \\operatorname{logit} p_\\lambda(x) = \\operatorname{logit} \\eta(x)
    + \\log\\frac{\\lambda}{1 - \\lambda},

with η(x) = P(minority | x). With class weights w_k and a softmax output, the
optimum is p_w,k(x) ∝ w_k η_k(x). Subtracting the shift from the logit (which
is the same as subtracting it from the output bias) recovers η: the prior
correction of King and Zeng (2001). The correction is exact at the population
optimum only; a network that is misspecified, under-trained or that fits its
training data exactly gives biased probabilities either way.

:func:`prior_shift`, :func:`correct_logit` and :func:`correct_proba` work on
numbers; :func:`prior_corrected_proba` on a fitted
:class:`crcen.CRCENClassifier` (or a pipeline ending in one); and
:class:`PriorCorrectedClassifier` wraps an estimator so that its
``predict_proba`` is the corrected one.
"""

import numpy as np
from scipy.special import expit, logit, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.utils.validation import check_is_fitted

__all__ = [
    "prior_shift",
    "correct_logit",
    "correct_proba",
    "class_weights_of",
    "prior_corrected_proba",
    "PriorCorrectedClassifier",
]


def _check_lam(lam):
    lam = np.asarray(lam, dtype=float)
    if np.any(~((lam > 0) & (lam < 1))):
        raise ValueError(f"lam must lie in the open interval (0, 1), got {lam}.")
    return lam


def prior_shift(lam):
    """The logit shift log(λ / (1 − λ)) that weighting by λ adds at the optimum.

    Examples
    --------
    >>> from crcen.calibration import prior_shift
    >>> prior_shift(0.5)
    0.0
    >>> round(prior_shift(0.9), 4)
    2.1972
    """
    lam = _check_lam(lam)
    shift = np.log(lam) - np.log1p(-lam)
    return float(shift) if shift.ndim == 0 else shift


def correct_logit(z, lam):
    """Minority-class logit of the λ-weighted model, prior-corrected.

    Parameters
    ----------
    z : array-like
        Logit of the minority class under the model trained with weight λ.
    lam : float
        Minority weight λ of the training loss, in (0, 1).

    Returns
    -------
    ndarray or float
        ``z − log(λ / (1 − λ))``, the logit of the λ = 1/2 optimum.

    Examples
    --------
    >>> from crcen.calibration import correct_logit
    >>> round(correct_logit(0.0, 0.9), 4)
    -2.1972
    """
    out = np.asarray(z, dtype=float) - prior_shift(lam)
    return float(out) if out.ndim == 0 else out


def correct_proba(p, lam):
    """Minority-class probability of the λ-weighted model, prior-corrected.

    The inverse map, from calibrated to weighted probabilities, is
    ``correct_proba(p, 1 - lam)``.

    Parameters
    ----------
    p : array-like
        Probability of the minority class under the model trained with λ.
    lam : float
        Minority weight λ of the training loss, in (0, 1).

    Returns
    -------
    ndarray or float

    Examples
    --------
    With λ = 0.9 a weighted probability of 1/2 is a calibrated one of 0.1:

    >>> from crcen.calibration import correct_proba
    >>> round(correct_proba(0.5, 0.9), 6)
    0.1
    >>> round(correct_proba(correct_proba(0.3, 0.9), 0.1), 6)
    0.3
    """
    p = np.asarray(p, dtype=float)
    if not np.all(np.isfinite(p)) or np.any((p < 0) | (p > 1)):
        raise ValueError("p must hold probabilities in [0, 1].")
    with np.errstate(divide="ignore"):
        out = expit(logit(p) - prior_shift(lam))
    return float(out) if out.ndim == 0 else out


def _final_step(estimator):
    """The last step of a pipeline, or the estimator itself."""
    steps = getattr(estimator, "steps", None)
    return steps[-1][1] if steps else estimator


def class_weights_of(clf):
    """Class weights, in the order of ``classes_``, of a fitted classifier.

    Two classes: ``(1 − λ, λ)`` placed by which class is the minority, from
    ``lam_``. More classes: ``class_weight_`` when the estimator stores it,
    else a ``class_weight`` dict.

    Parameters
    ----------
    clf : fitted CRCENClassifier, or a pipeline ending in one

    Returns
    -------
    ndarray of shape (n_classes,)

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from crcen import CRCENClassifier
    >>> from crcen.calibration import class_weights_of
    >>> X, y = make_classification(n_samples=200, weights=[0.8], random_state=0)
    >>> clf = CRCENClassifier(hidden_layer_sizes=(), random_state=0).fit(X, y)
    >>> class_weights_of(clf).round(2).tolist()
    [0.2, 0.8]
    """
    est = _final_step(clf)
    check_is_fitted(est, "classes_")
    classes = list(est.classes_)
    if hasattr(est, "class_weight_"):
        w = np.asarray(est.class_weight_, dtype=float)
    elif len(classes) == 2 and getattr(est, "lam_", None) is not None:
        lam = float(est.lam_)
        minority = getattr(est, "_minority_", 1)
        w = np.empty(2)
        w[minority], w[1 - minority] = lam, 1.0 - lam
    elif isinstance(getattr(est, "class_weight", None), dict):
        cw = est.class_weight
        w = np.array([float(cw[c]) for c in classes])
    else:
        raise ValueError(
            f"{type(est).__name__} does not tell its class weights: it has no "
            "class_weight_ attribute, no lam_ and no class_weight dict."
        )
    if w.shape != (len(classes),) or np.any(~np.isfinite(w)) or np.any(w <= 0):
        raise ValueError(f"Class weights must be positive, one per class; got {w}.")
    return w


def prior_corrected_proba(clf, X):
    """Prior-corrected class probabilities of a fitted reweighted classifier.

    Subtracts the log class weight from each logit (for two classes:
    log(λ / (1 − λ)) from the minority logit) and applies the output
    nonlinearity again: ``softmax(z − log w)``. At the optimum of the
    weighted loss these are the probabilities of the unweighted optimum.

    Parameters
    ----------
    clf : fitted CRCENClassifier, or a pipeline ending in one
        Must have ``decision_function``.
    X : array-like of shape (n_samples, n_features)

    Returns
    -------
    ndarray of shape (n_samples, n_classes)
        Columns in the order of ``clf.classes_``.

    Examples
    --------
    >>> import numpy as np
    >>> from crcen import CRCENClassifier
    >>> from crcen.calibration import prior_corrected_proba
    >>> X = np.zeros((10, 1)); y = np.r_[np.ones(2), np.zeros(8)]
    >>> clf = CRCENClassifier(hidden_layer_sizes=(), random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:1]).round(3)  # weighted: balanced at λ = 0.8
    array([[0.5, 0.5]])
    >>> prior_corrected_proba(clf, X[:1]).round(3)  # the class frequencies
    array([[0.8, 0.2]])
    """
    log_w = np.log(class_weights_of(clf))
    z = np.asarray(clf.decision_function(X), dtype=float)
    if z.ndim == 1:
        p1 = expit(z - (log_w[1] - log_w[0]))
        return np.column_stack([1.0 - p1, p1])
    return softmax(z - log_w, axis=1)


class PriorCorrectedClassifier(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """A reweighted classifier whose probabilities are prior-corrected.

    ``fit`` fits a clone of ``estimator``; ``predict_proba`` returns
    :func:`prior_corrected_proba`, and ``predict`` the most probable class
    under those probabilities. The correction leaves the ranking of the
    samples as it is, so it changes no threshold-free metric; it undoes the
    shift of the decision rule that the weights bring: thresholded at 1/2,
    the corrected model predicts as an unweighted one would. To correct an
    estimator already fitted, wrap it in :class:`sklearn.frozen.FrozenEstimator`.

    Parameters
    ----------
    estimator : CRCENClassifier, or a pipeline ending in one

    Attributes
    ----------
    estimator_ : the fitted estimator
    classes_ : ndarray of shape (n_classes,)
    class_weights_ : ndarray of shape (n_classes,)
        The class weights that were undone.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from crcen import CRCENClassifier
    >>> from crcen.calibration import PriorCorrectedClassifier
    >>> X, y = make_classification(n_samples=300, weights=[0.9], random_state=0)
    >>> net = CRCENClassifier(hidden_layer_sizes=(4,), random_state=0)
    >>> clf = PriorCorrectedClassifier(net).fit(X, y)
    >>> p = clf.predict_proba(X)[:, 1]
    >>> bool(p.mean() < net.fit(X, y).predict_proba(X)[:, 1].mean())
    True
    """

    def __init__(self, estimator):
        self.estimator = estimator

    def fit(self, X, y, **fit_params):
        """Fit a clone of ``estimator`` and read its class weights."""
        if not hasattr(self.estimator, "fit"):
            raise ValueError(f"estimator must be an estimator, got {self.estimator!r}.")
        self.estimator_ = clone(self.estimator).fit(X, y, **fit_params)
        self.classes_ = _final_step(self.estimator_).classes_
        self.class_weights_ = class_weights_of(self.estimator_)
        if hasattr(self.estimator_, "n_features_in_"):
            self.n_features_in_ = self.estimator_.n_features_in_
        return self

    def decision_function(self, X):
        """Corrected logits: positive values predict ``classes_[1]`` (binary)."""
        check_is_fitted(self)
        z = np.asarray(self.estimator_.decision_function(X), dtype=float)
        log_w = np.log(self.class_weights_)
        if z.ndim == 1:
            return z - (log_w[1] - log_w[0])
        return z - log_w

    def predict_proba(self, X):
        """Prior-corrected probabilities, columns in the order of ``classes_``."""
        z = self.decision_function(X)
        if z.ndim == 1:
            p1 = expit(z)
            return np.column_stack([1.0 - p1, p1])
        return softmax(z, axis=1)

    def predict(self, X):
        """The most probable class under the corrected probabilities."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
