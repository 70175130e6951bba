"""Moving the decision threshold of a plain MLP, on the protocol's splits.

At the population optimum, CRCEN with λ predicts the minority class exactly
where η(x) ≥ 1 − λ (Elkan, 2001). A network trained with λ = 1/2 can be given
the same rule by comparing its probability with 1 − λ instead of 1/2, by
post-hoc logit adjustment (Menon et al., 2021), or by a threshold tuned on
held-out data. This module computes those rules from the records of
:func:`crcen.protocol.run_protocol`, which keep every test logit, so that the
only new fits are the out-of-fold fits that tuning needs.

:func:`moved_threshold_pred`, :func:`logit_adjusted_pred`
    Decisions of a plain network at 1 − λ, and with its logit adjusted.
:func:`oof_scores`
    Out-of-fold logits of the plain network on each split's training part,
    all folds and splits in one batched fit, cached.
:func:`tuned_threshold`
    The threshold that maximises a score on given labels and logits, found
    by :class:`sklearn.model_selection.TunedThresholdClassifierCV`.
"""

import logging

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import StratifiedKFold, TunedThresholdClassifierCV

from . import cache
from .experiments import load, split
from .experiments import settings as _mode_settings
from .methods import fit_batch, prepare

__all__ = [
    "balanced_threshold_logit",
    "moved_threshold_pred",
    "logit_adjusted_pred",
    "oof_scores",
    "tuned_threshold",
]

log = logging.getLogger(__name__)


def _counts(record):
    n0, n1 = (int(v) for v in record["n_train"])
    if n0 < 1 or n1 < 1:
        raise ValueError(f"The record's training counts must be positive: {n0}, {n1}.")
    return n0, n1


def balanced_threshold_logit(n0, n1):
    """The logit of 1 − λ for λ = N0 / N: log(N1 / N0).

    Examples
    --------
    >>> from crcen.thresholds import balanced_threshold_logit
    >>> round(balanced_threshold_logit(900, 100), 4)
    -2.1972
    """
    if n0 <= 0 or n1 <= 0:
        raise ValueError(f"n0 and n1 must be positive, got {n0} and {n1}.")
    return float(np.log(n1) - np.log(n0))


def moved_threshold_pred(record):
    """Minority where the plain network's probability is at least N1 / N.

    ``record`` is a :func:`crcen.protocol.run_protocol` record of a network
    trained with λ = 1/2 (method ``"MLP"``); N0 and N1 are its training
    counts, so the threshold is 1 − λ for the balanced λ = N0 / N.

    Examples
    --------
    >>> import numpy as np
    >>> from crcen.thresholds import moved_threshold_pred
    >>> rec = {"n_train": [90, 10], "score": np.array([-3.0, -2.0, 0.5])}
    >>> moved_threshold_pred(rec).tolist()
    [0, 1, 1]
    """
    n0, n1 = _counts(record)
    p = 1.0 / (1.0 + np.exp(-np.asarray(record["score"], dtype=float)))
    return (p >= n1 / (n0 + n1)).astype(np.int64)


def logit_adjusted_pred(record, tau=1.0):
    """Post-hoc logit adjustment: minority where z − τ log(N1 / N0) ≥ 0.

    Menon et al. (2021) subtract τ log π_y from the logits of a network
    trained without weights; for two classes and τ = 1 this is the rule of
    :func:`moved_threshold_pred`, written on the logit scale.

    Examples
    --------
    >>> import numpy as np
    >>> from crcen.thresholds import logit_adjusted_pred
    >>> rec = {"n_train": [90, 10], "score": np.array([-3.0, -2.0, 0.5])}
    >>> logit_adjusted_pred(rec).tolist(), logit_adjusted_pred(rec, 0.0).tolist()
    ([0, 1, 1], [0, 0, 1])
    """
    if not np.isfinite(tau) or tau < 0:
        raise ValueError(f"tau must be a non-negative number, got {tau!r}.")
    n0, n1 = _counts(record)
    z = np.asarray(record["score"], dtype=float)
    return (z - tau * balanced_threshold_logit(n0, n1) >= 0).astype(np.int64)


def _oof_key(dataset, config, k, folds, s):
    fields = ("max_iter", "test_size", "max_samples", "seed")
    return {
        "kind": "oof",
        "dataset": dataset,
        "method": "MLP",
        "split": k,
        "config": {"hidden": int(config["hidden"]), "alpha": float(config["alpha"])},
        "folds": int(folds),
        **{f: getattr(s, f) for f in fields},
    }


def oof_scores(dataset, config, n_splits=None, *, folds=3, settings=None):
    """Out-of-fold logits of the plain MLP on each split's training part.

    For split ``k`` the training part is cut into ``folds`` stratified folds
    (seed ``settings.seed + k``); each fold's logits come from the network
    (configuration ``config``, λ = 1/2, seed ``settings.seed + k``) fitted to
    the other folds, standardised as its pipeline would. All networks of all
    missing splits are trained in one stack by :func:`crcen.methods.fit_batch`
    and each split is cached.

    Parameters
    ----------
    dataset : str
    config : dict
        ``{"hidden": int, "alpha": float}``.
    n_splits : int, optional
        Splits ``0 .. n_splits − 1``; ``settings.n_splits`` by default.
    folds : int, default=3
    settings : crcen.experiments.Settings, optional

    Returns
    -------
    list of dict
        Per split: ``train_index`` (as :func:`crcen.experiments.split` gives
        it), ``y_train`` and ``score``, the out-of-fold logit of each
        training sample.
    """
    s = _mode_settings() if settings is None else settings
    n_splits = s.n_splits if n_splits is None else int(n_splits)
    if n_splits < 1 or folds < 2:
        raise ValueError(f"Need n_splits >= 1 and folds >= 2, got {n_splits}, {folds}.")
    keys = [_oof_key(dataset, config, k, folds, s) for k in range(n_splits)]
    out = [cache.load(key) for key in keys]
    missing = [k for k, r in enumerate(out) if r is None]
    if missing:
        log.info("%s: out-of-fold fits of %d splits", dataset, len(missing))
        X, y = load(dataset, s)
        jobs, prepared, seeds = [], [], []
        for k in missing:
            train, _ = split(y, k, s)
            cv = StratifiedKFold(folds, shuffle=True, random_state=s.seed + k)
            for a, b in cv.split(train, y[train]):
                tr, va = train[a], train[b]
                prepared.append(prepare("MLP", X[tr], y[tr], X[va], s.seed + k))
                jobs.append((k, b))
                seeds.append(s.seed + k)
        _, scores = fit_batch(
            "MLP",
            prepared,
            config["hidden"],
            config["alpha"],
            seeds,
            s.max_iter,
            "float64",
        )
        for k in missing:
            train, _ = split(y, k, s)
            score = np.empty(len(train))
            for (kk, b), z in zip(jobs, scores, strict=True):
                if kk == k:
                    score[b] = z
            value = {"train_index": train, "y_train": y[train], "score": score}
            cache.store(keys[k], value)
            out[k] = cache.load(keys[k])
    return out


class _Scores(ClassifierMixin, BaseEstimator):
    """A fitted 'classifier' whose decision function is its single feature."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def decision_function(self, X):
        return np.asarray(X, dtype=float)[:, 0]


def tuned_threshold(y, scores, scoring, *, thresholds=100):
    """The threshold on ``scores`` that maximises ``scoring`` on ``y``.

    :class:`~sklearn.model_selection.TunedThresholdClassifierCV` searches
    ``thresholds`` evenly spaced candidates between the smallest and the
    largest score (``cv="prefit"``: the scores are held-out already).

    Parameters
    ----------
    y : array-like of shape (n,)
        Labels in {0, 1}.
    scores : array-like of shape (n,)
        Decision scores (e.g. out-of-fold logits); larger means label 1.
    scoring : str or callable
        A scikit-learn scorer, e.g. ``"f1"`` or
        ``make_scorer(geometric_mean_score)``.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from crcen.thresholds import tuned_threshold
    >>> y = np.r_[np.zeros(50, int), np.ones(50, int)]
    >>> z = np.r_[np.linspace(-3, 0.5, 50), np.linspace(0.6, 3, 50)]
    >>> bool(0.5 <= tuned_threshold(y, z, "balanced_accuracy") <= 0.6)
    True
    """
    y = np.asarray(y)
    z = np.asarray(scores, dtype=float)
    if y.shape != z.shape or y.ndim != 1:
        raise ValueError(
            f"y and scores must be 1-D of one length: {y.shape}, {z.shape}."
        )
    passthrough = _Scores().fit(z[:, None], y)
    tuner = TunedThresholdClassifierCV(
        passthrough,
        scoring=scoring,
        response_method="decision_function",
        thresholds=thresholds,
        cv="prefit",
        refit=False,
    )
    return float(tuner.fit(z[:, None], y).best_threshold_)
