"""Losses of the training core: CRCEN (Eq. 1), its softmax form, and CSMLP.

Every loss takes the network outputs of a stack of ``K`` networks, the targets
and one weight per sample and network, and returns one summed loss per
network. The class weights of CRCEN (λ for the minority class, 1 − λ for the
majority class) enter through the per-sample weights, so one function serves
every λ, every sample weighting and every cross-validation fold (a held-out
sample has weight 0).
"""

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["crcen_loss", "class_weights", "LOSSES"]


def _bce_sum(logits, y, w):
    # -[y log p + (1 - y) log(1 - p)] with p = sigmoid(z), written with
    # log-sigmoid so that it stays finite for any |z|:
    # -log p = -logsigmoid(z), -log(1 - p) = -logsigmoid(-z).
    z = logits[..., 0]
    nll = -(y * F.logsigmoid(z) + (1.0 - y) * F.logsigmoid(-z))
    return (w * nll).sum(-1)


def _softmax_sum(logits, y, w):
    logp = torch.log_softmax(logits, dim=-1)
    idx = y.long().expand(logp.shape[:-1]).unsqueeze(-1)
    nll = -torch.gather(logp, -1, idx)[..., 0]
    return (w * nll).sum(-1)


def _csmlp_sum(logits, y, w):
    # Castro and Braga (2013): tanh output, targets +1 (minority) / -1
    # (majority), class-weighted squared error.
    target = 2.0 * y - 1.0
    err = target - torch.tanh(logits[..., 0])
    return 0.5 * (w * err * err).sum(-1)


#: Loss name -> (summed loss, number of outputs for ``n_classes`` classes).
LOSSES = {
    "crcen": (_bce_sum, lambda n_classes: 1),
    "softmax": (_softmax_sum, lambda n_classes: n_classes),
    "csmlp": (_csmlp_sum, lambda n_classes: 1),
}


def crcen_loss(logits, y, lam):
    """Class-wise reweighted cross-entropy of Eq. (1), summed over samples.

    .. math::

        L = -\\lambda \\sum_{i: y_i = 1} \\log p_i
            - (1 - \\lambda) \\sum_{j: y_j = 0} \\log(1 - p_j),
        \\qquad p = \\sigma(z).

    Parameters
    ----------
    logits : torch.Tensor of shape (n_samples,)
        Network outputs before the sigmoid.
    y : torch.Tensor of shape (n_samples,)
        Labels, 1 for the minority class and 0 for the majority class.
    lam : float
        Weight of the minority class, in the open interval (0, 1).

    Returns
    -------
    loss : torch.Tensor
        Scalar loss. It is computed with a log-sigmoid, so loss and gradient
        stay finite for logits of any size.

    Examples
    --------
    >>> import torch
    >>> from crcen import crcen_loss
    >>> z = torch.tensor([100.0, -100.0, 0.0])
    >>> y = torch.tensor([1.0, 0.0, 1.0])
    >>> round(float(crcen_loss(z, y, lam=0.5)), 4)  # only the third term counts
    0.3466
    """
    lam = float(lam)
    if not 0.0 < lam < 1.0:
        raise ValueError(f"lam must lie in the open interval (0, 1), got {lam!r}.")
    y = torch.as_tensor(y, dtype=logits.dtype)
    w = torch.where(y > 0.5, y.new_tensor(lam), y.new_tensor(1.0 - lam))
    return _bce_sum(logits.unsqueeze(-1), y, w)


def class_weights(y, lam):
    """Per-sample weights of Eq. (1): λ for label 1, 1 − λ for label 0.

    Parameters
    ----------
    y : array-like of shape (..., n_samples)
        Labels in {0, 1}.
    lam : float or array-like of shape (...,)
        Minority weight of each network in the stack.

    Returns
    -------
    w : ndarray of shape (..., n_samples)

    Examples
    --------
    >>> from crcen._loss import class_weights
    >>> class_weights([1, 0, 0], 0.75)
    array([0.75, 0.25, 0.25])
    """
    y = np.asarray(y, dtype=float)
    lam = np.asarray(lam, dtype=float)[..., None]
    return np.where(y > 0.5, lam, 1.0 - lam)
