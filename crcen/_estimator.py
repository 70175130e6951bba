"""scikit-learn estimators on top of the training core."""

import numbers

import numpy as np
from scipy.special import expit, softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ._train import fit_stack

__all__ = ["CRCENClassifier", "CSMLPClassifier", "minority_label"]


def minority_label(classes, counts):
    """The minority class of a binary problem: the rarer label.

    When both labels are equally frequent, the label that sorts last
    (``classes[1]``, as in ``np.unique``) counts as the minority.

    Examples
    --------
    >>> from crcen import minority_label
    >>> minority_label(["a", "b"], [10, 3])
    'b'
    >>> minority_label([-1, 1], [5, 5])
    1
    """
    return classes[0] if counts[0] < counts[1] else classes[1]


def _check_lam(lam, counts):
    if isinstance(lam, str):
        if lam != "balanced":
            raise ValueError(
                f"lam must be 'balanced' or a float in (0, 1), got {lam!r}."
            )
        n_min, n_maj = min(counts), max(counts)
        return float(n_maj / (n_maj + n_min))
    if not isinstance(lam, numbers.Real) or not 0.0 < float(lam) < 1.0:
        raise ValueError(f"lam must lie in the open interval (0, 1), got {lam!r}.")
    return float(lam)


class _BaseStackClassifier(ClassifierMixin, BaseEstimator):
    _loss = "crcen"

    def __init__(
        self,
        *,
        hidden_layer_sizes=(100,),
        activation="relu",
        lam="balanced",
        class_weight=None,
        alpha=1e-4,
        solver="lbfgs",
        max_iter=200,
        tol=1e-5,
        learning_rate_init=1e-3,
        batch_size="auto",
        random_state=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.lam = lam
        self.class_weight = class_weight
        self.alpha = alpha
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.learning_rate_init = learning_rate_init
        self.batch_size = batch_size
        self.random_state = random_state

    def _validate_params_(self):
        if not np.isscalar(self.alpha) or self.alpha < 0:
            raise ValueError(f"alpha must be a non-negative float, got {self.alpha!r}.")
        if not isinstance(self.max_iter, numbers.Integral) or self.max_iter < 1:
            raise ValueError(
                f"max_iter must be a positive integer, got {self.max_iter!r}."
            )
        if not np.isscalar(self.tol) or self.tol < 0:
            raise ValueError(f"tol must be a non-negative float, got {self.tol!r}.")
        hidden = self.hidden_layer_sizes
        hidden = (hidden,) if isinstance(hidden, numbers.Integral) else tuple(hidden)
        if any(not isinstance(h, numbers.Integral) or h < 1 for h in hidden):
            raise ValueError(
                f"hidden_layer_sizes must hold positive integers, got {hidden!r}."
            )
        return hidden

    def _seed(self):
        rs = self.random_state
        if rs is None:
            return int(np.random.default_rng().integers(2**31))
        if isinstance(rs, numbers.Integral):
            return int(rs)
        if isinstance(rs, np.random.RandomState):
            return int(rs.randint(2**31))
        raise ValueError(f"random_state must be None, an int or a RandomState: {rs!r}.")

    def _class_weights(self, counts):
        """Weight of each class, in the order of ``classes_``."""
        if len(counts) == 2 and self.class_weight is None:
            lam = _check_lam(self.lam, counts)
            self.lam_ = lam
            minority = 0 if counts[0] < counts[1] else 1
            w = np.empty(2)
            w[minority], w[1 - minority] = lam, 1.0 - lam
            return w
        self.lam_ = None
        cw = self.class_weight
        if cw is None:
            if not (isinstance(self.lam, str) and self.lam == "balanced"):
                raise ValueError(
                    f"lam={self.lam!r} is the minority weight of a binary problem, "
                    f"but y holds {len(counts)} classes; weight them with "
                    "class_weight instead."
                )
            cw = "balanced"
        if isinstance(cw, str) and cw == "balanced":
            w = counts.sum() / (len(counts) * counts)
        elif isinstance(cw, dict):
            missing = [c for c in self.classes_ if c not in cw]
            if missing:
                raise ValueError(f"class_weight has no weight for classes {missing}.")
            w = np.array([float(cw[c]) for c in self.classes_])
            if np.any(w <= 0):
                raise ValueError(f"class_weight values must be positive, got {cw}.")
        else:
            raise ValueError(
                f"class_weight must be None, 'balanced' or a dict, got {cw!r}."
            )
        if len(counts) == 2:
            minority = 0 if counts[0] < counts[1] else 1
            self.lam_ = float(w[minority] / w.sum())
        return w

    def fit(self, X, y, sample_weight=None):
        """Fit the network to ``X`` and ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Two labels of any kind (or more, with ``class_weight``).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, multiplied with the class weights.

        Returns
        -------
        self
        """
        hidden = self._validate_params_()
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=False)
        check_classification_targets(y)
        self.classes_, y_idx, counts = np.unique(
            y, return_inverse=True, return_counts=True
        )
        if len(self.classes_) < 2:
            raise ValueError(
                f"y holds only one class ({self.classes_[0]!r}); "
                "a classifier needs two."
            )
        if len(self.classes_) > 2 and self._loss != "crcen":
            raise ValueError(
                "Only binary classification is supported by "
                f"{type(self).__name__}; y holds {len(self.classes_)} classes."
            )
        w = self._class_weights(counts)[y_idx]
        if sample_weight is not None:
            sw = np.asarray(sample_weight, dtype=np.float64)
            if sw.shape != (X.shape[0],):
                raise ValueError(
                    f"sample_weight has shape {sw.shape}, expected ({X.shape[0]},)."
                )
            if not np.all(np.isfinite(sw)) or np.any(sw < 0):
                raise ValueError("sample_weight must be finite and non-negative.")
            w = w * sw
        multi = len(self.classes_) > 2
        loss = "softmax" if multi else self._loss
        target = y_idx.astype(np.float64)
        if not multi:
            # Eq. (1) labels: 1 for the minority class, 0 for the majority
            self._minority_ = 0 if counts[0] < counts[1] else 1
            target = (y_idx == self._minority_).astype(np.float64)
        fit = fit_stack(
            X,
            target,
            w[None, :],
            hidden_layer_sizes=[hidden],
            loss=loss,
            n_classes=len(self.classes_),
            activation=self.activation,
            alpha=float(self.alpha),
            solver=self.solver,
            max_iter=int(self.max_iter),
            tol=float(self.tol),
            seeds=self._seed(),
            learning_rate=self.learning_rate_init,
            batch_size=self.batch_size,
        )
        self.stack_ = fit.stack
        self.n_iter_ = int(fit.n_iter[0])
        self.loss_curve_ = list(fit.loss_curves[0])
        self.loss_ = self.loss_curve_[-1]
        self.converged_ = bool(fit.converged[0])
        return self

    def _raw(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return self.stack_.decision_function(X)[0]

    def decision_function(self, X):
        """Output before the last nonlinearity.

        For two classes, an array ``(n_samples,)`` whose positive values
        predict ``classes_[1]``; for more, ``(n_samples, n_classes)``.
        """
        z = self._raw(X)
        if z.shape[1] > 1:
            return z
        z = z[:, 0]
        return z if self._minority_ == 1 else -z

    def predict(self, X):
        """Predicted class labels."""
        z = self.decision_function(X)
        if z.ndim == 2:
            return self.classes_[np.argmax(z, axis=1)]
        return self.classes_[(z > 0).astype(int)]


class CRCENClassifier(_BaseStackClassifier):
    """MLP trained with the class-wise reweighted cross-entropy (Eq. 1).

    The loss weights the minority class by λ and the majority class by 1 − λ
    and adds ``alpha / 2`` times the squared norm of the weights (never of the
    biases, so that the key equation, Eq. 6, holds at the optimum). With
    ``lam=0.5`` it is the plain MLP; with ``lam="balanced"``,
    λ = N0 / (N0 + N1).

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(100,)
        Width of each hidden layer; ``()`` gives logistic regression.
    activation : {"relu", "tanh", "logistic", "identity"}, default="relu"
        Hidden activation.
    lam : "balanced" or float in (0, 1), default="balanced"
        Weight λ of the minority class: the rarer of the two labels. When both
        labels are equally frequent, ``classes_[1]`` counts as the minority.
    class_weight : None, "balanced" or dict, default=None
        Weight of each class, ``"balanced"`` meaning ``n / (n_classes * n_k)``.
        For more than two classes it weights the softmax cross-entropy; None
        then means ``"balanced"`` (the many-class form of ``lam="balanced"``;
        a float ``lam`` is an error), and ``{k: 1.0 for k in classes}`` gives
        the plain softmax cross-entropy. For two classes it takes precedence
        over ``lam`` when given; ``"balanced"`` then equals ``lam="balanced"``
        up to a constant factor.
    alpha : float, default=1e-4
        L2 strength on the weights.
    solver : {"lbfgs", "adam", "sgd"}, default="lbfgs"
        Full-batch L-BFGS, or mini-batch Adam or SGD.
    max_iter : int, default=200
        Iterations (L-BFGS) or epochs (Adam, SGD).
    tol : float, default=1e-5
        Stopping tolerance; see :func:`crcen.fit_stack`.
    learning_rate_init : float, default=1e-3
        Step size of Adam and SGD.
    batch_size : int or "auto", default="auto"
        Mini-batch size of Adam and SGD.
    random_state : int, RandomState or None, default=None
        Seed of the initial weights and of the mini-batch order.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    lam_ : float or None
        The λ in force (None for more than two classes).
    n_iter_ : int
    loss_curve_ : list of float
        The objective (weighted mean loss plus penalty, see
        :func:`crcen.fit_stack`) after each iteration.
    converged_ : bool
    stack_ : MLPStack
        The trained network.

    See Also
    --------
    crcen.fit_stack : the batched training core behind ``fit``.
    CSMLPClassifier : the cost-sensitive MLP of Castro and Braga (2013).

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from crcen import CRCENClassifier
    >>> X, y = make_classification(n_samples=500, weights=[0.9], random_state=0)
    >>> clf = CRCENClassifier(hidden_layer_sizes=(8,), random_state=0).fit(X, y)
    >>> round(clf.lam_, 3)
    0.9
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    """

    def predict_proba(self, X):
        """Class probabilities, columns in the order of ``classes_``."""
        z = self.decision_function(X)
        if z.ndim == 2:
            return softmax(z, axis=1)
        p1 = expit(z)
        return np.column_stack([1.0 - p1, p1])

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))


class CSMLPClassifier(_BaseStackClassifier):
    """Cost-sensitive MLP of Castro and Braga (2013).

    A tanh output trained on targets +1 (minority) and −1 (majority) with the
    class-weighted squared error ``λ Σ_min (1 − o_i)² / 2 + (1 − λ) Σ_maj
    (1 + o_j)² / 2``; the same training core, penalty and parameters as
    :class:`CRCENClassifier` (``lam="balanced"`` by default), only the loss and
    the output differ. It predicts the minority class where ``o > 0``. The
    output is not a probability, so the estimator has ``decision_function``
    but no ``predict_proba``.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from crcen import CSMLPClassifier
    >>> X, y = make_classification(n_samples=300, weights=[0.9], random_state=0)
    >>> clf = CSMLPClassifier(hidden_layer_sizes=(8,), random_state=0).fit(X, y)
    >>> set(clf.predict(X)) <= {0, 1}
    True
    """

    _loss = "csmlp"

    def __init__(
        self,
        *,
        hidden_layer_sizes=(100,),
        activation="tanh",
        lam="balanced",
        alpha=1e-4,
        solver="lbfgs",
        max_iter=200,
        tol=1e-5,
        learning_rate_init=1e-3,
        batch_size="auto",
        random_state=None,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            lam=lam,
            alpha=alpha,
            solver=solver,
            max_iter=max_iter,
            tol=tol,
            learning_rate_init=learning_rate_init,
            batch_size=batch_size,
            random_state=random_state,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags
