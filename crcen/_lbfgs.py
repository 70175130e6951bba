"""L-BFGS for a stack of independent problems, one memory per problem.

Every network keeps its own correction pairs, step length, line search and
stopping rule, so the stack's iterates are those of K separate runs. The
search direction comes from the compact representation of the L-BFGS matrix
(Byrd, Nocedal and Schnabel, 1994): with the last ``m`` pairs ``S``, ``Y`` and
``H0 = γ I``,

.. math::

    H g = γ g + S\\,R^{-T}\\big((D + γ Y^T Y) R^{-1} S^T g - γ Y^T g\\big)
          - γ\\, Y R^{-1} S^T g,

where ``R`` is the upper triangle of ``S^T Y`` and ``D`` its diagonal. It is
the matrix of the usual two-loop recursion, evaluated with a handful of
batched products and two small triangular solves instead of ``4 m``
sequential vector operations, which is what makes one iteration of a stack of
thousands of networks cheap. Networks that have stopped leave the stack.
"""

import math

import torch

__all__ = ["lbfgs"]


def _direction(g, S, Y, SY, YY, pos, cnt, gamma):
    """``-H g`` for every network from its own ring of ``m`` pairs."""
    k, m, _ = S.shape
    if int(cnt.max()) == 0:
        return -g
    ar = torch.arange(m)
    order = (pos[:, None] + ar) % m  # slots from the oldest to the newest pair
    # products with the vector on the left: far faster in batched BLAS
    a = _dots(g, S).gather(1, order)
    b = _dots(g, Y).gather(1, order)
    rows = order[:, :, None].expand(k, m, m)
    cols = order[:, None, :].expand(k, m, m)
    sy = SY.gather(1, rows).gather(2, cols)
    yy = YY.gather(1, rows).gather(2, cols)
    empty = (ar[None, :] < (m - cnt)[:, None]).to(g.dtype)
    R = sy.triu()
    R.diagonal(dim1=1, dim2=2).add_(empty)  # unit pivot for unused slots
    u = torch.linalg.solve_triangular(R, a[..., None], upper=True)
    gm = gamma[:, None, None]
    rhs = sy.diagonal(dim1=1, dim2=2)[..., None] * u + gm * (yy @ u - b[..., None])
    top = torch.linalg.solve_triangular(R.transpose(1, 2), rhs, upper=False)
    cs = torch.zeros_like(a).scatter_(1, order, top[..., 0])
    cy = torch.zeros_like(a).scatter_(1, order, u[..., 0] * -gamma[:, None])
    hg = torch.bmm(cs[:, None], S)[:, 0] + torch.bmm(cy[:, None], Y)[:, 0]
    return hg.add_(g * gamma[:, None]).neg_()


def _dots(v, M):
    """``M[k] @ v[k]`` for every network: (k, m) from (k, P) and (k, m, P)."""
    return torch.bmm(v[:, None, :], M.transpose(1, 2))[:, 0]


class _State:
    """The per-network arrays of the networks still running."""

    names = ("ids", "theta", "f", "g", "S", "Y", "SY", "YY", "pos", "cnt", "gamma")

    def __init__(self, **arrays):
        self.__dict__.update(arrays)

    def keep(self, mask):
        for name in self.names:
            setattr(self, name, getattr(self, name)[mask])


def lbfgs(objective, theta0, max_iter, tol, m, ftol=0.0, c1=1e-4, max_ls=30):
    """Minimise each row of ``theta0`` with its own L-BFGS run.

    Parameters
    ----------
    objective : callable
        ``objective(theta, ids) -> (f, g)`` for the networks ``ids`` (sorted
        global indices) at parameters ``theta`` (one row each). It may have a
        method ``active(ids)``, told when the set of running networks shrinks.
    theta0 : torch.Tensor of shape (K, P)
    max_iter, tol, m, ftol : see :func:`crcen.fit_stack`.
    c1 : float
        Armijo constant of the backtracking line search.
    max_ls : int
        Trial steps of one line search (the step is halved between them).

    Returns
    -------
    theta, n_iter, converged, curves
        Final parameters (K, P), iterations (K,), whether each network met a
        stopping rule, and the objective after every iteration ((max_iter + 1,
        K), NaN after a network stopped).

    Examples
    --------
    Two quadratics ``f(x) = (x - c)^2 / 2`` with their minima at 1 and -2:

    >>> import torch
    >>> from crcen._lbfgs import lbfgs
    >>> c = torch.tensor([[1.0], [-2.0]], dtype=torch.float64)
    >>> obj = lambda th, ids: (0.5 * ((th - c[ids]) ** 2).sum(1), th - c[ids])
    >>> th, n_iter, conv, _ = lbfgs(obj, torch.zeros(2, 1, dtype=torch.float64),
    ...                             50, 1e-10, 5)
    >>> th[:, 0].tolist(), conv.tolist()
    ([1.0, -2.0], [True, True])
    """
    K, P = theta0.shape
    dt = theta0.dtype
    ids = torch.arange(K)
    _tell(objective, ids)
    f, g = objective(theta0, ids)
    theta_out = theta0.clone()
    curves = torch.full((max_iter + 1, K), math.nan, dtype=dt)
    curves[0] = f
    n_iter = torch.zeros(K, dtype=torch.long)
    converged = g.abs().amax(1) <= tol
    run = ~converged
    st = _State(
        ids=ids[run],
        theta=theta0[run].clone(),
        f=f[run],
        g=g[run],
        S=torch.zeros(int(run.sum()), m, P, dtype=dt),
        Y=torch.zeros(int(run.sum()), m, P, dtype=dt),
        SY=torch.zeros(int(run.sum()), m, m, dtype=dt),
        YY=torch.zeros(int(run.sum()), m, m, dtype=dt),
        pos=torch.zeros(int(run.sum()), dtype=torch.long),
        cnt=torch.zeros(int(run.sum()), dtype=torch.long),
        gamma=torch.ones(int(run.sum()), dtype=dt),
    )
    _tell(objective, st.ids)
    for it in range(max_iter):
        if len(st.ids) == 0:
            break
        d = _direction(st.g, st.S, st.Y, st.SY, st.YY, st.pos, st.cnt, st.gamma)
        gd = (st.g * d).sum(1)
        bad = ~(gd < 0)
        if bool(bad.any()):  # not a descent direction: restart from -g
            d[bad] = -st.g[bad]
            gd[bad] = -(st.g[bad] ** 2).sum(1)
        if it == 0:
            t = torch.clamp(1.0 / st.g.abs().sum(1), max=1.0)
        else:
            t = torch.ones_like(gd)
        new_th, new_f, new_g, stuck = _line_search(objective, st, d, gd, t, c1, max_ls)
        moved = None if stuck is None else ~stuck
        _remember(st, new_th, new_g, moved)
        if ftol > 0:  # SciPy's rule on the relative decrease
            scale = torch.maximum(st.f.abs(), new_f.abs()).clamp_(min=1.0)
            flat = (st.f - new_f) <= ftol * scale
        if moved is None:
            st.theta, st.f, st.g = new_th, new_f, new_g
            n_iter[st.ids] += 1
            curves[it + 1, st.ids] = new_f
            done = st.g.abs().amax(1) <= tol
        else:
            st.theta[moved], st.f[moved], st.g[moved] = (
                new_th[moved],
                new_f[moved],
                new_g[moved],
            )
            n_iter[st.ids[moved]] += 1
            curves[it + 1, st.ids[moved]] = new_f[moved]
            done = stuck | (st.g.abs().amax(1) <= tol)
        if ftol > 0:
            done |= flat if moved is None else flat & moved
        if bool(done.any()):
            theta_out[st.ids[done]] = st.theta[done]
            converged[st.ids[done]] = True
            st.keep(~done)
            _tell(objective, st.ids)
    theta_out[st.ids] = st.theta
    return theta_out, n_iter.numpy(), converged.numpy(), curves


def _tell(objective, ids):
    active = getattr(objective, "active", None)
    if active is not None:
        active(ids)


def _line_search(objective, st, d, gd, t, c1, max_ls):
    """Backtracking Armijo search; only the networks still searching are evaluated."""
    trial = torch.addcmul(st.theta, t[:, None], d)
    ft, gt = objective(trial, st.ids)
    ok = _accept(ft, st.f, c1 * t * gd)
    if bool(ok.all()):
        return trial, ft, gt, None
    todo = ~ok
    for _ in range(max_ls - 1):
        sub = todo.nonzero()[:, 0]
        t[sub] *= 0.5
        tr = torch.addcmul(st.theta[sub], t[sub, None], d[sub])
        fs, gs = objective(tr, st.ids[sub])
        oks = _accept(fs, st.f[sub], c1 * t[sub] * gd[sub])
        acc = sub[oks]
        trial[acc], ft[acc], gt[acc] = tr[oks], fs[oks], gs[oks]
        todo[acc] = False
        if not bool(todo.any()):
            return trial, ft, gt, todo
    # a network whose line search failed is at its numerical floor
    return trial, ft, gt, todo


def _accept(f_trial, f0, armijo):
    """Armijo's sufficient decrease, and a strict one: at the numerical floor
    ``armijo`` (``c1 t g'd``) is below the rounding of ``f0``, and a step that
    leaves the objective unchanged would be accepted for ever."""
    return torch.isfinite(f_trial) & (f_trial <= f0 + armijo) & (f_trial < f0)


def _remember(st, new_th, new_g, moved):
    """Store the new correction pair of each network that passes the curvature test."""
    s = new_th - st.theta
    yv = new_g - st.g
    ys = (s * yv).sum(1)
    yy = (yv * yv).sum(1)
    good = ys > 1e-10 * yy.clamp(min=1e-300).sqrt() * s.norm(dim=1)
    if moved is not None:
        good &= moved
    u = good.nonzero()[:, 0]
    if len(u) == 0:
        return
    slot = st.pos[u]
    st.S[u, slot] = s[u]
    st.Y[u, slot] = yv[u]
    if len(u) == len(good):
        Su, Yu = st.S, st.Y
    else:
        Su, Yu = st.S[u], st.Y[u]
    sy_row = _dots(s[u], Yu)  # s_new . y_i
    sy_col = _dots(yv[u], Su)  # s_i . y_new
    yy_col = _dots(yv[u], Yu)
    st.SY[u, slot, :] = sy_row
    st.SY[u, :, slot] = sy_col
    st.YY[u, slot, :] = yy_col
    st.YY[u, :, slot] = yy_col
    st.gamma[u] = ys[u] / yy[u]
    st.pos[u] = (slot + 1) % st.S.shape[1]
    st.cnt[u] = torch.clamp(st.cnt[u] + 1, max=st.S.shape[1])
