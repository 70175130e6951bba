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

Networks that train on the same inputs (the λ values of one run, the
hyper-parameters of one cross-validation fold) share one copy of them and one
matrix product per layer; see :mod:`crcen._backprop` for how the gradient of a
shallow stack is computed and :mod:`crcen._lbfgs` for the solver.
"""

import logging

# first: it chooses the OpenMP wait policy before torch loads its runtime
from . import _threads  # isort: split

import numpy as np
import torch

from ._autograd import Autograd, first_order
from ._backprop import Backprop, supported
from ._data import Data
from ._lbfgs import lbfgs
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
    n_evals : ndarray of shape (K,)
        Evaluations of ``f_k`` and its gradient (line search trials and
        mini-batches included), per network.
    """

    def __init__(self, stack, n_iter, converged, loss_curves, n_evals=None):
        self.stack = stack
        self.n_iter = n_iter
        self.converged = converged
        self.loss_curves = loss_curves
        self.n_evals = n_evals


class _Counted:
    """An objective that counts its evaluations per network."""

    def __init__(self, objective, K):
        self.objective = objective
        self.n = torch.zeros(K, dtype=torch.long)

    def __call__(self, theta, rows, *args):
        self.n[rows] += 1
        return self.objective(theta, rows, *args)

    def active(self, ids):
        tell = getattr(self.objective, "active", None)
        if tell is not None:
            tell(ids)


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
    ftol=0.0,
    x_index=None,
):
    """Train ``K`` independent MLPs at once.

    Parameters
    ----------
    X : array-like of shape (n, d) or (K, n, d)
        Inputs, shared by every network or one set per network. Networks with
        fewer samples are padded with rows of weight zero. Networks whose
        inputs are identical (bit for bit) share one copy of them.
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
        most ``tol``, or when its line search can no longer decrease ``f_k``
        (see also ``ftol``).
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
    ftol : float
        L-BFGS also stops a network when its relative decrease
        ``(f_old - f_new) / max(|f_old|, |f_new|, 1)`` is at most ``ftol``,
        the rule of SciPy's L-BFGS-B (whose default, 2.2e-9, scikit-learn's
        ``MLPClassifier`` uses). The default 0 switches the rule off.
    x_index : array-like of int, shape (K,), optional
        With ``X`` of shape (G, n, d): network ``k`` trains on
        ``X[x_index[k]]``. Gives networks that share inputs (the λ values of a
        run, the settings of a cross-validation fold) without a copy per
        network.

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
    _, n_out_fn = LOSSES[loss]
    data = Data(X, y, weights, dtype, loss, x_index)
    K, n = data.W.shape
    hidden = list(hidden_layer_sizes)
    if len(hidden) != K:
        raise ValueError(f"Give {K} hidden_layer_sizes, one per network.")
    seeds = np.broadcast_to(np.asarray(seeds, dtype=np.int64), (K,))
    stack = MLPStack.init(
        data.n_features,
        hidden,
        n_outputs=n_out_fn(n_classes),
        seeds=seeds,
        activation=activation,
        dtype=dtype,
    )
    alpha_t = torch.as_tensor(np.broadcast_to(alpha, (K,)).copy(), dtype=dtype)
    if torch.any(data.total <= 0):
        raise ValueError(
            "The sample weights of a network are all zero; it has nothing to fit."
        )
    penal = stack.weight_mask()
    if penalize_bias:
        penal = torch.ones_like(penal)
    free = torch.ones_like(penal)
    if not output_bias:
        free[stack.output_bias_slice()] = 0.0
        stack.theta[:, stack.output_bias_slice()] = 0.0
    with _threads.torch_threads():
        if solver == "lbfgs":
            if supported(loss, stack.sizes):
                depth = len(stack.sizes) - 2
                h = [hs[0] if depth else 0 for hs in stack.hidden]
                objective = Backprop(data, stack, h, loss, alpha_t, penal, free)
            else:
                objective = Autograd(data, stack, loss, alpha_t, penal, free)
            objective = _Counted(objective, K)
            theta, n_iter, conv, curves = lbfgs(
                objective, stack.theta, max_iter, tol, memory, ftol=ftol
            )
            curves = [
                c[: int(i) + 1].numpy() for c, i in zip(curves.T, n_iter, strict=True)
            ]
        else:
            bs = min(200, n) if batch_size == "auto" else int(batch_size)
            if not 1 <= bs:
                raise ValueError(f"batch_size must be positive, got {batch_size!r}.")
            objective = _Counted(Autograd(data, stack, loss, alpha_t, penal, free), K)
            theta, n_iter, conv, curves = first_order(
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
    return StackFit(stack, n_iter, conv, curves, objective.n.numpy())
