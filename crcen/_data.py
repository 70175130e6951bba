"""The training data of a stack, each distinct input matrix stored once.

Many networks of a stack train on the same inputs: the λ values of one
simulation run, the hyper-parameters of one cross-validation fold. Their
inputs are recognised by content (a hash of the bytes) and kept once, so
that memory grows with the number of distinct inputs, not of networks, and
the training core can share one matrix product among the networks of a group.
"""

import hashlib

import numpy as np
import torch

__all__ = ["Data"]

_NP = {torch.float64: np.float64, torch.float32: np.float32}


class Data:
    """Inputs, labels and sample weights of a stack of ``K`` networks.

    ``X`` holds the G distinct input matrices with a column of ones appended
    (G, n, d + 1); ``x_index[k]`` is the one network k trains on.
    """

    def __init__(self, X, y, weights, dtype, loss, x_index=None):
        self.W = _as_tensor(weights, dtype)
        if self.W.ndim != 2:
            raise ValueError(
                f"weights must have shape (K, n), got {tuple(self.W.shape)}."
            )
        K, n = self.W.shape
        Xn = X.numpy() if isinstance(X, torch.Tensor) else np.asarray(X)
        self.y = _as_tensor(y, dtype)
        if Xn.ndim not in (2, 3) or Xn.shape[-2] != n or self.y.shape[-1] != n:
            raise ValueError(
                f"X, y and weights disagree on the number of samples: "
                f"{Xn.shape[-2] if Xn.ndim > 1 else Xn.shape}, "
                f"{self.y.shape[-1]} and {n}."
            )
        if x_index is not None:
            idx = np.asarray(x_index)
            if Xn.ndim != 3 or idx.shape != (K,) or idx.dtype.kind not in "iu":
                raise ValueError(
                    "With x_index, X must have shape (G, n, d) and x_index hold "
                    f"one integer per network; got X {Xn.shape}, x_index {idx.shape}."
                )
            if len(idx) and (idx.min() < 0 or idx.max() >= Xn.shape[0]):
                raise ValueError(f"x_index must lie in [0, {Xn.shape[0]}).")
            groups, self.x_index = list(Xn), torch.as_tensor(idx, dtype=torch.long)
        elif Xn.ndim == 3 and Xn.shape[0] != K:
            raise ValueError(f"X has {Xn.shape[0]} input sets for {K} networks.")
        elif Xn.ndim == 2:
            groups, self.x_index = [Xn], torch.zeros(K, dtype=torch.long)
        else:
            groups, self.x_index = _distinct(Xn)
        self.n_features = Xn.shape[-1]
        buf = np.ones((len(groups), n, self.n_features + 1), dtype=_NP[dtype])
        for g, a in enumerate(groups):
            buf[g, :, :-1] = a
        self.X = torch.from_numpy(buf)
        self.target = 2.0 * self.y - 1.0 if loss == "csmlp" else self.y
        self.total = self.W.sum(1)

    def inputs(self, rows):
        """Inputs of the networks ``rows``: (n, d) if shared, else (k, n, d)."""
        if self.X.shape[0] == 1:
            return self.X[0, :, :-1]
        return self.X[self.x_index[rows], :, :-1]


def _distinct(X):
    """The distinct matrices ``X[k]`` and the index of each one's copy."""
    seen, groups, index = {}, [], np.empty(len(X), dtype=np.int64)
    for k in range(len(X)):
        a = np.ascontiguousarray(X[k])
        key = hashlib.blake2b(a.view(np.uint8).data, digest_size=16).digest()
        if key not in seen:
            seen[key] = len(groups)
            groups.append(a)
        index[k] = seen[key]
    return groups, torch.as_tensor(index)


def _as_tensor(a, dtype):
    if isinstance(a, torch.Tensor):
        return a.to(dtype).contiguous()
    return torch.as_tensor(np.ascontiguousarray(a), dtype=dtype)
