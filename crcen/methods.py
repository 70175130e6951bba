"""The eight methods of the paper's Table 3, as scikit-learn pipelines.

Every method is an :class:`imblearn.pipeline.Pipeline` that starts with a
:class:`~sklearn.preprocessing.StandardScaler`, so that the scaling is fitted on
the training data alone and nothing of a test set leaks into a fit. SMOTE and
ADASYN sit inside the pipeline after the scaler: imbalanced-learn pipelines
resample in ``fit`` only, never in ``predict``.

``MLP``
    :class:`crcen.CRCENClassifier` with λ = 1/2: the plain cross-entropy.
``CSMLP``
    :class:`crcen.CSMLPClassifier` (Castro and Braga, 2013): class-weighted
    squared error on a tanh output, λ = N0 / (N0 + N1).
``CRCEN``
    :class:`crcen.CRCENClassifier` with λ = N0 / (N0 + N1), Eq. (1).
``SMOTE``, ``ADASYN``
    The plain MLP trained on data oversampled by SMOTE or ADASYN.
``RUSBoost``, ``EasyEnsemble``, ``BRF``
    The ensembles of imbalanced-learn with their default base estimators.

The five MLP-based methods share the hidden activation (ReLU), the solver
(L-BFGS), the iteration budget and the two hyperparameters the protocol tunes:
the number of hidden units and the L2 strength ``alpha``.
"""

import logging
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
from imblearn.ensemble import (
    BalancedRandomForestClassifier,
    EasyEnsembleClassifier,
    RUSBoostClassifier,
)
from imblearn.over_sampling import ADASYN, SMOTE
from imblearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from ._estimator import CRCENClassifier, CSMLPClassifier
from ._loss import class_weights
from ._train import fit_stack
from .theory import lam_for_alpha

log = logging.getLogger(__name__)

__all__ = [
    "METHODS",
    "MLP_METHODS",
    "MethodSpec",
    "Prepared",
    "SPECS",
    "fit_batch",
    "fit_ensemble",
    "make_method",
    "make_resampler",
    "prepare",
]


@dataclass(frozen=True)
class MethodSpec:
    """How an MLP-based method trains: what the batched protocol needs.

    Attributes
    ----------
    loss : str
        Loss of :func:`crcen.fit_stack`: ``"crcen"`` or ``"csmlp"``.
    balanced : bool
        True if λ = α N0 / (α N0 + N1) (α = 1 by default), False if λ = 1/2.
    resampler : str or None
        ``"SMOTE"``, ``"ADASYN"`` or None.
    """

    loss: str
    balanced: bool
    resampler: str | None = None


#: The MLP-based methods and how each trains.
SPECS = {
    "MLP": MethodSpec("crcen", balanced=False),
    "CSMLP": MethodSpec("csmlp", balanced=True),
    "CRCEN": MethodSpec("crcen", balanced=True),
    "SMOTE": MethodSpec("crcen", balanced=False, resampler="SMOTE"),
    "ADASYN": MethodSpec("crcen", balanced=False, resampler="ADASYN"),
}

#: The methods whose hidden units and L2 strength are tuned.
MLP_METHODS = tuple(SPECS)

#: Every method of Table 3, in the paper's order.
METHODS = (*MLP_METHODS, "RUSBoost", "EasyEnsemble", "BRF")

#: Hidden activation and solver of every MLP-based method.
ACTIVATION = "relu"
SOLVER = "lbfgs"


def make_resampler(name, random_state):
    """The oversampler ``name`` ("SMOTE" or "ADASYN") with its defaults."""
    if name == "SMOTE":
        return SMOTE(random_state=random_state)
    if name == "ADASYN":
        return ADASYN(random_state=random_state)
    raise ValueError(f"resampler must be 'SMOTE' or 'ADASYN', got {name!r}.")


def make_method(
    name, *, hidden=32, alpha=1e-3, lam=None, max_iter=200, random_state=None
):
    """The pipeline of method ``name``: scaler, any resampler, classifier.

    Parameters
    ----------
    name : str
        One of :data:`METHODS`.
    hidden : int, default=32
        Hidden units of the MLP-based methods (one hidden layer).
    alpha : float, default=1e-3
        L2 strength of the MLP-based methods.
    lam : float, optional
        λ of CSMLP and CRCEN; by default ``"balanced"``, N0 / (N0 + N1) of the
        data the pipeline is fitted to. Not allowed for the other methods.
    max_iter : int, default=200
        L-BFGS iterations of the MLP-based methods.
    random_state : int, optional
        Seed of the network's initial weights, of the resampling and of the
        ensembles.

    Returns
    -------
    imblearn.pipeline.Pipeline

    Examples
    --------
    >>> from crcen.methods import make_method
    >>> pipe = make_method("SMOTE", hidden=8, alpha=1e-2, random_state=0)
    >>> [step for step, _ in pipe.steps]
    ['scale', 'resample', 'classify']
    >>> make_method("CRCEN").named_steps["classify"].lam
    'balanced'
    """
    if name not in METHODS:
        raise ValueError(f"Unknown method {name!r}; the methods are {METHODS}.")
    spec = SPECS.get(name)
    if lam is not None and not (spec and spec.balanced):
        raise ValueError(f"lam can be set for CSMLP and CRCEN only, not {name}.")
    steps = [("scale", StandardScaler())]
    if spec is None:
        ensembles = {
            "RUSBoost": RUSBoostClassifier,
            "EasyEnsemble": EasyEnsembleClassifier,
            "BRF": BalancedRandomForestClassifier,
        }
        steps.append(("classify", ensembles[name](random_state=random_state)))
        return Pipeline(steps)
    if spec.resampler:
        steps.append(("resample", make_resampler(spec.resampler, random_state)))
    net = CSMLPClassifier if spec.loss == "csmlp" else CRCENClassifier
    clf = net(
        hidden_layer_sizes=(int(hidden),),
        activation=ACTIVATION,
        lam=(lam if lam is not None else "balanced") if spec.balanced else 0.5,
        alpha=float(alpha),
        solver=SOLVER,
        max_iter=int(max_iter),
        random_state=random_state,
    )
    steps.append(("classify", clf))
    return Pipeline(steps)


class Prepared(NamedTuple):
    """One network's training set, as :func:`prepare` makes it."""

    X: np.ndarray
    target: np.ndarray
    weights: np.ndarray
    X_eval: np.ndarray
    lam: float
    sign: float


def prepare(method, X_fit, y_fit, X_eval, seed, lam_alpha=1.0):
    """Scale (and resample) a training set as the method's pipeline does.

    The scaler is fitted on ``X_fit`` and applied to ``X_eval`` too; SMOTE and
    ADASYN then resample the scaled training rows with ``seed``. As in the
    estimators, the rarer label of the rows the network sees is the minority
    of Eq. (1) (target 1, weight λ). That is label 1, except where ADASYN
    makes label 1 the more frequent: then the targets flip and ``sign = -1``
    turns the network's output back into a score for label 1.

    Returns
    -------
    Prepared
        The training rows, their Eq. (1) targets and weights, the scaled
        evaluation rows, λ (α N0 / (α N0 + N1) with α = ``lam_alpha`` for CSMLP
        and CRCEN, 1/2 otherwise) and the sign.
    """
    spec = SPECS[method]
    scaler = StandardScaler().fit(X_fit)
    Xf, yf = scaler.transform(X_fit), np.asarray(y_fit)
    if spec.resampler:
        Xf, yf = make_resampler(spec.resampler, seed).fit_resample(Xf, yf)
    n1 = int(yf.sum())
    n0 = len(yf) - n1
    minority = 0 if n0 < n1 else 1
    target = (yf == minority).astype(np.float64)
    n_min, n_maj = min(n0, n1), max(n0, n1)
    lam = lam_for_alpha(lam_alpha, n_maj, n_min) if spec.balanced else 0.5
    w = class_weights(target, lam)
    sign = 1.0 if minority == 1 else -1.0
    return Prepared(Xf, target, w, scaler.transform(X_eval), float(lam), sign)


def _pad(arrays):
    """Stack arrays of shape (n_k, ...) into (K, max n_k, ...) with zeros."""
    n = max(len(a) for a in arrays)
    out = np.zeros((len(arrays), n, *arrays[0].shape[1:]))
    for k, a in enumerate(arrays):
        out[k, : len(a)] = a
    return out


def fit_batch(method, prepared, hidden, alpha, seeds, max_iter, dtype="float64"):
    """Fit one stack of networks of ``method``, network k on ``prepared[k]``.

    Parameters
    ----------
    method : str
        One of :data:`MLP_METHODS`.
    prepared : list of Prepared
        What :func:`prepare` returns, one per network. Shorter training sets
        are padded with rows of weight zero, which the loss ignores.
    hidden : int
        Hidden units, shared by the stack.
    alpha : float or sequence of float
        L2 strength of each network.
    seeds : int or sequence of int
        Seed of each network.
    max_iter : int
        L-BFGS iterations.
    dtype : {"float64", "float32"}
        Precision of the fit.

    Returns
    -------
    fit : StackFit
    scores : list of ndarray
        Decision score of network k on its evaluation rows: the logit of
        label 1 (CSMLP: the output before the tanh), positive for label 1.

    Examples
    --------
    Two networks at once, each on its own half of a toy dataset:

    >>> import numpy as np
    >>> from crcen.methods import fit_batch, prepare
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3))
    >>> y = (X[:, 0] > 1).astype(int)
    >>> halves = [prepare("CRCEN", X[i::2], y[i::2], X, 0) for i in (0, 1)]
    >>> fit, scores = fit_batch("CRCEN", halves, 4, 1e-3, [0, 1], 50)
    >>> [len(z) for z in scores]
    [200, 200]
    """
    fit = fit_stack(
        _pad([p.X for p in prepared]),
        _pad([p.target for p in prepared]),
        _pad([p.weights for p in prepared]),
        hidden_layer_sizes=[(int(hidden),)] * len(prepared),
        loss=SPECS[method].loss,
        activation=ACTIVATION,
        alpha=np.asarray(alpha, dtype=float),
        solver=SOLVER,
        max_iter=int(max_iter),
        seeds=seeds,
        dtype=getattr(torch, dtype),
    )
    z = fit.stack.decision_function(_pad([p.X_eval for p in prepared]))
    scores = [
        p.sign * z[k, : len(p.X_eval), 0].astype(np.float64)
        for k, p in enumerate(prepared)
    ]
    return fit, scores


#: Fits of an ensemble tried, each with a new seed, before giving up.
MAX_ATTEMPTS = 10


def fit_ensemble(method, X, y, seed):
    """Fit the pipeline of an ensemble; return it and the attempts it took.

    RUSBoost's boosting (SAMME) refuses to start when its first stump, fitted
    to a random undersample, errs on at least half of the weighted training
    set; a new undersample (seed ``seed + 1000 a`` at attempt ``a``) is drawn
    then. The test data play no part in it.
    """
    for attempt in range(MAX_ATTEMPTS):
        pipe = make_method(method, random_state=seed + 1000 * attempt)
        try:
            return pipe.fit(X, y), attempt + 1
        except ValueError as err:
            if "worse than random" not in str(err):
                raise
            log.info("%s, seed %d: %s; drawing again", method, seed, err)
    raise RuntimeError(f"{method} could not be fitted in {MAX_ATTEMPTS} attempts.")
