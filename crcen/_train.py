"""Training core: fit a stack of K independent MLPs in one pass.

Each network ``k`` minimises its own objective

.. math::

    f_k(\\theta_k) = \\frac{1}{\\sum_i w_{ki}} \\Big[\\sum_i w_{ki}\\,
    \\ell(y_{ki}, g(x_{ki}; \\theta_k)) + \\frac{\\alpha_k}{2}
    \\lVert W_k \\rVert^2\\Big],

where the weights ``w`` carry λ (Eq. 1), any sample weights and the fold mask of
a cross-validation split, and the L2 penalty acts on weight matrices only, never
on biases (Eq. 6 needs a free output bias). Dividing by the total weight does not
move the optimum; it makes ``tol`` independent of the sample size.

The solvers are vectorised over the stack but keep every network's state
(L-BFGS memory, step sizes, Adam moments, mini-batch order, stopping) to itself,
so a batched fit equals K separate fits with the same seeds.
"""

import logging
import math

import numpy as np
import torch

from ._loss import LOSSES
from ._stack import MLPStack

__all__ = ["fit_stack", "StackFit"]

log = logging.getLogger(__name__)


class StackFit:
    """What :func:`fit_stack` returns: the trained stack and its history.

    Attributes
    ----------
    stack : MLPStack
        Trained parameters.
    n_iter : ndarray of shape (K,)
        Iterations (L-BFGS) or epochs (Adam, SGD) run by each network.
    converged : ndarray of shape (K,)
        Whether each network met its stopping rule before ``max_iter``.
    loss_curves : list of ndarray
        Objective ``f_k`` after each iteration or epoch, per network.
    """

    def __init__(self, stack, n_iter, converged, loss_curves):
        self.stack = stack
        self.n_iter = n_iter
        self.converged = converged
        self.loss_curves = loss_curves


def _as_tensor(a, dtype):
    return torch.as_tensor(np.ascontiguousarray(a), dtype=dtype)


def fit_stack(
    X,
    y,
    weights,
    *,
    hidden_layer_sizes,
    loss="crcen",
    n_classes=2,
    activation="relu",
    alpha=0.0,
    solver="lbfgs",
    max_iter=200,
    tol=1e-5,
    seeds=0,
    learning_rate=1e-3,
    batch_size="auto",
    n_iter_no_change=10,
    output_bias=True,
    penalize_bias=False,
    memory=10,
    dtype=torch.float64,
):
    """Train ``K`` independent MLPs at once.

    Parameters
    ----------
    X : array-like of shape (n, d) or (K, n, d)
        Inputs, shared by every network or one set per network. Networks with
        fewer samples are padded with rows of weight zero.
    y : array-like of shape (n,) or (K, n)
        Labels in {0, 1} (``loss="crcen"`` or ``"csmlp"``) or in
        {0, ..., n_classes - 1} (``loss="softmax"``).
    weights : array-like of shape (K, n)
        Per-sample weight of each network: class weight times sample weight
        times fold membership.
    hidden_layer_sizes : list of tuple of int, length K
        Hidden layer widths of each network; all of the same depth. An empty
        tuple gives logistic regression.
    loss : {"crcen", "softmax", "csmlp"}
        Cross-entropy with a sigmoid output (Eq. 1), cross-entropy with a
        softmax output, or the squared error with a tanh output of CSMLP.
    n_classes : int
        Number of classes; sets the outputs of ``loss="softmax"``.
    activation : str
        Hidden activation: ``"relu"``, ``"tanh"``, ``"logistic"``, ``"identity"``.
    alpha : float or array-like of shape (K,)
        L2 strength on the weights of each network.
    solver : {"lbfgs", "adam", "sgd"}
        Full-batch L-BFGS with a backtracking Armijo line search, or
        mini-batch Adam / plain SGD.
    max_iter : int
        Iterations (L-BFGS) or epochs (Adam, SGD).
    tol : float
        L-BFGS stops a network when the largest entry of its gradient is at
        most ``tol``, or when its line search can no longer decrease ``f_k``.
        Adam and SGD stop a network when its epoch loss has not improved by
        ``tol`` for ``n_iter_no_change`` epochs.
    seeds : int or array-like of shape (K,)
        Seed of each network's initial weights and mini-batch order.
    learning_rate : float
        Step size of Adam and SGD.
    batch_size : int or "auto"
        Mini-batch size of Adam and SGD; ``"auto"`` is ``min(200, n)``.
    n_iter_no_change : int
        Patience of the Adam and SGD stopping rule.
    output_bias : bool
        If False, the output bias is fixed at zero (for the chapter that shows
        what breaks Eq. 6).
    penalize_bias : bool
        If True, the L2 penalty acts on the biases too (again only to show what
        breaks Eq. 6).
    memory : int
        Number of L-BFGS correction pairs.
    dtype : torch.dtype
        ``torch.float64`` (default) or ``torch.float32``.

    Returns
    -------
    StackFit

    Examples
    --------
    Two logistic regressions with λ = 1/2 and λ = 0.9 on the same data:

    >>> import numpy as np
    >>> from crcen import fit_stack, theory
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 2))
    >>> y = (X[:, 0] + rng.normal(size=300) > 1.5).astype(float)
    >>> lam = np.array([0.5, 0.9])
    >>> w = np.where(y == 1, lam[:, None], 1 - lam[:, None])
    >>> fit = fit_stack(X, y, w, hidden_layer_sizes=[(), ()], tol=1e-10)
    >>> p = 1 / (1 + np.exp(-fit.stack.decision_function(X)[..., 0]))
    >>> [round(theory.key_equation_lhs(y, p[k]) / theory.key_equation_rhs(lam[k]), 6)
    ...  for k in range(2)]
    [1.0, 1.0]
    """
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {sorted(LOSSES)}, got {loss!r}.")
    if solver not in ("lbfgs", "adam", "sgd"):
        raise ValueError(f"solver must be 'lbfgs', 'adam' or 'sgd', got {solver!r}.")
    loss_fn, n_out_fn = LOSSES[loss]
    W = _as_tensor(weights, dtype)
    if W.ndim != 2:
        raise ValueError(f"weights must have shape (K, n), got {tuple(W.shape)}.")
    K, n = W.shape
    Xt = _as_tensor(X, dtype)
    yt = _as_tensor(y, dtype)
    if Xt.shape[-2] != n or yt.shape[-1] != n:
        raise ValueError(
            f"X, y and weights disagree on the number of samples: "
            f"{Xt.shape[-2]}, {yt.shape[-1]} and {n}."
        )
    hidden = list(hidden_layer_sizes)
    if len(hidden) != K:
        raise ValueError(f"Give {K} hidden_layer_sizes, one per network.")
    seeds = np.broadcast_to(np.asarray(seeds, dtype=np.int64), (K,))
    stack = MLPStack.init(
        Xt.shape[-1],
        hidden,
        n_outputs=n_out_fn(n_classes),
        seeds=seeds,
        activation=activation,
        dtype=dtype,
    )
    alpha_t = torch.as_tensor(np.broadcast_to(alpha, (K,)).copy(), dtype=dtype)
    total = W.sum(1)
    if torch.any(total <= 0):
        raise ValueError(
            "The sample weights of a network are all zero; it has nothing to fit."
        )
    penal = stack.weight_mask()
    if penalize_bias:
        penal = torch.ones_like(penal)
    free = torch.ones_like(penal)
    if not output_bias:
        free[stack.output_bias_slice()] = 0.0

    def objective(theta, rows, batch=None):
        """f_k and its gradient for the networks ``rows``."""
        theta = theta.detach().requires_grad_(True)
        if batch is None:
            Xr = Xt if Xt.ndim == 2 else Xt[rows]
            yr = yt if yt.ndim == 1 else yt[rows]
            wr, scale = W[rows], 1.0
        else:
            if Xt.ndim == 2:
                Xr = Xt[batch]
            else:
                idx = batch[..., None].expand(-1, -1, Xt.shape[-1])
                Xr = torch.gather(Xt[rows], 1, idx)
            yr = yt[batch] if yt.ndim == 1 else torch.gather(yt[rows], 1, batch)
            wr = torch.gather(W[rows], 1, batch)
            scale = n / batch.shape[1]
        out = stack.forward(Xr, theta, rows)
        data = loss_fn(out, yr, wr) * scale
        pen = 0.5 * alpha_t[rows] * (theta * theta * penal).sum(1)
        f = (data + pen) / total[rows]
        (g,) = torch.autograd.grad(f.sum(), theta)
        return f.detach(), g * free

    if solver == "lbfgs":
        theta, n_iter, conv, curves = _lbfgs(
            objective, stack.theta, max_iter, tol, memory
        )
    else:
        bs = min(200, n) if batch_size == "auto" else int(batch_size)
        if not 1 <= bs:
            raise ValueError(f"batch_size must be positive, got {batch_size!r}.")
        theta, n_iter, conv, curves = _first_order(
            objective,
            stack.theta,
            solver,
            n,
            min(bs, n),
            seeds,
            max_iter,
            tol,
            learning_rate,
            n_iter_no_change,
        )
    stack.theta = theta
    if not conv.all():
        log.info(
            "%d of %d networks did not converge in %d iterations",
            int((~conv).sum()),
            K,
            max_iter,
        )
    return StackFit(stack, n_iter, conv, curves)


def _lbfgs(objective, theta0, max_iter, tol, m, c1=1e-4, max_ls=30):
    """Per-network L-BFGS (two-loop recursion) with Armijo backtracking."""
    K, P = theta0.shape
    theta = theta0.clone()
    everyone = torch.arange(K)
    f, g = objective(theta, everyone)
    S = torch.zeros(m, K, P, dtype=theta.dtype)
    Y = torch.zeros(m, K, P, dtype=theta.dtype)
    rho = torch.zeros(m, K, dtype=theta.dtype)
    pos = torch.zeros(K, dtype=torch.long)
    gamma = torch.ones(K, dtype=theta.dtype)
    n_iter = np.zeros(K, dtype=int)
    curves = [[float(v)] for v in f]
    active = g.abs().amax(1) > tol
    converged = ~active.clone()
    for _ in range(max_iter):
        rows = active.nonzero()[:, 0]
        if len(rows) == 0:
            break
        gr, pr = g[rows], pos[rows]
        # two-loop recursion, each network over its own most recent pairs
        q = gr.clone()
        saved = []
        for j in range(1, m + 1):
            idx = (pr - j) % m
            s, yv, r = S[idx, rows], Y[idx, rows], rho[idx, rows]
            a = r * (s * q).sum(1)
            q -= a[:, None] * yv
            saved.append((a, s, yv, r))
        z = gamma[rows, None] * q
        for a, s, yv, r in reversed(saved):
            b = r * (yv * z).sum(1)
            z += s * (a - b)[:, None]
        d = -z
        gd = (gr * d).sum(1)
        reset = ~(gd < 0)
        d[reset] = -gr[reset]
        gd[reset] = -(gr[reset] ** 2).sum(1)
        first = torch.as_tensor(n_iter[rows.numpy()] == 0)
        t = torch.where(
            first, torch.clamp(1.0 / gr.abs().sum(1), max=1.0), torch.ones_like(gd)
        )
        # backtracking line search, per network
        base, fr = theta[rows], f[rows]
        new_theta, new_f, new_g = base.clone(), fr.clone(), gr.clone()
        todo = torch.ones(len(rows), dtype=torch.bool)
        for _ in range(max_ls):
            sub = todo.nonzero()[:, 0]
            trial = base[sub] + t[sub, None] * d[sub]
            ft, gt = objective(trial, rows[sub])
            ok = torch.isfinite(ft) & (ft <= fr[sub] + c1 * t[sub] * gd[sub])
            acc = sub[ok]
            new_theta[acc], new_f[acc], new_g[acc] = trial[ok], ft[ok], gt[ok]
            todo[acc] = False
            if not todo.any():
                break
            t[todo] *= 0.5
        # a network whose line search failed is at its numerical floor
        stuck = rows[todo]
        active[stuck] = False
        converged[stuck] = True
        moved = ~todo
        mr = rows[moved]
        s = new_theta[moved] - base[moved]
        yv = new_g[moved] - gr[moved]
        ys = (s * yv).sum(1)
        yy = (yv * yv).sum(1)
        good = ys > 1e-10 * yy.clamp(min=1e-300).sqrt() * s.norm(dim=1)
        ur = mr[good]
        slot = pos[ur]
        S[slot, ur] = s[good]
        Y[slot, ur] = yv[good]
        rho[slot, ur] = 1.0 / ys[good]
        gamma[ur] = ys[good] / yy[good]
        pos[ur] = (slot + 1) % m
        theta[mr], f[mr], g[mr] = new_theta[moved], new_f[moved], new_g[moved]
        n_iter[mr.numpy()] += 1
        for k, v in zip(mr.tolist(), new_f[moved].tolist(), strict=True):
            curves[k].append(v)
        done = mr[g[mr].abs().amax(1) <= tol]
        active[done] = False
        converged[done] = True
    return theta, n_iter, converged.numpy(), [np.array(c) for c in curves]


def _first_order(objective, theta0, solver, n, bs, seeds, max_iter, tol, lr, patience):
    """Mini-batch Adam or SGD; each network shuffles with its own generator."""
    K, P = theta0.shape
    theta = theta0.clone()
    gens = [torch.Generator().manual_seed(int(s) + 1) for s in seeds]
    m1 = torch.zeros_like(theta)
    m2 = torch.zeros_like(theta)
    b1, b2, eps = 0.9, 0.999, 1e-8
    step = 0
    active = torch.ones(K, dtype=torch.bool)
    best = torch.full((K,), math.inf, dtype=theta.dtype)
    bad = np.zeros(K, dtype=int)
    n_iter = np.zeros(K, dtype=int)
    curves = [[] for _ in range(K)]
    n_batches = math.ceil(n / bs)
    for _epoch in range(max_iter):
        rows = active.nonzero()[:, 0]
        if len(rows) == 0:
            break
        perm = torch.stack([torch.randperm(n, generator=gens[k]) for k in rows])
        epoch_f = torch.zeros(len(rows), dtype=theta.dtype)
        for i in range(n_batches):
            batch = perm[:, i * bs : (i + 1) * bs]
            f, g = objective(theta[rows], rows, batch)
            epoch_f += f * batch.shape[1] / n
            step += 1
            if solver == "sgd":
                theta[rows] -= lr * g
                continue
            m1[rows] = b1 * m1[rows] + (1 - b1) * g
            m2[rows] = b2 * m2[rows] + (1 - b2) * g * g
            mhat = m1[rows] / (1 - b1**step)
            vhat = m2[rows] / (1 - b2**step)
            theta[rows] -= lr * mhat / (vhat.sqrt() + eps)
        n_iter[rows.numpy()] += 1
        for k, v in zip(rows.tolist(), epoch_f.tolist(), strict=True):
            curves[k].append(v)
        improved = epoch_f < best[rows] - tol
        best[rows] = torch.minimum(best[rows], epoch_f)
        r = rows.numpy()
        bad[r] = np.where(improved.numpy(), 0, bad[r] + 1)
        active[rows[torch.as_tensor(bad[r] >= patience)]] = False
    converged = ~active.numpy()
    return theta, n_iter, converged, [np.array(c) for c in curves]
