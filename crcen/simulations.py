"""The two simulations of Table 1 and a runner that trains them as one stack.

Sim1 has one feature. A minority sample is the sum of a draw from N(−1.5, 1)
and an independent draw from U(0, 0.5); a majority sample the sum of a draw
from N(1.5, 1) and one from U(−0.5, 0).

Sim2 has three features. The minority class is N(μ1, Σ1) with μ1 = (0, 0, 0)
and Σ1 = 1.2 I, the majority class N(μ0, Σ0) with μ0 = (1, 1, 1) and Σ0 = I.
The paper writes N(μ, σ) with σ = 1.2 I; we read σ as the covariance matrix,
as the notation N(μ, Σ) conventionally names it, so each minority feature has
variance 1.2 (standard deviation √1.2 ≈ 1.095). For σ0 = I both readings agree.

Labels follow Eq. (1): 1 marks the minority class, 0 the majority class.

:func:`run_simulation` runs one simulation of Table 1 for several λ at once:
every run draws its own training and test data, and all networks (one per
run and λ) are trained together by :func:`crcen.fit_stack`.
"""

import logging
from dataclasses import dataclass

import numpy as np
import torch
from scipy import stats
from scipy.special import expit

from . import config, theory
from ._loss import class_weights
from ._train import fit_stack

__all__ = [
    "SIMULATIONS",
    "DTYPES",
    "sim1",
    "sim2",
    "sim1_pdf",
    "sim2_pdf",
    "SimulationResult",
    "table1_lams",
    "run_simulation",
]

log = logging.getLogger(__name__)

#: Sim1: (normal mean, uniform low, uniform high) of each class.
SIM1_PARAMS = {1: (-1.5, 0.0, 0.5), 0: (1.5, -0.5, 0.0)}

#: Sim2: (mean vector, covariance matrix) of each class.
SIM2_PARAMS = {1: (np.zeros(3), 1.2 * np.eye(3)), 0: (np.ones(3), np.eye(3))}


def _counts(n1, n0):
    n1, n0 = int(n1), int(n0)
    if n1 < 1 or n0 < 1:
        raise ValueError(f"n1 and n0 must be positive, got {n1} and {n0}.")
    return n1, n0


def _rng(rng):
    if not isinstance(rng, (np.random.Generator, int, np.integer)):
        raise ValueError(
            f"rng must be a numpy.random.Generator or an int seed, got {rng!r}."
        )
    return np.random.default_rng(rng)


def _assemble(x1, x0, rng):
    X = np.concatenate([x1, x0])
    y = np.concatenate([np.ones(len(x1)), np.zeros(len(x0))])
    order = rng.permutation(len(y))
    return X[order], y[order]


def sim1(n1, n0, *, rng):
    """Draw ``n1`` minority and ``n0`` majority samples of Sim1.

    Parameters
    ----------
    n1, n0 : int
        Number of minority (label 1) and majority (label 0) samples.
    rng : numpy.random.Generator or int
        Source of randomness, or a seed for :func:`numpy.random.default_rng`.

    Returns
    -------
    X : ndarray of shape (n1 + n0, 1)
    y : ndarray of shape (n1 + n0,)
        1 for the minority class, 0 for the majority class, in random order.

    Examples
    --------
    >>> from crcen.simulations import sim1
    >>> X, y = sim1(3, 5, rng=0)
    >>> X.shape, int(y.sum())
    ((8, 1), 3)
    """
    n1, n0 = _counts(n1, n0)
    rng = _rng(rng)
    parts = []
    for label, n in ((1, n1), (0, n0)):
        m, a, b = SIM1_PARAMS[label]
        parts.append(rng.normal(m, 1.0, size=n) + rng.uniform(a, b, size=n))
    X, y = _assemble(parts[0], parts[1], rng)
    return X[:, None], y


def sim2(n1, n0, *, rng):
    """Draw ``n1`` minority and ``n0`` majority samples of Sim2.

    The minority class is N((0, 0, 0), 1.2 I) and the majority class
    N((1, 1, 1), I), the second argument of N being the covariance matrix.

    Parameters
    ----------
    n1, n0 : int
        Number of minority (label 1) and majority (label 0) samples.
    rng : numpy.random.Generator or int
        Source of randomness, or a seed for :func:`numpy.random.default_rng`.

    Returns
    -------
    X : ndarray of shape (n1 + n0, 3)
    y : ndarray of shape (n1 + n0,)
        1 for the minority class, 0 for the majority class, in random order.

    Examples
    --------
    >>> from crcen.simulations import sim2
    >>> X, y = sim2(2, 4, rng=0)
    >>> X.shape, int(y.sum())
    ((6, 3), 2)
    """
    n1, n0 = _counts(n1, n0)
    rng = _rng(rng)
    parts = []
    for label, n in ((1, n1), (0, n0)):
        mean, cov = SIM2_PARAMS[label]
        parts.append(rng.multivariate_normal(mean, cov, size=n))
    return _assemble(parts[0], parts[1], rng)


def sim1_pdf(x, label):
    """Density of Sim1's class ``label`` at ``x``.

    The sum of N(m, 1) and an independent U(a, b) has the density
    (Φ(x − m − a) − Φ(x − m − b)) / (b − a), Φ the standard normal CDF.

    Examples
    --------
    >>> from scipy.integrate import quad
    >>> from crcen.simulations import sim1_pdf
    >>> round(quad(sim1_pdf, -20, 20, args=(1,))[0], 8)
    1.0
    """
    m, a, b = SIM1_PARAMS[_check_label(label)]
    x = np.asarray(x, dtype=float)
    return (stats.norm.cdf(x - m - a) - stats.norm.cdf(x - m - b)) / (b - a)


def sim2_pdf(x, label):
    """Density of Sim2's class ``label`` at the points ``x`` of shape (..., 3).

    Examples
    --------
    >>> import numpy as np
    >>> from crcen.simulations import sim2_pdf
    >>> bool(sim2_pdf(np.zeros(3), 1) > sim2_pdf(np.zeros(3), 0))
    True
    """
    mean, cov = SIM2_PARAMS[_check_label(label)]
    return stats.multivariate_normal(mean, cov).pdf(x)


def _check_label(label):
    if label not in (0, 1):
        raise ValueError(f"label must be 0 (majority) or 1 (minority), got {label!r}.")
    return int(label)


#: Name -> (generator, hidden layer sizes of the network Table 1 trains).
SIMULATIONS = {"sim1": (sim1, ()), "sim2": (sim2, (10,))}

#: Training precision of each simulation when ``run_simulation`` is not told:
#: the logistic regressions of Sim1 are cheap and reach the gradient tolerance
#: in float64; the MLPs of Sim2 run to ``max_iter`` either way, and float32
#: halves their time (the Performance appendix measures what it changes).
DTYPES = {"sim1": torch.float64, "sim2": torch.float32}


def table1_lams(n0, n1):
    """The three λ of Table 1: 1/2, N0 / (N0 + N1) and 2 N0 / (2 N0 + N1).

    Examples
    --------
    >>> from crcen.simulations import table1_lams
    >>> [round(v, 4) for v in table1_lams(10_000, 1_000)]
    [0.5, 0.9091, 0.9524]
    """
    return [0.5, theory.lam_for_alpha(1, n0, n1), theory.lam_for_alpha(2, n0, n1)]


@dataclass
class SimulationResult:
    """What :func:`run_simulation` returns.

    Attributes
    ----------
    name : str
        ``"sim1"`` or ``"sim2"``.
    lams : ndarray of shape (L,)
        The λ values, one row of the arrays below each.
    eq7_lhs : ndarray of shape (L, R)
        (1 − p̄1) / p̄0 on each run's test data.
    eq7_rhs : ndarray of shape (L,)
        N0 (1 − λ) / (N1 λ) with the training counts.
    key_ratio : ndarray of shape (L, R)
        Left side of Eq. (6) on the training data divided by its right side.
    n_iter : ndarray of shape (L, R)
        L-BFGS iterations of each network.
    converged : ndarray of shape (L, R)
        Whether each network met the stopping rule.
    """

    name: str
    lams: np.ndarray
    eq7_lhs: np.ndarray
    eq7_rhs: np.ndarray
    key_ratio: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray


def run_simulation(
    name,
    lams=None,
    *,
    n_runs=None,
    n1=1_000,
    n0=10_000,
    n_test1=1_000,
    n_test0=1_000,
    alpha=1e-4,
    max_iter=200,
    tol=1e-6,
    seed=0,
    dtype=None,
):
    """Run one simulation of Table 1 for every λ in ``lams`` as one stack.

    Run ``r`` draws its training set (``n1`` minority, ``n0`` majority) and its
    test set (``n_test1`` + ``n_test0``) from its own generator; the networks
    of that run (one per λ) share its data and its initial weights. Sim1 fits
    a logistic regression, Sim2 an MLP 3–10–1 with logistic hidden units,
    both with full-batch L-BFGS on Eq. (1) plus ``alpha / 2`` times the
    squared norm of the weights (the biases are not penalised).

    Parameters
    ----------
    name : {"sim1", "sim2"}
    lams : sequence of float, optional
        Minority weights; by default the three λ of :func:`table1_lams`.
    n_runs : int, optional
        Number of runs R: 100 in the full mode, 10 in the quick mode
        (:func:`crcen.config.quick`).
    n1, n0, n_test1, n_test0 : int
        Training and test counts of each class.
    alpha : float
        L2 strength on the weights. The paper does not state its setting;
        1e-4 is scikit-learn's default for ``MLPClassifier``.
    max_iter : int
        L-BFGS iterations at most; 200, scikit-learn's default for its MLP,
        is the setting of the book's Table 1.
    tol : float
        Stopping tolerance on the largest gradient entry (:func:`fit_stack`).
    seed : int
        Seed of everything: data and initial weights of every run.
    dtype : torch.dtype, optional
        Precision of training; by default the simulation's entry of
        :data:`DTYPES`.

    Returns
    -------
    SimulationResult

    Examples
    --------
    >>> from crcen.simulations import run_simulation
    >>> res = run_simulation("sim1", [0.5], n_runs=2, n1=100, n0=1000)
    >>> res.eq7_lhs.shape, float(res.eq7_rhs[0])
    ((1, 2), 10.0)
    """
    if name not in SIMULATIONS:
        raise ValueError(f"name must be one of {sorted(SIMULATIONS)}, got {name!r}.")
    generate, hidden = SIMULATIONS[name]
    lams = np.asarray(table1_lams(n0, n1) if lams is None else lams, dtype=float)
    if lams.ndim != 1 or lams.size == 0:
        raise ValueError("lams must be a non-empty sequence of floats.")
    if n_runs is None:
        n_runs = 10 if config.quick() else 100
    n_runs = int(n_runs)
    if n_runs < 1:
        raise ValueError(f"n_runs must be positive, got {n_runs}.")
    n_lams = len(lams)
    children = np.random.SeedSequence(seed).spawn(n_runs)
    train, test, net_seeds = [], [], []
    for child in children:
        data_seq, net_seq = child.spawn(2)
        rng = np.random.default_rng(data_seq)
        train.append(generate(n1, n0, rng=rng))
        test.append(generate(n_test1, n_test0, rng=rng))
        net_seeds.append(int(net_seq.generate_state(1)[0] % 2**31))
    # network k = l * R + r: λ number l on run r
    X = np.stack([x for x, _ in train])
    y = np.stack([t for _, t in train])
    Xk = np.tile(X, (n_lams, 1, 1))
    yk = np.tile(y, (n_lams, 1))
    lam_k = np.repeat(lams, n_runs)
    fit = fit_stack(
        Xk,
        yk,
        class_weights(yk, lam_k),
        hidden_layer_sizes=[hidden] * len(lam_k),
        activation="logistic",
        alpha=alpha,
        max_iter=max_iter,
        tol=tol,
        seeds=np.tile(net_seeds, n_lams),
        dtype=DTYPES[name] if dtype is None else dtype,
    )
    Xt = np.tile(np.stack([x for x, _ in test]), (n_lams, 1, 1))
    yt = np.stack([t for _, t in test])
    z_test = np.asarray(fit.stack.decision_function(Xt)[..., 0], dtype=float)
    p_test = expit(z_test).reshape(n_lams, n_runs, -1)
    z_train = np.asarray(fit.stack.decision_function(Xk)[..., 0], dtype=float)
    p_train = expit(z_train).reshape(n_lams, n_runs, -1)
    lhs = np.empty((n_lams, n_runs))
    ratio = np.empty((n_lams, n_runs))
    for l_, lam in enumerate(lams):
        rhs6 = theory.key_equation_rhs(lam)
        for r in range(n_runs):
            lhs[l_, r] = theory.eq7_lhs(yt[r], p_test[l_, r])
            ratio[l_, r] = theory.key_equation_lhs(y[r], p_train[l_, r]) / rhs6
    n_bad = int((~fit.converged).sum())
    if n_bad:
        log.info(
            "%s: %d of %d networks stopped at max_iter=%d",
            name,
            n_bad,
            fit.converged.size,
            max_iter,
        )
    return SimulationResult(
        name=name,
        lams=lams,
        eq7_lhs=lhs,
        eq7_rhs=np.array([theory.eq7_rhs(lam, n0, n1) for lam in lams]),
        key_ratio=ratio,
        n_iter=fit.n_iter.reshape(n_lams, n_runs),
        converged=fit.converged.reshape(n_lams, n_runs),
    )
