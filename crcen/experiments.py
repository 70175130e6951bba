"""What the experiments of Tables 2 and 3 and Figure 1 are: grid, splits, modes.

This module fixes the protocol of the paper's Section 4 as data; running it is
:mod:`crcen.protocol`, the methods are :mod:`crcen.methods`.

The public API, for the chapters and for any later experiment:

:data:`GRID`
    The grid of the full protocol: hidden units x L2 strength.
:class:`Settings`, :data:`FULL`, :data:`QUICK`, :func:`settings`
    Everything that fixes a run; :func:`settings` picks the run mode's
    (:func:`crcen.config.quick`, the one switch).
:func:`load`, :func:`split`
    A dataset as the protocol sees it, and split ``k`` of it.
:func:`crcen.methods.make_method` ``(name, hidden=..., alpha=...)``
    The pipeline of one of the eight methods.
:func:`crcen.protocol.grid_search` ``(dataset, method)``
    The chosen ``{"hidden", "alpha"}`` and every configuration's CV G-mean.
:func:`crcen.protocol.run_protocol` ``(dataset, method, n_splits)``
    One record per split: the test indices and labels, the method's decision
    score on each test sample (so that any metric can be computed later
    without refitting), its predictions, the configuration and λ.
:func:`crcen.protocol.split_metrics` ``(record)``
    F1 of the minority class, G-mean and the confusion counts of one record.
:func:`crcen.protocol.results` ``(datasets, methods, lam_alphas=..., n_jobs=...)``
    Long table of those metrics, one row per dataset, method, λ factor and
    split, fitted in parallel where asked.

Split ``k`` depends on ``settings.seed + k`` only and every fit is cached per
split (:mod:`crcen.cache`), so ``run_protocol(..., n_splits=10)`` after the
book's four splits fits only splits 4 to 9; ``dataclasses.replace(FULL,
n_splits=10)`` gives settings that share the four splits' cache entries.

Examples
--------
>>> from crcen import experiments
>>> experiments.FULL.n_splits, experiments.FULL.cv_folds, experiments.FULL.max_iter
(4, 4, 200)
>>> experiments.GRID["hidden"]
(8, 16, 32, 64)
"""

from dataclasses import asdict, dataclass

import numpy as np
from sklearn.model_selection import train_test_split

from . import config
from .datasets import load_dataset

__all__ = [
    "GRID",
    "QUICK_GRID",
    "Settings",
    "FULL",
    "QUICK",
    "settings",
    "load",
    "split",
]

#: The grid of the full protocol: hidden units x L2 strength.
GRID = {"hidden": (8, 16, 32, 64), "alpha": (1e-4, 1e-3, 1e-2, 1e-1)}

#: The smaller grid of the quick mode.
QUICK_GRID = {"hidden": (8, 32), "alpha": (1e-3, 1e-1)}


@dataclass(frozen=True)
class Settings:
    """Everything that fixes a run of the protocol.

    Attributes
    ----------
    n_splits : int
        Train/test splits of :func:`results` (and the default of
        :func:`run_protocol`).
    hidden, alpha : tuple
        The grid: hidden units and L2 strengths.
    max_iter : int
        L-BFGS iterations of every MLP fit.
    cv_folds : int
        Folds of the grid search.
    test_size : float
        Fraction of each dataset held out for testing.
    max_samples : int or None
        If set, a stratified subsample of this size replaces larger datasets.
    seed : int
        Split ``k`` uses the seed ``seed + k``; the grid search uses ``seed``.
    grid_dtype : str
        ``"float32"`` or ``"float64"``: precision of the grid search fits.
    """

    n_splits: int = 4
    hidden: tuple = GRID["hidden"]
    alpha: tuple = GRID["alpha"]
    max_iter: int = 200
    cv_folds: int = 4
    test_size: float = 0.25
    max_samples: int | None = None
    seed: int = 0
    grid_dtype: str = "float32"

    def key(self):
        """The settings as a cache key; ``n_splits`` left out."""
        out = asdict(self)
        del out["n_splits"]
        return out


#: The full protocol, shown in the book.
FULL = Settings()

#: The quick mode: 2 splits, a 2 x 2 grid on 3 folds, 30 iterations, and at
#: most 600 samples of each dataset.
QUICK = Settings(
    n_splits=2,
    hidden=QUICK_GRID["hidden"],
    alpha=QUICK_GRID["alpha"],
    max_iter=30,
    cv_folds=3,
    max_samples=600,
)


def settings():
    """The :class:`Settings` of the run mode, :data:`QUICK` or :data:`FULL`.

    Examples
    --------
    >>> from crcen import experiments
    >>> experiments.settings() in (experiments.FULL, experiments.QUICK)
    True
    """
    return QUICK if config.quick() else FULL


def load(dataset, settings):
    """Dataset ``dataset`` as ``(X, y)``, subsampled if ``settings`` says so."""
    X, y = load_dataset(dataset)
    if settings.max_samples is not None and len(y) > settings.max_samples:
        keep, _ = train_test_split(
            np.arange(len(y)),
            train_size=settings.max_samples,
            stratify=y,
            random_state=settings.seed,
        )
        keep = np.sort(keep)
        X, y = X[keep], y[keep]
    return X, y


def split(y, k, settings):
    """Train and test indices of split ``k``: stratified, seed ``seed + k``.

    Examples
    --------
    >>> import numpy as np
    >>> from crcen.experiments import FULL, split
    >>> y = np.r_[np.zeros(90, int), np.ones(10, int)]
    >>> train, test = split(y, 0, FULL)
    >>> len(train), len(test), int(y[test].sum())
    (75, 25, 2)
    """
    return train_test_split(
        np.arange(len(y)),
        test_size=settings.test_size,
        stratify=y,
        random_state=settings.seed + k,
    )
