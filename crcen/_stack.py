"""A stack of K independent multilayer perceptrons held in one tensor.

The parameters of all networks live in one flat tensor ``theta`` of shape
``(K, P)``; each layer is a view of it with a leading network dimension. Networks
with different hidden sizes share one stack: every hidden layer is padded to
the largest size and the padding units are masked. A masked unit's weights
start at zero, its output is multiplied by zero, and so its gradient and its
L2 penalty are zero too: it stays at zero, and the network is exactly the
smaller one it stands for.
"""

from dataclasses import dataclass, field

import numpy as np
import torch

__all__ = ["MLPStack", "ACTIVATIONS"]

ACTIVATIONS = {
    "relu": torch.relu,
    "tanh": torch.tanh,
    "logistic": torch.sigmoid,
    "identity": lambda x: x,
}


@dataclass
class MLPStack:
    """Parameters and layout of ``K`` MLPs with the same number of layers.

    Parameters
    ----------
    sizes : list of tuple of int
        Padded layer widths ``(n_features, h_1, ..., h_L, n_outputs)``; one
        tuple shared by every network.
    theta : torch.Tensor of shape (K, P)
        Flat parameters, layer by layer: weight ``(fan_in, fan_out)`` then bias.
    masks : list of torch.Tensor of shape (K, h_l)
        1 for a real hidden unit, 0 for padding.
    activation : str
        Hidden activation, one of ``"relu"``, ``"tanh"``, ``"logistic"``,
        ``"identity"``.

    Examples
    --------
    >>> import numpy as np
    >>> from crcen._stack import MLPStack
    >>> stack = MLPStack.init(2, [(3,), (5,)], n_outputs=1, seeds=[0, 1])
    >>> stack.decision_function(np.zeros((4, 2))).shape
    (2, 4, 1)
    """

    sizes: tuple
    theta: torch.Tensor
    masks: list
    activation: str = "relu"
    hidden: list = field(default_factory=list)

    @property
    def n_networks(self):
        return self.theta.shape[0]

    @classmethod
    def init(
        cls,
        n_features,
        hidden_layer_sizes,
        *,
        n_outputs,
        seeds,
        activation="relu",
        dtype=torch.float64,
    ):
        """Glorot-uniform initialisation of each network from its own seed.

        Network ``k`` draws its weights with ``torch.Generator`` seeded by
        ``seeds[k]`` at its own (unpadded) sizes, so that it starts where a
        network trained alone with that seed starts.
        """
        hidden = [tuple(int(h) for h in hs) for hs in hidden_layer_sizes]
        depths = {len(hs) for hs in hidden}
        if len(depths) != 1:
            raise ValueError(
                "All networks of a stack need the same number of hidden layers, "
                f"got depths {sorted(depths)}."
            )
        if any(h < 1 for hs in hidden for h in hs):
            raise ValueError(f"Hidden layer sizes must be positive, got {hidden}.")
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}."
            )
        if len(seeds) != len(hidden):
            raise ValueError("Give one seed per network.")
        depth = depths.pop()
        pad = [max(hs[i] for hs in hidden) for i in range(depth)]
        sizes = (int(n_features), *pad, int(n_outputs))
        n_par = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
        theta = torch.zeros(len(hidden), n_par, dtype=dtype)
        # the logistic activation's gain: same rule as scikit-learn's MLP
        factor = 2.0 if activation == "logistic" else 6.0
        for k, (hs, seed) in enumerate(zip(hidden, seeds, strict=True)):
            gen = torch.Generator().manual_seed(int(seed))
            real = (int(n_features), *hs, int(n_outputs))
            for (w, b), fan_in, fan_out in zip(
                _layer_slices(sizes), real[:-1], real[1:], strict=True
            ):
                bound = (factor / (fan_in + fan_out)) ** 0.5
                draw = torch.rand(fan_in * fan_out + fan_out, generator=gen)
                draw = (2 * draw - 1).to(torch.float64) * bound
                wk = theta[k, w].view(w_shape(sizes, w))
                wk[:fan_in, :fan_out] = draw[: fan_in * fan_out].view(fan_in, fan_out)
                theta[k, b][:fan_out] = draw[fan_in * fan_out :].to(dtype)
        masks = []
        for i, width in enumerate(pad):
            m = torch.zeros(len(hidden), width, dtype=dtype)
            for k, hs in enumerate(hidden):
                m[k, : hs[i]] = 1.0
            masks.append(m)
        return cls(sizes, theta, masks, activation, hidden)

    def layers(self, theta=None, rows=None):
        """Views ``(W, b)`` of each layer, shaped ``(k, fan_in, fan_out)``."""
        theta = self.theta if theta is None else theta
        out = []
        for w, b in _layer_slices(self.sizes):
            out.append(
                (theta[:, w].view(-1, *w_shape(self.sizes, w)), theta[:, b][:, None])
            )
        return out

    def forward(self, X, theta=None, rows=None):
        """Outputs ``(k, n, n_outputs)`` of the networks ``rows`` on ``X``.

        ``X`` is ``(n, d)`` (shared by all networks) or ``(k, n, d)``.
        """
        act = ACTIVATIONS[self.activation]
        layers = self.layers(theta)
        h = X
        for i, (W, b) in enumerate(layers):
            h = torch.matmul(h, W) + b
            if i < len(layers) - 1:
                mask = self.masks[i] if rows is None else self.masks[i][rows]
                h = act(h) * mask[:, None, :]
        return h

    def weight_mask(self):
        """Flat ``(P,)`` tensor: 1 on weights, 0 on biases."""
        m = torch.zeros(self.theta.shape[1], dtype=self.theta.dtype)
        for w, _ in _layer_slices(self.sizes):
            m[w] = 1.0
        return m

    def output_bias_slice(self):
        return _layer_slices(self.sizes)[-1][1]

    def decision_function(self, X):
        """Outputs of every network on ``X`` as a NumPy array ``(K, n, n_out)``."""
        with torch.no_grad():
            X = torch.as_tensor(np.asarray(X), dtype=self.theta.dtype)
            return self.forward(X).numpy()

    def select(self, rows):
        """A new stack holding only the networks ``rows``."""
        rows = torch.as_tensor(rows, dtype=torch.long)
        return MLPStack(
            self.sizes,
            self.theta[rows].clone(),
            [m[rows].clone() for m in self.masks],
            self.activation,
            [self.hidden[int(r)] for r in rows],
        )


def _layer_slices(sizes):
    out, o = [], 0
    for a, b in zip(sizes[:-1], sizes[1:], strict=True):
        out.append((slice(o, o + a * b), slice(o + a * b, o + a * b + b)))
        o += a * b + b
    return out


def w_shape(sizes, w):
    """Shape ``(fan_in, fan_out)`` of the weight stored at slice ``w``."""
    for (ws, _), a, b in zip(_layer_slices(sizes), sizes[:-1], sizes[1:], strict=True):
        if ws == w:
            return (a, b)
    raise KeyError(w)
