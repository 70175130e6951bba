"""The loss of Eq. (1)."""

import numpy as np
import pytest
import torch

from crcen import class_weights, crcen_loss


def test_matches_the_formula():
    z = torch.tensor([0.3, -1.2, 2.0, 0.1], dtype=torch.float64)
    y = torch.tensor([1.0, 0.0, 0.0, 1.0], dtype=torch.float64)
    lam = 0.8
    p = torch.sigmoid(z)
    expected = (
        -lam * torch.log(p[y == 1]).sum() - (1 - lam) * torch.log(1 - p[y == 0]).sum()
    )
    assert torch.allclose(crcen_loss(z, y, lam), expected, rtol=1e-12)


@pytest.mark.parametrize("big", [60.0, 500.0, 1e4])
def test_finite_loss_and_gradient_for_large_logits(big):
    z = torch.tensor([big, -big, big, -big], dtype=torch.float64, requires_grad=True)
    y = torch.tensor([1.0, 0.0, 0.0, 1.0], dtype=torch.float64)
    loss = crcen_loss(z, y, 0.7)
    (g,) = torch.autograd.grad(loss, z)
    assert torch.isfinite(loss) and torch.all(torch.isfinite(g))
    # the two wrong predictions cost their logit, weighted by their class
    assert float(loss.detach()) == pytest.approx(0.3 * big + 0.7 * big, rel=1e-9)
    assert g.tolist() == pytest.approx([0.0, 0.0, 0.3, -0.7], abs=1e-12)


def test_equals_pos_weighted_bce():
    gen = torch.Generator().manual_seed(0)
    z = torch.randn(50, generator=gen, dtype=torch.float64)
    y = (torch.rand(50, generator=gen) < 0.2).double()
    lam = 0.9
    bce = torch.nn.BCEWithLogitsLoss(
        pos_weight=torch.tensor(lam / (1 - lam)), reduction="sum"
    )
    assert float(crcen_loss(z, y, lam)) == pytest.approx(
        (1 - lam) * float(bce(z, y)), rel=1e-12
    )


@pytest.mark.parametrize("lam", [0.0, 1.0, -0.1, 1.5])
def test_lam_outside_open_interval(lam):
    with pytest.raises(ValueError, match="open interval"):
        crcen_loss(torch.zeros(2), torch.tensor([0.0, 1.0]), lam)


def test_class_weights_per_network():
    w = class_weights([1, 0], [0.5, 0.9])
    np.testing.assert_allclose(w, [[0.5, 0.5], [0.9, 0.1]])
