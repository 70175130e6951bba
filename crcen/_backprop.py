"""Objective and gradient of a stack of shallow MLPs, by hand-written backprop.

For networks with at most one hidden layer and one output (the CRCEN and CSMLP
losses), :class:`Backprop` computes every network's ``f_k`` and its gradient
without autograd. Three choices make it fast on a CPU:

* Networks that train on the same inputs share one matrix product: the hidden
  pre-activations of the ``c`` networks of an input group are one product
  ``[W_1 ... W_c]^T X_g^T``, and the biases ride along as a row of ones in
  ``X_g^T``, so that the same product gives the bias gradients.
* Activations are held transposed, one ``(h, rows)`` block per network, so
  that every elementwise operation runs along contiguous rows and the output
  layer of all networks is one batched product.
* Networks are bucketed by hidden size, so no unit is padded, and the work is
  cut into tiles (input groups x rows) of about :data:`TILE_BYTES` per buffer
  and thread: a tile's activations stay in the CPU cache from the forward to
  the backward pass, and two buffers serve every tile.

Each network's numbers depend on its own data and parameters only, never on
which other networks share the stack.
"""

import torch
import torch.nn.functional as F

__all__ = ["Backprop", "supported"]

#: Bytes of one tile buffer per thread.
TILE_BYTES = 1 << 21

_aten = torch.ops.aten

#: Hidden activation (in place) and its backward (in place on the gradient
#: ``d``), written in terms of the activation's output ``a``.
_ACT = {
    "relu": (
        torch.relu_,
        lambda d, a: _aten.threshold_backward.grad_input(d, a, 0, grad_input=d),
    ),
    "tanh": (
        torch.tanh_,
        lambda d, a: _aten.tanh_backward.grad_input(d, a, grad_input=d),
    ),
    "logistic": (
        torch.sigmoid_,
        lambda d, a: _aten.sigmoid_backward.grad_input(d, a, grad_input=d),
    ),
    "identity": (lambda a: a, lambda d, a: d),
}


def supported(loss, sizes):
    """Whether :class:`Backprop` handles this loss and these padded layer sizes."""
    return loss in ("crcen", "csmlp") and len(sizes) <= 3 and sizes[-1] == 1


class _Bucket:
    """The networks of one hidden size among a set of networks, slotted by group.

    ``slots[g, j]`` is the position (within the bucket) of the j-th network
    trained on input group ``groups[g]``, or -1 for an empty slot: a "ghost"
    network with zero weights and zero sample weights, whose output is
    discarded.
    """

    def __init__(self, bp, ids, pos, h):
        data = bp.data
        groups, inverse, counts = torch.unique(
            data.x_index[ids], return_inverse=True, return_counts=True
        )
        n_g, c = len(groups), int(counts.max())
        order = torch.argsort(inverse, stable=True)
        rank = torch.arange(len(ids)) - torch.repeat_interleave(
            torch.cumsum(counts, 0) - counts, counts
        )
        slots = torch.full((n_g, c), -1, dtype=torch.long)
        slots[inverse[order], rank] = order
        self.h, self.c, self.n_g = h, c, n_g
        self.valid = slots >= 0
        self.pos = pos[slots[self.valid]]  # where each valid slot's network sits
        net = torch.zeros((n_g, c), dtype=torch.long)
        net[self.valid] = ids[slots[self.valid]]
        if n_g == bp.Xt.shape[0] and torch.equal(groups, torch.arange(n_g)):
            self.Xt = bp.Xt
        else:
            self.Xt = bp.Xt.index_select(0, groups)
        self.w = data.W[net] * self.valid[..., None].to(data.W.dtype)  # (G, c, n)
        if data.y.ndim == 1:
            self.y = data.target[None, None, :]
        else:
            self.y = data.target[net]
        n = self.Xt.shape[2]
        per_row = c * max(h, 1)
        elems = max(1024, bp.tile_bytes // bp.Xt.element_size())
        if n * per_row >= elems:
            self.tile_groups = 1
            self.tile_rows = min(n, max(64, elems // per_row // 16 * 16))
        else:
            self.tile_groups, self.tile_rows = max(1, elems // (n * per_row)), n
        self.tile_groups = min(self.tile_groups, n_g)
        self.buf_elems = self.tile_groups * self.tile_rows * per_row
        self.tiles = []  # (groups, x, x^T, y, w) of every tile, as views
        for g0 in range(0, n_g, self.tile_groups):
            gs = slice(g0, min(n_g, g0 + self.tile_groups))
            ys = self.y if self.y.shape[0] == 1 else self.y[gs]
            for r0 in range(0, n, self.tile_rows):
                rs = slice(r0, min(n, r0 + self.tile_rows))
                x = self.Xt[gs, :, rs]
                tile = (gs, x, x.transpose(1, 2), ys[:, :, rs], self.w[gs, :, rs])
                self.tiles.append(tile)


class Backprop:
    """``f_k`` and ``∇f_k`` of networks with one hidden layer (or none).

    Parameters
    ----------
    data : crcen._data.Data
        ``X`` (G, n, d + 1) input groups (last column ones), ``x_index`` (K,)
        the group of each network, ``y`` ((n,) or (K, n)), ``target`` (the
        loss's target of each sample, shaped like ``y``), ``W`` (K, n) sample
        weights and ``total`` (K,) their sums.
    stack : MLPStack
    hidden : array-like of shape (K,)
        Real hidden size of each network (0 for logistic regression).
    loss : {"crcen", "csmlp"}
    alpha, penal : torch.Tensor
        L2 strength (K,) and the mask (P,) of penalised parameters.
    free : torch.Tensor of shape (P,)
        1 for trained parameters, 0 for fixed ones.

    Examples
    --------
    The gradient of a logistic regression at zero on two points:

    >>> import numpy as np, torch
    >>> from crcen._data import Data
    >>> from crcen._stack import MLPStack
    >>> from crcen._backprop import Backprop
    >>> data = Data(np.array([[0.0], [1.0]]), np.array([0.0, 1.0]),
    ...              np.ones((1, 2)), torch.float64, "crcen")
    >>> stack = MLPStack.init(1, [()], n_outputs=1, seeds=[0])
    >>> bp = Backprop(data, stack, [0], "crcen", torch.zeros(1),
    ...               stack.weight_mask(), torch.ones(2))
    >>> f, g = bp(torch.zeros(1, 2, dtype=torch.float64), torch.tensor([0]))
    >>> round(float(f[0]), 4), g[0].tolist()
    (0.6931, [-0.25, 0.0])
    """

    def __init__(self, data, stack, hidden, loss, alpha, penal, free):
        self.data, self.loss = data, loss
        self.hidden = torch.as_tensor(hidden, dtype=torch.long)
        self.alpha, self.penal, self.free = alpha, penal, free
        self.act, self.act_back = _ACT[stack.activation]
        self.Xt = data.X.transpose(1, 2).contiguous()  # (G, d + 1, n)
        self.depth = len(stack.sizes) - 2
        self.hpad = stack.sizes[1] if self.depth else 0
        self.n_w1 = self.Xt.shape[1] * self.hpad  # W1 and b1: a (d + 1, hpad) block
        self.tile_bytes = TILE_BYTES * torch.get_num_threads()
        self._layout = None
        self._buf = torch.empty(0, dtype=data.X.dtype)

    # -- layouts -------------------------------------------------------------

    def _build(self, ids):
        pos = torch.arange(len(ids))
        hs = self.hidden[ids]
        buckets = [
            _Bucket(self, ids[hs == h], pos[hs == h], int(h))
            for h in torch.unique(hs).tolist()
        ]
        return ids, buckets

    def active(self, ids):
        """The networks still running: rebuild the layout when a quarter left."""
        if self._layout is None or 4 * len(ids) < 3 * len(self._layout[0]):
            self._layout = self._build(ids) if len(ids) else None

    def _layout_for(self, ids):
        """The cached layout if it holds ``ids`` without much waste, else a new one."""
        lay = self._layout
        if lay is not None:
            if len(ids) == len(lay[0]) and torch.equal(ids, lay[0]):
                return lay, None
            where = torch.searchsorted(lay[0], ids).clamp(max=len(lay[0]) - 1)
            if 4 * len(ids) >= 3 * len(lay[0]) and torch.equal(lay[0][where], ids):
                return lay, where
        return self._build(ids), None

    # -- evaluation ----------------------------------------------------------

    def __call__(self, theta, ids):
        """``(f, g)`` of the networks ``ids`` (sorted) at parameters ``theta``."""
        lay, where = self._layout_for(ids)
        if where is not None:  # a cached layout with more networks: pad with zeros
            full = theta.new_zeros(len(lay[0]), theta.shape[1])
            full[where] = theta
            theta = full
        f = theta.new_zeros(theta.shape[0])
        g = torch.zeros_like(theta)
        for b in lay[1]:
            self._bucket(b, theta, f, g)
        if where is not None:
            theta, f, g = theta[where], f[where], g[where]
        alpha = self.alpha[ids]
        total = self.data.total[ids]
        sq = theta * self.penal
        f = (f + 0.5 * alpha * (sq * theta).sum(1)) / total
        g.add_(sq * alpha[:, None]).mul_(self.free / total[:, None])
        return f, g

    def _split(self, theta, b):
        """Parameters of bucket ``b`` in its slot layout, hidden units transposed."""
        t = theta.new_zeros(b.n_g, b.c, theta.shape[1])
        t[b.valid] = theta[b.pos]
        d1 = self.Xt.shape[1]
        if self.depth == 0:
            return t[..., :d1].contiguous(), None, None
        w1 = t[..., : self.n_w1].view(b.n_g, b.c, d1, self.hpad)[..., : b.h]
        w1 = w1.transpose(2, 3).reshape(b.n_g, b.c * b.h, d1)
        out = t[..., self.n_w1 :]
        w2 = out[..., : b.h].reshape(b.n_g * b.c, 1, b.h)
        return w1, w2, out[..., self.hpad, None].contiguous()

    def _bucket(self, b, theta, f_out, g_out):
        w1, w2, b2 = self._split(theta, b)
        n_g, c, h = b.n_g, b.c, b.h
        d1 = b.Xt.shape[1]

        fb = theta.new_zeros(n_g, c)
        gw1 = torch.zeros_like(w1)
        gw2 = torch.zeros_like(w2) if self.depth else None
        gb2 = theta.new_zeros(n_g, c)
        if self.depth and self._buf.numel() < 2 * b.buf_elems:
            self._buf = torch.empty(2 * b.buf_elems, dtype=theta.dtype)
        for gs, x, xT, y, w in b.tiles:
            tile = (x, xT, y, w, fb[gs])
            if self.depth == 0:
                self._tile0(tile, w1[gs], gw1[gs])
                continue
            ks = slice(gs.start * c, gs.stop * c)
            self._tile1(tile, (w1[gs], w2[ks], b2[gs]), (gw1[gs], gw2[ks], gb2[gs]))
        # back to each network's flat parameters
        f_out[b.pos] = fb[b.valid]
        if self.depth == 0:
            g_out[b.pos, :d1] = gw1[b.valid]
            return
        hp = self.hpad
        g1 = g_out[:, : self.n_w1].view(-1, d1, hp)
        g1[b.pos, :, :h] = gw1.view(n_g, c, h, d1).transpose(2, 3)[b.valid]
        g2 = g_out[:, self.n_w1 :]
        g2[b.pos, :h] = gw2.view(n_g, c, h)[b.valid]
        g2[b.pos, hp] = gb2[b.valid]

    def _loss(self, z, y, w, f):
        """Add each network's weighted loss to ``f``; return w times dℓ/dz."""
        if self.loss == "crcen":
            # softplus(z) - y z, written as -(log σ(-z) + y z): exact for any z
            f.sub_(torch.addcmul(F.logsigmoid(-z), y, z).mul_(w).sum(-1))
            return torch.sigmoid(z).sub_(y).mul_(w)
        # CSMLP: w (t - tanh z)^2 / 2 with the target t = 2 y - 1 in ``y``
        o = torch.tanh(z)
        e = y - o
        f.add_(0.5 * (w * e * e).sum(-1))
        return (o * o).sub_(1.0).mul_(e).mul_(w)

    def _tile0(self, tile, wl, gw):
        x, xT, y, w, f = tile
        z = torch.bmm(wl, x)  # (G, c, rows)
        dz = self._loss(z, y, w, f)
        gw.baddbmm_(dz, xT)

    def _tile1(self, tile, params, grads):
        x, xT, y, w, f = tile
        w1, w2, b2 = params
        gw1, gw2, gb2 = grads
        n_g, c = w.shape[0], w.shape[1]
        rows, ch = x.shape[2], w1.shape[1]
        size = n_g * ch * rows
        A = self._buf[:size].view(n_g, ch, rows)
        B = self._buf[size : 2 * size].view(n_g, ch, rows)
        torch.bmm(w1, x, out=A)
        self.act(A)
        A3 = A.view(n_g * c, -1, rows)  # one (h, rows) block per network
        z = torch.bmm(w2, A3).view(n_g, c, rows).add_(b2)
        dz = self._loss(z, y, w, f)
        gb2.add_(dz.sum(-1))
        dz3 = dz.view(n_g * c, 1, rows)
        gw2.baddbmm_(dz3, A3.transpose(1, 2))
        torch.mul(w2.transpose(1, 2), dz3, out=B.view(n_g * c, -1, rows))
        self.act_back(B, A)
        gw1.baddbmm_(B, xT)
