"""The key equation (Eq. 6), its test-data form (Eq. 7), and λ helpers.

Labels follow Eq. (1): 1 marks the minority class (N1 samples) and 0 the
majority class (N0 samples); ``p`` is the predicted probability of class 1.
"""

import numpy as np

__all__ = [
    "key_equation_lhs",
    "key_equation_rhs",
    "eq7_lhs",
    "eq7_rhs",
    "balanced_lam",
    "lam_for_alpha",
]


def _check_lam(lam):
    lam = np.asarray(lam, dtype=float)
    if np.any(~((lam > 0) & (lam < 1))):
        raise ValueError(f"lam must lie in the open interval (0, 1), got {lam}.")
    return lam


def _scalar(a):
    a = np.asarray(a, dtype=float)
    return float(a) if a.ndim == 0 else a


def _check_binary(y, p=None):
    y = np.asarray(y)
    if y.ndim != 1 or y.size == 0:
        raise ValueError("y must be a non-empty one-dimensional array.")
    if not np.all(np.isin(y, (0, 1))):
        raise ValueError("y must hold labels 0 (majority) and 1 (minority) only.")
    if not (np.any(y == 1) and np.any(y == 0)):
        raise ValueError("y must hold both classes, 0 and 1.")
    if p is None:
        return y
    p = np.asarray(p, dtype=float)
    if p.shape != y.shape:
        raise ValueError(f"y and p differ in shape: {y.shape} and {p.shape}.")
    if not np.all(np.isfinite(p)) or np.any((p < 0) | (p > 1)):
        raise ValueError("p must hold probabilities in [0, 1].")
    return y, p


def key_equation_lhs(y, p):
    """Left side of Eq. (6): Σ_minority (1 − p_i) / Σ_majority p_j.

    Examples
    --------
    >>> from crcen.theory import key_equation_lhs
    >>> key_equation_lhs([1, 1, 0, 0], [0.9, 0.7, 0.1, 0.3])
    1.0
    """
    y, p = _check_binary(y, p)
    return float(np.sum(1.0 - p[y == 1]) / np.sum(p[y == 0]))


def key_equation_rhs(lam):
    """Right side of Eq. (6): (1 − λ) / λ.

    Examples
    --------
    >>> from crcen.theory import key_equation_rhs
    >>> key_equation_rhs(0.75)
    0.3333333333333333
    """
    return _scalar((1.0 - _check_lam(lam)) / _check_lam(lam))


def eq7_lhs(y, p):
    """Left side of Eq. (7) on test data: (1 − p̄1) / p̄0.

    p̄1 is the mean predicted probability over the minority samples and p̄0
    the mean over the majority samples.

    Examples
    --------
    >>> from crcen.theory import eq7_lhs
    >>> round(eq7_lhs([1, 1, 0, 0, 0], [0.9, 0.7, 0.1, 0.3, 0.2]), 6)
    1.0
    """
    y, p = _check_binary(y, p)
    return float((1.0 - p[y == 1].mean()) / p[y == 0].mean())


def eq7_rhs(lam, n0, n1):
    """Right side of Eq. (7): N0 (1 − λ) / (N1 λ), N0, N1 the training counts.

    Examples
    --------
    >>> from crcen.theory import eq7_rhs
    >>> eq7_rhs(0.5, 10_000, 1_000)
    10.0
    >>> round(eq7_rhs(10_000 / 11_000, 10_000, 1_000), 12)
    1.0
    """
    lam = _check_lam(lam)
    if n0 <= 0 or n1 <= 0:
        raise ValueError(f"n0 and n1 must be positive, got {n0} and {n1}.")
    return _scalar(n0 * (1.0 - lam) / (n1 * lam))


def balanced_lam(y):
    """λ = N0 / (N0 + N1) for labels ``y`` (1 = minority).

    Examples
    --------
    >>> from crcen.theory import balanced_lam
    >>> balanced_lam([0, 0, 0, 1])
    0.75
    """
    y = _check_binary(y)
    return float(np.mean(y == 0))


def lam_for_alpha(alpha, n0, n1):
    """λ = α N0 / (α N0 + N1), the family studied with the expense plot.

    α = 1 gives the balanced λ = N0 / (N0 + N1); α = 0 would give λ = 0.

    Examples
    --------
    >>> from crcen.theory import lam_for_alpha
    >>> lam_for_alpha(1, 900, 100)
    0.9
    >>> round(lam_for_alpha(2, 900, 100), 4)
    0.9474
    """
    alpha = np.asarray(alpha, dtype=float)
    if np.any(alpha <= 0):
        raise ValueError(f"alpha must be positive, got {alpha}.")
    if n0 <= 0 or n1 <= 0:
        raise ValueError(f"n0 and n1 must be positive, got {n0} and {n1}.")
    return _scalar(alpha * n0 / (alpha * n0 + n1))
