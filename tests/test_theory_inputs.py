"""Bad input to the theory helpers gets a ValueError naming the problem."""

import pytest

from crcen import theory


@pytest.mark.parametrize(
    ("y", "p", "match"),
    [
        ([], [], "non-empty"),
        ([1, 1], [0.5, 0.5], "both classes"),
        ([0, 2], [0.5, 0.5], "labels 0"),
        ([0, 1], [0.5], "shape"),
        ([0, 1], [0.5, float("nan")], "probabilities"),
        ([0, 1], [0.5, 1.5], "probabilities"),
    ],
)
def test_key_equation_lhs_rejects(y, p, match):
    with pytest.raises(ValueError, match=match):
        theory.key_equation_lhs(y, p)


@pytest.mark.parametrize("lam", [0, 1, -2, float("nan")])
def test_rhs_rejects_lam(lam):
    with pytest.raises(ValueError, match="open interval"):
        theory.key_equation_rhs(lam)


def test_eq7_rhs_rejects_counts():
    with pytest.raises(ValueError, match="positive"):
        theory.eq7_rhs(0.5, 0, 10)


def test_lam_for_alpha_rejects_alpha():
    with pytest.raises(ValueError, match="alpha"):
        theory.lam_for_alpha(0.0, 10, 1)
