"""``f_k`` and its gradient by autograd, and the mini-batch solvers.

The general path of the training core: any depth, any loss, mini-batches.
Shallow full-batch stacks take the faster hand-written path of
:mod:`crcen._backprop`; both compute the same objective.
"""

import math

import numpy as np
import torch

from ._loss import LOSSES

__all__ = ["Autograd", "first_order"]


class Autograd:
    """``f_k`` and its gradient by autograd, for any depth, loss and batch."""

    def __init__(self, data, stack, loss, alpha, penal, free):
        self.data, self.stack = data, stack
        self.loss_fn = LOSSES[loss][0]
        self.alpha, self.penal, self.free = alpha, penal, free

    def __call__(self, theta, rows, batch=None):
        data = self.data
        theta = theta.detach().requires_grad_(True)
        y, W = data.target, data.W
        if batch is None:
            Xr = data.inputs(rows)
            yr = data.y if y.ndim == 1 else data.y[rows]
            wr, scale = W[rows], 1.0
        else:
            if data.X.shape[0] == 1:
                Xr = data.X[0, :, :-1][batch]
            else:
                Xr = data.X[data.x_index[rows][:, None], batch, :-1]
            yr = data.y[batch] if y.ndim == 1 else torch.gather(data.y[rows], 1, batch)
            wr = torch.gather(W[rows], 1, batch)
            scale = W.shape[1] / batch.shape[1]
        out = self.stack.forward(Xr, theta, rows)
        f_data = self.loss_fn(out, yr, wr) * scale
        pen = 0.5 * self.alpha[rows] * (theta * theta * self.penal).sum(1)
        f = (f_data + pen) / data.total[rows]
        (g,) = torch.autograd.grad(f.sum(), theta)
        return f.detach(), g * self.free


def first_order(objective, theta0, solver, n, bs, seeds, max_iter, tol, lr, patience):
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
