"""The measurements of the benchmark; ``run.py`` runs them and writes the table.

Both sides of every comparison minimise the same objective: scikit-learn's
``MLPClassifier`` with ``sample_weight`` minimises
``[Σ w ℓ + α/2 ||W||²] / Σ w`` (its ``_backprop`` divides the weighted loss
and the L2 term by the sum of the sample weights, and leaves the biases
unpenalised), which is :func:`crcen.fit_stack`'s ``f_k``. Both run L-BFGS
with 10 correction pairs, at most 200 iterations, and the same stopping rules
(largest gradient entry ≤ ``tol = 1e-4``, scikit-learn's default; relative
decrease ≤ ``ftol = 2.2e-9``, SciPy's default that scikit-learn keeps). The
initial weights follow the same Glorot rule from different generators, and
the line searches differ (SciPy's Wolfe search, our Armijo backtracking).
"""

import inspect
import time
import warnings
from pathlib import Path

import joblib
import numpy as np
import torch
from imblearn.metrics import geometric_mean_score
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import make_scorer
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from crcen import class_weights, fit_stack
from crcen._backprop import TILE_BYTES
from crcen.datasets import load_dataset
from crcen.experiments import GRID, QUICK_GRID
from crcen.simulations import DTYPES, run_simulation

SEED = 0
#: One fit: the default hidden size and L2 strength of crcen.methods.
HIDDEN, ALPHA = 32, 1e-3
MAX_ITER, TOL, FTOL, MEMORY = 200, 1e-4, 2.220446049250313e-09, 10
N_SPLITS = 4
N_JOBS = 2
QUICK_DATASETS = ("solar_flare_m0", "abalone")
#: More initial weights of the stack, for the seed-to-seed spread of a G-mean.
OTHER_SEEDS = (1, 2)
#: Networks of the floating-point rate: the grid's widths of 32 or more.
WIDE = (32, 64)


def settings(quick):
    grid = QUICK_GRID if quick else GRID
    return {
        "single_fit": {"hidden": HIDDEN, "alpha": ALPHA, "dtype": "float64"},
        "grid": {"hidden": list(grid["hidden"]), "alpha": list(grid["alpha"])},
        "max_iter": _max_iter(quick),
        "tol": TOL,
        "ftol": FTOL,
        "memory": MEMORY,
        "n_splits": N_SPLITS,
        "n_jobs": N_JOBS,
        "activation": "relu",
        "lam": "N0 / (N0 + N1) of the whole dataset, as sample weights",
        "seed": SEED,
    }


def _max_iter(quick):
    return 50 if quick else MAX_ITER


def _best(fn, repeats=3, enough=5.0):
    """Best wall time of up to ``repeats`` calls (fewer once ``enough`` seconds
    have passed), and the last result."""
    best, out, spent = np.inf, None, 0.0
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        took = time.perf_counter() - t
        best, spent = min(best, took), spent + took
        if spent > enough:
            break
    return best, out


def gemm_rate(n=2048, seconds=2.0):
    """Float32 matrix-multiply rate of torch on this machine, its threads."""
    gen = torch.Generator().manual_seed(SEED)
    a = torch.randn(n, n, generator=gen)
    b = torch.randn(n, n, generator=gen)
    c = torch.empty(n, n)
    torch.mm(a, b, out=c)
    best, t_end = np.inf, time.perf_counter() + seconds
    while time.perf_counter() < t_end:
        t = time.perf_counter()
        torch.mm(a, b, out=c)
        best = min(best, time.perf_counter() - t)
    return {
        "gflops": 2 * n**3 / best / 1e9,
        "size": n,
        "threads": torch.get_num_threads(),
    }


def _weights(y):
    """Eq. (1) weights with λ = N0 / (N0 + N1), as sample weights."""
    lam = float(np.mean(y == 0))
    return class_weights(y, lam), lam


def _objective(z, y, w, sq_weights, alpha):
    """[Σ w ℓ + α/2 ||W||²] / Σ w from logits z: one yardstick for both."""
    nll = np.logaddexp(0.0, z) - y * z
    return float((w @ nll + 0.5 * alpha * sq_weights) / w.sum())


def _sklearn_logits(clf, X):
    h = np.maximum(X @ clf.coefs_[0] + clf.intercepts_[0], 0.0)
    return (h @ clf.coefs_[1] + clf.intercepts_[1])[:, 0]


def single_fits(names):
    """1. One CRCEN fit against one MLPClassifier, on each dataset."""
    out = []
    for name in names:
        X, y = load_dataset(name)
        X = StandardScaler().fit_transform(X)
        w, lam = _weights(y)

        def ours(X=X, y=y, w=w):
            return fit_stack(
                X,
                y,
                w[None],
                hidden_layer_sizes=[(HIDDEN,)],
                alpha=ALPHA,
                max_iter=MAX_ITER,
                tol=TOL,
                ftol=FTOL,
                memory=MEMORY,
                seeds=SEED,
            )

        def theirs(X=X, y=y, w=w):
            clf = MLPClassifier(
                hidden_layer_sizes=(HIDDEN,),
                solver="lbfgs",
                alpha=ALPHA,
                max_iter=MAX_ITER,
                tol=TOL,
                random_state=SEED,
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                return clf.fit(X, y, sample_weight=w)

        t_ours, fit = _best(ours)
        t_theirs, clf = _best(theirs)
        sq = fit.stack.theta[0] * fit.stack.weight_mask()
        sq_sk = sum(float((c**2).sum()) for c in clf.coefs_)
        out.append(
            {
                "dataset": name,
                "n": int(X.shape[0]),
                "d": int(X.shape[1]),
                "lam": lam,
                "crcen_s": t_ours,
                "sklearn_s": t_theirs,
                "speedup": t_theirs / t_ours,
                "crcen_f": _objective(
                    fit.stack.decision_function(X)[0, :, 0],
                    y,
                    w,
                    float((sq**2).sum()),
                    ALPHA,
                ),
                "sklearn_f": _objective(_sklearn_logits(clf, X), y, w, sq_sk, ALPHA),
                "crcen_iter": int(fit.n_iter[0]),
                "sklearn_iter": int(clf.n_iter_),
            }
        )
    return out


def _grid_stack(X, y, folds, grid, max_iter, dtype, seed=SEED):
    """The whole grid search as one stack: fit, then score every network."""
    w_all, _ = _weights(y)
    n_max = max(len(tr) for tr, _ in folds)
    Xf = np.zeros((len(folds), n_max, X.shape[1]))
    nets, yk, wk, val = [], [], [], []
    for f, (tr, va) in enumerate(folds):
        scaler = StandardScaler().fit(X[tr])
        Xf[f, : len(tr)] = scaler.transform(X[tr])
        val.append((scaler.transform(X[va]), y[va]))
        yt, wt = np.zeros(n_max), np.zeros(n_max)
        yt[: len(tr)], wt[: len(tr)] = y[tr], w_all[tr]
        for h in grid["hidden"]:
            for a in grid["alpha"]:
                nets.append((f, h, a))
                yk.append(yt)
                wk.append(wt)
    fit = fit_stack(
        Xf,
        np.stack(yk),
        np.stack(wk),
        x_index=[f for f, _, _ in nets],
        hidden_layer_sizes=[(h,) for _, h, _ in nets],
        alpha=np.array([a for _, _, a in nets]),
        max_iter=max_iter,
        tol=TOL,
        ftol=FTOL,
        memory=MEMORY,
        seeds=seed,
        dtype=dtype,
    )
    scores = {}
    for f, (Xv, yv) in enumerate(val):
        rows = [k for k, net in enumerate(nets) if net[0] == f]
        z = fit.stack.select(rows).decision_function(Xv)[..., 0]
        for k, zk in zip(rows, z, strict=True):
            key = nets[k][1:]
            scores.setdefault(key, []).append(geometric_mean_score(yv, zk > 0))
    return fit, nets, {key: float(np.mean(v)) for key, v in scores.items()}


def _peak_mib(fn):
    """``fn()`` and the peak resident memory it added, in MiB (Linux), or None."""
    status = Path("/proc/self/status")
    try:
        Path("/proc/self/clear_refs").write_text("5")  # reset the peak
        start = _status_kib(status, "VmRSS")
    except OSError:
        return fn(), None
    out = fn()
    return out, (_status_kib(status, "VmHWM") - start) / 1024


def _status_kib(status, field):
    for line in status.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise OSError(field)


def _crcen_grid(X, y, folds, grid, max_iter, dtype):
    t = time.perf_counter()
    (fit, nets, scores), peak = _peak_mib(
        lambda: _grid_stack(X, y, folds, grid, max_iter, dtype)
    )
    seconds = time.perf_counter() - t
    (h, a), best = max(scores.items(), key=lambda kv: kv[1])
    return {
        "seconds": seconds,
        "gmean": best,
        "hidden": h,
        "alpha": a,
        "scores": {f"{k[0]},{k[1]:g}": v for k, v in scores.items()},
        "n_iter_mean": float(fit.n_iter.mean()),
        "n_iter_by_hidden": {
            str(h): float(
                np.mean(
                    [n for n, net in zip(fit.n_iter, nets, strict=True) if net[1] == h]
                )
            )
            for h in grid["hidden"]
        },
        "peak_mib": peak,
    }


def _sklearn_grid(X, y, folds, grid, max_iter):
    w, _ = _weights(y)
    pipe = Pipeline(
        [
            ("scale", StandardScaler()),
            (
                "mlp",
                MLPClassifier(
                    solver="lbfgs", max_iter=max_iter, tol=TOL, random_state=SEED
                ),
            ),
        ]
    )
    search = GridSearchCV(
        pipe,
        {
            "mlp__hidden_layer_sizes": [(h,) for h in grid["hidden"]],
            "mlp__alpha": list(grid["alpha"]),
        },
        scoring=make_scorer(geometric_mean_score),
        cv=folds,
        n_jobs=N_JOBS,
        refit=False,
    )
    # the worker processes are started (or woken) before the clock runs
    joblib.Parallel(n_jobs=N_JOBS)(joblib.delayed(abs)(i) for i in range(N_JOBS))
    t = time.perf_counter()
    with warnings.catch_warnings():
        # scikit-learn hands these filters to its workers: no flood of
        # "lbfgs failed to converge" from the fits that use all iterations
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y, mlp__sample_weight=w)
    seconds = time.perf_counter() - t
    best = search.best_params_
    return {
        "seconds": seconds,
        "gmean": float(search.best_score_),
        "hidden": int(best["mlp__hidden_layer_sizes"][0]),
        "alpha": float(best["mlp__alpha"]),
    }


def grids(names, quick):
    """2. The Table 3 grid search: one stack against GridSearchCV."""
    grid = QUICK_GRID if quick else GRID
    max_iter = _max_iter(quick)
    out = []
    for name in names:
        X, y = load_dataset(name)
        folds = list(
            StratifiedKFold(N_SPLITS, shuffle=True, random_state=SEED).split(X, y)
        )
        r = {"dataset": name}
        r["crcen32"] = _crcen_grid(X, y, folds, grid, max_iter, torch.float32)
        r["crcen64"] = _crcen_grid(X, y, folds, grid, max_iter, torch.float64)
        r["sklearn"] = _sklearn_grid(X, y, folds, grid, max_iter)
        # how much the best CV G-mean moves with the initial weights alone
        r["crcen32_other_seeds"] = {
            seed: max(
                _grid_stack(X, y, folds, grid, max_iter, torch.float32, seed)[
                    2
                ].values()
            )
            for seed in OTHER_SEEDS
        }
        r["speedup"] = r["sklearn"]["seconds"] / r["crcen32"]["seconds"]
        r["speedup64"] = r["sklearn"]["seconds"] / r["crcen64"]["seconds"]
        r["same_choice_32_64"] = (r["crcen32"]["hidden"], r["crcen32"]["alpha"]) == (
            r["crcen64"]["hidden"],
            r["crcen64"]["alpha"],
        )
        out.append(r)
    return out


def throughput(names, quick):
    """3. Floating-point rate of batched training, networks of 32 or 64 units."""
    grid = {"hidden": WIDE, "alpha": (QUICK_GRID if quick else GRID)["alpha"]}
    out = []
    for name in names:
        X, y = load_dataset(name)
        folds = list(
            StratifiedKFold(N_SPLITS, shuffle=True, random_state=SEED).split(X, y)
        )
        t = time.perf_counter()
        fit, nets, _ = _grid_stack(X, y, folds, grid, _max_iter(quick), torch.float32)
        seconds = time.perf_counter() - t
        d1 = X.shape[1] + 1
        rows = np.array([len(folds[f][0]) for f, _, _ in nets])
        h = np.array([h for _, h, _ in nets])
        # multiply-adds of one evaluation: forward (d+1)h + h, backward
        # (d+1)h (first-layer gradient) + h (output gradient) + h (back to
        # the hidden units); elementwise work is not counted
        flops = 2.0 * rows * (2 * d1 * h + 3 * h) * fit.n_evals
        out.append(
            {
                "dataset": name,
                "seconds": seconds,
                "gflops": float(flops.sum() / seconds / 1e9),
                "evals_per_iter": float(fit.n_evals.sum() / max(fit.n_iter.sum(), 1)),
            }
        )
    return out


def table1(quick):
    """4. The 600 fits of Table 1 (60 in the quick mode), as the Simulations
    chapter runs them, and Sim2 once more in float64."""
    n_runs = 10 if quick else 100
    out, means = {}, {}
    # sim1 and sim2 at the book's precision (crcen.simulations.DTYPES), and
    # Sim2 once more in float64, to see what the book's float32 changes
    for name, dtype in (
        ("sim1", None),
        ("sim2", None),
        ("sim2_float64", torch.float64),
    ):
        sim = name.split("_")[0]
        kw = {} if dtype is None else {"dtype": dtype}
        t = time.perf_counter()
        res = run_simulation(sim, n_runs=n_runs, **kw)
        out[name] = {
            "seconds": time.perf_counter() - t,
            "dtype": str(dtype or DTYPES[sim]).removeprefix("torch."),
            "networks": int(res.n_iter.size),
            "n_iter_mean": float(res.n_iter.mean()),
            "converged": float(res.converged.mean()),
            "max_iter": int(
                inspect.signature(run_simulation).parameters["max_iter"].default
            ),
        }
        means[name] = res.eq7_lhs.mean(1)
    out["sim2_float64"]["eq7_mean_rel_change"] = float(
        np.abs(means["sim2"] / means["sim2_float64"] - 1).max()
    )
    out["total_s"] = out["sim1"]["seconds"] + out["sim2"]["seconds"]
    out["networks"] = out["sim1"]["networks"] + out["sim2"]["networks"]
    return out


def grid_memory(name="coil_2000", dtype=torch.float32):
    """What the largest grid (most inputs x features) holds in memory, in MiB."""
    X, _ = load_dataset(name)
    n, d1 = int(np.ceil(X.shape[0] * (N_SPLITS - 1) / N_SPLITS)), X.shape[1] + 1
    K = N_SPLITS * len(GRID["hidden"]) * len(GRID["alpha"])
    P = d1 * max(GRID["hidden"]) + max(GRID["hidden"]) + 1
    size = torch.tensor([], dtype=dtype).element_size()
    parts = {
        "inputs": 2 * N_SPLITS * n * d1 * size,  # as given and transposed
        "labels_weights": 3 * K * n * size,
        "lbfgs_memory": 2 * MEMORY * K * P * size,
        "parameters": 8 * K * P * size,  # θ, f, g, trials, steps
        "tiles": 2 * TILE_BYTES * torch.get_num_threads(),
    }
    mib = {k: v / 2**20 for k, v in parts.items()}
    return {
        "largest_grid": name,
        "networks": K,
        "parameters_per_network": P,
        "estimate_mib": sum(mib.values()),
        "estimate_parts_mib": mib,
    }
