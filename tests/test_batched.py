"""A batched fit equals K separate fits: the promise of :func:`crcen.fit_stack`.

A stack applies to each network the operations a separate fit would apply, so
the two agree to rounding at every step. Rounding is not bit-identical (a
product over a block of several networks may be summed in another order than
over one network), and over hundreds of L-BFGS iterations of a non-convex
network a difference of 1e-16 can be amplified without bound (a line search
that accepts a step in one run and halves it in the other). The tests
therefore compare (i) convex problems at convergence, where the optimum is
unique and any rounding path leads to it, and (ii) non-convex networks over a
moderate budget of iterations, step by step; both to 1e-6.
"""

# crcen first: it sets the OpenMP wait policy before torch loads its runtime
import crcen  # noqa: F401

# isort: split

import numpy as np
import pytest
import torch

from crcen import class_weights, fit_stack
from crcen._autograd import Autograd
from crcen._backprop import Backprop
from crcen._data import Data
from crcen._lbfgs import _direction
from crcen._stack import MLPStack
from crcen._threads import available_cores, torch_threads, worker_threads

SEED = 0
TOL = 1e-6


def _problem(seed=SEED, n=150, d=3):
    """Three input sets; networks 0-2 share set 0, 3-4 share set 1, 5 has set 2."""
    rng = np.random.default_rng(seed)
    sets = []
    for _ in range(3):
        X = rng.normal(size=(n, d))
        y = (X[:, 0] - 0.5 * X[:, 1] + rng.normal(size=n) > 1.0).astype(float)
        sets.append((X, y))
    which = [0, 0, 0, 1, 1, 2]
    X = np.stack([sets[s][0] for s in which])
    y = np.stack([sets[s][1] for s in which])
    lam = np.array([0.5, 0.7, 0.9, 0.6, 0.8, 0.75])
    w = class_weights(y, lam)
    w[1, :20] = 0.0  # a held-out fold
    w[4, -30:] = 0.0  # padding
    alpha = np.array([0.0, 1e-3, 1e-2, 1e-1, 1e-3, 1e-2])
    return X, y, w, alpha


def _separate(X, y, w, hidden, alpha, seeds, **kw):
    fits = [
        fit_stack(
            X[k],
            y[k],
            w[k][None],
            hidden_layer_sizes=[hidden[k]],
            alpha=alpha[k],
            seeds=seeds[k],
            **kw,
        )
        for k in range(len(hidden))
    ]
    return fits


def _compare(batched, separate):
    for k, single in enumerate(separate):
        P = single.stack.theta.shape[1]
        # a batched network padded to wider layers: compare through predictions
        Xq = np.random.default_rng(1).normal(size=(50, batched.stack.sizes[0]))
        zb = batched.stack.select([k]).decision_function(Xq)
        zs = single.stack.decision_function(Xq)
        np.testing.assert_allclose(zb, zs, atol=TOL, rtol=0)
        if batched.stack.theta.shape[1] == P:
            np.testing.assert_allclose(
                batched.stack.theta[k].numpy(), single.stack.theta[0].numpy(), atol=TOL
            )
        assert batched.n_iter[k] == single.n_iter[0]
        assert batched.converged[k] == single.converged[0]
        np.testing.assert_allclose(
            batched.loss_curves[k], single.loss_curves[0], atol=TOL, rtol=0
        )


def test_convex_stack_equals_separate_fits_at_convergence():
    X, y, w, alpha = _problem()
    hidden = [()] * 6
    seeds = np.arange(6)
    kw = dict(max_iter=500, tol=1e-9)
    batched = fit_stack(
        X, y, w, hidden_layer_sizes=hidden, alpha=alpha, seeds=seeds, **kw
    )
    assert batched.converged.all()
    _compare(batched, _separate(X, y, w, hidden, alpha, seeds, **kw))


@pytest.mark.parametrize("activation", ["relu", "logistic"])
@pytest.mark.parametrize("loss", ["crcen", "csmlp"])
def test_mlp_stack_equals_separate_fits(activation, loss):
    X, y, w, alpha = _problem()
    hidden = [(3,), (5,), (8,), (5,), (3,), (8,)]
    seeds = [3, 1, 4, 1, 5, 9]
    kw = dict(max_iter=25, tol=1e-7, activation=activation, loss=loss)
    batched = fit_stack(
        X, y, w, hidden_layer_sizes=hidden, alpha=alpha, seeds=seeds, **kw
    )
    _compare(batched, _separate(X, y, w, hidden, alpha, seeds, **kw))


def test_adam_stack_equals_separate_fits():
    X, y, w, alpha = _problem()
    hidden = [(4,), (6,), (4,), (6,), (4,), (6,)]
    seeds = np.arange(6) + 10
    kw = dict(solver="adam", max_iter=6, batch_size=32, learning_rate=1e-2)
    batched = fit_stack(
        X, y, w, hidden_layer_sizes=hidden, alpha=alpha, seeds=seeds, **kw
    )
    _compare(batched, _separate(X, y, w, hidden, alpha, seeds, **kw))


def test_float32_stack_equals_separate_fits():
    X, y, w, alpha = _problem()
    hidden = [(8,)] * 6
    seeds = np.arange(6)
    kw = dict(max_iter=10, dtype=torch.float32)
    batched = fit_stack(
        X, y, w, hidden_layer_sizes=hidden, alpha=alpha, seeds=seeds, **kw
    )
    for k, single in enumerate(_separate(X, y, w, hidden, alpha, seeds, **kw)):
        np.testing.assert_allclose(
            batched.stack.theta[k].numpy(), single.stack.theta[0].numpy(), atol=1e-4
        )


@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
@pytest.mark.parametrize("loss", ["crcen", "csmlp"])
@pytest.mark.parametrize("hidden", [[()] * 6, [(3,), (5,), (8,), (5,), (3,), (8,)]])
def test_backprop_gradient_equals_autograd(activation, loss, hidden):
    X, y, w, alpha = _problem()
    data = Data(X, y, w, torch.float64, loss)
    assert data.X.shape[0] == 3  # identical inputs stored once
    stack = MLPStack.init(
        3, hidden, n_outputs=1, seeds=np.arange(6), activation=activation
    )
    gen = torch.Generator().manual_seed(SEED)
    theta = stack.theta + 0.3 * torch.randn(
        stack.theta.shape, generator=gen, dtype=torch.float64
    )
    theta = torch.where(stack.theta == 0, 0.0, theta)  # padded units stay zero
    alpha_t = torch.as_tensor(alpha)
    free = torch.ones(theta.shape[1], dtype=torch.float64)
    penal = stack.weight_mask()
    h = [hs[0] if hs else 0 for hs in hidden]
    fast = Backprop(data, stack, h, loss, alpha_t, penal, free)
    slow = Autograd(data, stack, loss, alpha_t, penal, free)
    for rows in (torch.arange(6), torch.tensor([1, 4, 5])):
        f1, g1 = fast(theta[rows], rows)
        f2, g2 = slow(theta[rows], rows)
        np.testing.assert_allclose(f1.numpy(), f2.numpy(), rtol=1e-12)
        np.testing.assert_allclose(g1.numpy(), g2.numpy(), atol=1e-12)


def _two_loop(g, pairs, gamma):
    """Textbook L-BFGS two-loop recursion, oldest pair first."""
    q = g.clone()
    saved = []
    for s, y in reversed(pairs):
        a = (s @ q) / (y @ s)
        q -= a * y
        saved.append(a)
    z = gamma * q
    for (s, y), a in zip(pairs, reversed(saved), strict=True):
        b = (y @ z) / (y @ s)
        z += s * (a - b)
    return -z


def test_compact_direction_equals_two_loop_recursion():
    gen = torch.Generator().manual_seed(SEED)
    K, m, P = 3, 4, 7
    S = torch.zeros(K, m, P, dtype=torch.float64)
    Y = torch.zeros(K, m, P, dtype=torch.float64)
    counts, starts = [2, 4, 4], [0, 0, 3]  # fewer pairs; a wrapped ring
    pairs = []
    for k in range(K):
        A = torch.randn(P, P, generator=gen, dtype=torch.float64)
        H = A @ A.T + P * torch.eye(P, dtype=torch.float64)  # SPD: y = H s
        mine = []
        for i in range(counts[k]):
            s = torch.randn(P, generator=gen, dtype=torch.float64)
            slot = (starts[k] + i) % m
            S[k, slot], Y[k, slot] = s, H @ s
            mine.append((s, H @ s))
        pairs.append(mine)
    pos = torch.tensor([(starts[k] + counts[k]) % m for k in range(K)])
    cnt = torch.tensor(counts)
    gamma = torch.tensor([0.5, 1.3, 0.9], dtype=torch.float64)
    g = torch.randn(K, P, generator=gen, dtype=torch.float64)
    SY = S @ Y.transpose(1, 2)
    YY = Y @ Y.transpose(1, 2)
    d = _direction(g, S, Y, SY, YY, pos, cnt, gamma)
    for k in range(K):
        ref = _two_loop(g[k], pairs[k], gamma[k])
        np.testing.assert_allclose(d[k].numpy(), ref.numpy(), rtol=1e-10, atol=1e-12)


def test_fixed_output_bias_is_zero():
    X, y, w, _ = _problem()
    fit = fit_stack(X[0], y[0], w[:1], hidden_layer_sizes=[(4,)], output_bias=False)
    assert float(fit.stack.theta[0, fit.stack.output_bias_slice()].abs().max()) == 0.0


def test_ftol_stops_on_a_flat_objective():
    X, y, w, _ = _problem()
    kw = dict(hidden_layer_sizes=[(5,)], max_iter=200, tol=0.0)
    plain = fit_stack(X[0], y[0], w[:1], **kw)
    flat = fit_stack(X[0], y[0], w[:1], ftol=1e-6, **kw)
    assert flat.n_iter[0] < plain.n_iter[0]
    c = flat.loss_curves[0]
    drop = (c[-2] - c[-1]) / max(abs(c[-2]), abs(c[-1]), 1.0)
    assert drop <= 1e-6 < max((c[:-2] - c[1:-1]) / np.maximum(np.abs(c[:-2]), 1.0))
    np.testing.assert_allclose(plain.loss_curves[0][: len(c)], c, atol=1e-12)


def test_threads():
    assert worker_threads(1) == available_cores()
    assert worker_threads(2 * available_cores()) == 1
    before = torch.get_num_threads()
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_x_index_equals_one_input_set_per_network():
    X, y, w, alpha = _problem()
    groups = X[[0, 3, 5]]
    index = [0, 0, 0, 1, 1, 2]
    kw = dict(hidden_layer_sizes=[(4,)] * 6, alpha=alpha, max_iter=15, seeds=7)
    full = fit_stack(X, y, w, **kw)
    shared = fit_stack(groups, y, w, x_index=index, **kw)
    np.testing.assert_array_equal(full.stack.theta.numpy(), shared.stack.theta.numpy())
    with pytest.raises(ValueError, match="x_index"):
        fit_stack(groups, y, w, x_index=[0, 1, 2, 3, 0, 0], **kw)
