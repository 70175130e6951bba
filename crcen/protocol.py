"""The experimental protocol of the paper's Section 4, cached split by split.

For each dataset the protocol draws stratified 75/25 train/test splits; split
``k`` is drawn with the seed ``settings.seed + k`` alone, so the first splits
are the same whatever the number of splits asked for. For an MLP-based method
the number of hidden units and the L2 strength are chosen once, by a stratified
``cv_folds``-fold grid search on the training part of split 0 that maximises
the mean validation G-mean, and kept for every split. Each method is then
fitted to each split's training part and scored on its test part.

Everything expensive is cached on disk by :mod:`crcen.cache`: the grid search
per dataset and method, the fit per dataset, method, split and configuration.

The MLP-based methods are trained through :func:`crcen.methods.fit_batch`,
many networks at once: the grid search fits one stack per number of hidden
units, holding every fold and L2 strength, each network on its own fold's
standardised (and, for SMOTE and ADASYN, resampled) training rows; the final
fits of the splits not yet cached form one more stack. This gives the networks
that fitting the :func:`crcen.methods.make_method` pipelines one by one gives
(the tests check it), at a fraction of the cost. The grid search trains in
float32 (``grid_dtype``), about four times faster on a CPU than float64; the
final fits train in float64, like the estimators.
"""

import logging
import time

import numpy as np
import pandas as pd
import torch
from imblearn.metrics import geometric_mean_score
from joblib import Parallel, delayed
from sklearn.metrics import confusion_matrix, f1_score
from sklearn.model_selection import StratifiedKFold
from tqdm import tqdm

from . import cache
from .datasets import PAPER_DATASETS
from .experiments import Settings, load, split
from .experiments import settings as _mode_settings
from .methods import METHODS, MLP_METHODS, SPECS, fit_batch, fit_ensemble, prepare
from .paper import TABLE2

__all__ = [
    "Settings",
    "grid_search",
    "run_protocol",
    "split_metrics",
    "results",
]

log = logging.getLogger(__name__)


def _check_method(method):
    if method not in METHODS:
        raise ValueError(f"Unknown method {method!r}; the methods are {METHODS}.")


def grid_search(dataset, method, *, settings=None):
    """Choose hidden units and L2 strength of an MLP-based method (cached).

    Stratified ``cv_folds``-fold cross-validation on the training part of split
    0; the score is the G-mean of the validation rows, averaged over the folds;
    ties go to the first configuration in grid order. λ is the method's own
    (α = 1).

    Returns
    -------
    dict
        ``hidden`` and ``alpha`` chosen; ``cv_gmean`` of shape
        ``(len(hidden), len(alpha), cv_folds)``; ``seconds`` and
        ``cpu_seconds``, the wall and CPU time it took.
    """
    _check_method(method)
    if method not in MLP_METHODS:
        raise ValueError(f"{method} has no grid search; it uses its defaults.")
    settings = _mode_settings() if settings is None else settings
    key = {"kind": "grid", "dataset": dataset, "method": method, **settings.key()}
    return cache.cached(key, lambda: _grid_search(dataset, method, settings))


def _grid_search(dataset, method, s):
    start, cpu = time.perf_counter(), time.process_time()
    X, y = load(dataset, s)
    train, _ = split(y, 0, s)
    Xtr, ytr = X[train], y[train]
    cv = StratifiedKFold(s.cv_folds, shuffle=True, random_state=s.seed)
    folds = list(cv.split(Xtr, ytr))
    prepared = [prepare(method, Xtr[a], ytr[a], Xtr[b], s.seed, 1.0) for a, b in folds]
    gmean = np.zeros((len(s.hidden), len(s.alpha), len(folds)))
    members = [(f, j) for f in range(len(folds)) for j in range(len(s.alpha))]
    for i, h in enumerate(s.hidden):
        log.info("%s %s: grid search, %d hidden units", dataset, method, h)
        _, scores = fit_batch(
            method,
            [prepared[f] for f, _ in members],
            h,
            [s.alpha[j] for _, j in members],
            s.seed,
            s.max_iter,
            s.grid_dtype,
        )
        for (f, j), z in zip(members, scores, strict=True):
            gmean[i, j, f] = geometric_mean_score(ytr[folds[f][1]], (z > 0).astype(int))
    i, j = np.unravel_index(np.argmax(gmean.mean(-1)), gmean.shape[:2])
    return {
        "hidden": int(s.hidden[i]),
        "alpha": float(s.alpha[j]),
        "cv_gmean": gmean,
        "seconds": time.perf_counter() - start,
        "cpu_seconds": time.process_time() - cpu,
    }


def _fit_key(dataset, method, k, conf, lam_alpha, s):
    return {
        "kind": "fit",
        "dataset": dataset,
        "method": method,
        "split": k,
        "config": conf,
        "lam_alpha": float(lam_alpha),
        **{f: getattr(s, f) for f in ("max_iter", "test_size", "max_samples", "seed")},
    }


def run_protocol(
    dataset, method, n_splits=None, *, config=None, lam_alpha=1.0, settings=None
):
    """Fit ``method`` on ``n_splits`` train/test splits of ``dataset`` (cached).

    Parameters
    ----------
    dataset : str
        A dataset of :data:`crcen.datasets.PAPER_DATASETS` (or any name that
        :func:`crcen.datasets.load_dataset` knows).
    method : str
        One of :data:`crcen.methods.METHODS`.
    n_splits : int, optional
        Number of splits, ``settings.n_splits`` by default. Splits are cached
        one by one, so asking for more later fits only the new ones.
    config : dict, optional
        ``{"hidden": int, "alpha": float}`` of an MLP-based method; by default
        the one :func:`grid_search` chooses.
    lam_alpha : float, default=1.0
        CSMLP and CRCEN only: λ = α N0 / (α N0 + N1) with α = ``lam_alpha``
        and N0, N1 the class counts of each split's training part. The
        configuration stays the one tuned at α = 1 unless ``config`` is given.
    settings : Settings, optional
        Defaults to :func:`settings`.

    Returns
    -------
    list of dict
        One record per split ``k``: ``split``, ``seed``, ``config``, ``lam``
        (None for the ensembles), ``n_train`` ``[N0, N1]``, ``test_index``,
        ``y_test``, ``score`` (decision score on each test sample, larger means
        more minority: the logit for the MLP-based methods, the minority
        probability for the ensembles), ``threshold`` (``pred`` is ``score >
        threshold``), ``pred``, ``n_iter`` and ``converged`` (None for the
        ensembles), ``attempts`` (ensembles only, see
        :func:`crcen.methods.fit_ensemble`), ``seconds`` and ``cpu_seconds``
        (wall and CPU time of the fit; for the MLP-based methods a share of
        the batch).
    """
    _check_method(method)
    s = _mode_settings() if settings is None else settings
    n_splits = s.n_splits if n_splits is None else int(n_splits)
    if n_splits < 1:
        raise ValueError(f"n_splits must be a positive integer, got {n_splits!r}.")
    mlp = method in MLP_METHODS
    if lam_alpha != 1.0 and not (mlp and SPECS[method].balanced):
        raise ValueError(f"lam_alpha applies to CSMLP and CRCEN only, not {method}.")
    if not mlp and config is not None:
        raise ValueError(f"{method} takes no config; it uses its defaults.")
    if mlp and config is None:
        chosen = grid_search(dataset, method, settings=s)
        config = {"hidden": chosen["hidden"], "alpha": chosen["alpha"]}
    conf = (
        {"hidden": int(config["hidden"]), "alpha": float(config["alpha"])}
        if mlp
        else {}
    )
    keys = [_fit_key(dataset, method, k, conf, lam_alpha, s) for k in range(n_splits)]
    records = [cache.load(key) for key in keys]
    missing = [k for k, r in enumerate(records) if r is None]
    if missing:
        X, y = load(dataset, s)
        fit = _fit_mlp_splits if mlp else _fit_ensemble_splits
        for k, record in zip(
            missing, fit(X, y, method, missing, conf, lam_alpha, s), strict=True
        ):
            cache.store(keys[k], record)
            records[k] = cache.load(keys[k])
    return records


def _record(k, s, y, train, test, score, threshold, **extra):
    n1 = int(y[train].sum())
    score = np.asarray(score, dtype=np.float64)
    return {
        "split": k,
        "seed": s.seed + k,
        "n_train": [len(train) - n1, n1],
        "test_index": np.asarray(test, dtype=np.int64),
        "y_test": np.asarray(y[test], dtype=np.int64),
        "score": score,
        "threshold": threshold,
        "pred": (score > threshold).astype(np.int64),
        **extra,
    }


def _fit_mlp_splits(X, y, method, ks, conf, lam_alpha, s):
    start, cpu = time.perf_counter(), time.process_time()
    parts = [split(y, k, s) for k in ks]
    prepared = [
        prepare(method, X[tr], y[tr], X[te], s.seed + k, lam_alpha)
        for k, (tr, te) in zip(ks, parts, strict=True)
    ]
    seeds = [s.seed + k for k in ks]
    h, a = conf["hidden"], conf["alpha"]
    fit, scores = fit_batch(method, prepared, h, a, seeds, s.max_iter, "float64")
    sec = (time.perf_counter() - start) / len(ks)
    cpu = (time.process_time() - cpu) / len(ks)
    out = []
    for i, (k, (tr, te)) in enumerate(zip(ks, parts, strict=True)):
        extra = {"config": conf, "lam": prepared[i].lam}
        extra |= {"seconds": sec, "cpu_seconds": cpu}
        extra |= {"n_iter": int(fit.n_iter[i]), "converged": bool(fit.converged[i])}
        out.append(_record(k, s, y, tr, te, scores[i], 0.0, **extra))
    return out


def _fit_ensemble_splits(X, y, method, ks, conf, lam_alpha, s):
    out = []
    for k in ks:
        start, cpu = time.perf_counter(), time.process_time()
        tr, te = split(y, k, s)
        pipe, attempts = fit_ensemble(method, X[tr], y[tr], s.seed + k)
        score = pipe.predict_proba(X[te])[:, list(pipe.classes_).index(1)]
        extra = {"config": conf, "lam": None, "n_iter": None, "converged": None}
        extra["attempts"] = attempts
        extra["seconds"] = time.perf_counter() - start
        extra["cpu_seconds"] = time.process_time() - cpu
        out.append(_record(k, s, y, tr, te, score, 0.5, **extra))
    return out


def split_metrics(record):
    """Test metrics of one :func:`run_protocol` record.

    F1 of the minority class, :func:`sklearn.metrics.f1_score` (0 when no test
    sample is predicted minority); G-mean,
    :func:`imblearn.metrics.geometric_mean_score`; and the four counts of
    :func:`sklearn.metrics.confusion_matrix`, minority = positive.
    """
    y, pred = record["y_test"], record["pred"]
    tn, fp, fn, tp = confusion_matrix(y, pred, labels=[0, 1]).ravel()
    return {
        "F1": float(f1_score(y, pred, pos_label=1, zero_division=0.0)),
        "G-mean": float(geometric_mean_score(y, pred)),
        "TN": int(tn),
        "FP": int(fp),
        "FN": int(fn),
        "TP": int(tp),
    }


def _metrics_of(task, s):
    """Metric rows of one (dataset, method, λ factor), fitted on one thread.

    One PyTorch thread whatever ``n_jobs``, so that the numbers do not depend
    on how many workers share the machine; the setting is restored after.
    """
    dataset, method, lam_alpha = task
    head = {"dataset": dataset, "method": method, "lam_alpha": lam_alpha}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        records = run_protocol(dataset, method, lam_alpha=lam_alpha, settings=s)
    finally:
        torch.set_num_threads(threads)
    return [head | {"split": r["split"]} | split_metrics(r) for r in records]


def _cost(task):
    """Rough relative cost of a task, to start the dearest first."""
    dataset, method, _ = task
    n, d, _ = TABLE2.get(dataset, (1, 1, 1))
    spec = SPECS.get(method)
    return n * d * (0.01 if spec is None else 2.0 if spec.resampler else 1.0)


def results(
    datasets=PAPER_DATASETS,
    methods=METHODS,
    *,
    lam_alphas=(1.0,),
    settings=None,
    n_jobs=1,
    progress=True,
):
    """Test metrics of ``methods`` on ``datasets``, one row per split.

    Parameters
    ----------
    datasets, methods : sequence of str
        What to run; every pair goes through :func:`run_protocol`.
    lam_alphas : sequence of float, default=(1.0,)
        Values of ``lam_alpha`` to run each pair with (other than 1 for
        CSMLP and CRCEN only).
    settings : Settings, optional
        Defaults to :func:`settings`.
    n_jobs : int, default=1
        Worker processes (joblib; -1 for one per core). With more than one,
        the tasks run in parallel, dearest first. Every task trains on one
        PyTorch thread, so the numbers do not depend on ``n_jobs``.
    progress : bool, default=True
        Show a tqdm progress bar over the tasks.

    Returns
    -------
    pandas.DataFrame
        Columns ``dataset``, ``method``, ``lam_alpha``, ``split`` and those of
        :func:`split_metrics`, in the order of the arguments.
    """
    s = _mode_settings() if settings is None else settings
    tasks = [(d, m, float(a)) for d in datasets for m in methods for a in lam_alphas]
    order = {task: i for i, task in enumerate(tasks)}
    if n_jobs == 1:
        work = (_metrics_of(task, s) for task in tasks)
    else:
        run = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
        dearest = sorted(tasks, key=_cost, reverse=True)
        work = run(delayed(_metrics_of)(task, s) for task in dearest)
    rows = []
    for part in tqdm(work, total=len(tasks), desc="fits", disable=not progress):
        rows.extend(part)
    rows.sort(
        key=lambda r: (order[r["dataset"], r["method"], r["lam_alpha"]], r["split"])
    )
    return pd.DataFrame(rows)
