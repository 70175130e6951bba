"""Tests of the Table 1 simulations and of the theory helpers they use."""

import numpy as np
import pytest
import torch
from scipy import integrate

from crcen import simulations, theory
from crcen.simulations import run_simulation, sim1, sim1_pdf, sim2, sim2_pdf

# Large samples for the moment checks: the standard error of a mean is about
# 1 / sqrt(N) = 0.002, and the tolerances below are five of those or more.
N_BIG = 200_000


@pytest.mark.parametrize(
    ("label", "mean", "var"),
    [
        # N(m, 1) + U(a, b): mean m + (a + b) / 2, variance 1 + (b - a)^2 / 12
        (1, -1.5 + 0.25, 1 + 0.25 / 12),
        (0, 1.5 - 0.25, 1 + 0.25 / 12),
    ],
)
def test_sim1_moments(label, mean, var):
    # the variance also tells a sum from a 50/50 mixture of the two parts,
    # whose variance would be about 1.28
    X, y = sim1(N_BIG, N_BIG, rng=0)
    x = X[y == label, 0]
    assert x.mean() == pytest.approx(mean, abs=0.01)
    assert x.var() == pytest.approx(var, abs=0.015)


@pytest.mark.parametrize(
    ("label", "mean", "cov"),
    [(1, np.zeros(3), 1.2 * np.eye(3)), (0, np.ones(3), np.eye(3))],
)
def test_sim2_moments(label, mean, cov):
    X, y = sim2(N_BIG, N_BIG, rng=2)
    x = X[y == label]
    np.testing.assert_allclose(x.mean(0), mean, atol=0.012)
    # sigma of the paper read as the covariance: each feature of the
    # minority class has variance 1.2, and the features are uncorrelated
    np.testing.assert_allclose(np.cov(x, rowvar=False), cov, atol=0.015)


@pytest.mark.parametrize(("generate", "d"), [(sim1, 1), (sim2, 3)])
def test_shapes_and_label_counts(generate, d):
    X, y = generate(7, 30, rng=3)
    assert X.shape == (37, d)
    assert y.shape == (37,)
    assert set(np.unique(y)) == {0.0, 1.0}
    assert int((y == 1).sum()) == 7
    assert int((y == 0).sum()) == 30
    # shuffled: the labels are not sorted
    assert not (np.all(np.diff(y) <= 0) or np.all(np.diff(y) >= 0))


@pytest.mark.parametrize("generate", [sim1, sim2])
def test_seeding_is_reproducible(generate):
    X1, y1 = generate(50, 200, rng=4)
    X2, y2 = generate(50, 200, rng=np.random.default_rng(4))
    X3, _ = generate(50, 200, rng=5)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)


def test_generator_is_advanced_not_reset():
    rng = np.random.default_rng(6)
    X1, _ = sim1(20, 20, rng=rng)
    X2, _ = sim1(20, 20, rng=rng)
    assert not np.array_equal(X1, X2)


@pytest.mark.parametrize("generate", [sim1, sim2])
def test_bad_input(generate):
    with pytest.raises(ValueError, match="positive"):
        generate(0, 10, rng=0)
    with pytest.raises(ValueError, match="Generator"):
        generate(5, 10, rng=None)


def test_sim1_pdf_integrates_to_one_and_matches_moments():
    for label in (0, 1):
        m, a, b = simulations.SIM1_PARAMS[label]
        mass = integrate.quad(sim1_pdf, -30, 30, args=(label,))[0]
        mean = integrate.quad(lambda x, lb=label: x * sim1_pdf(x, lb), -30, 30)[0]
        assert mass == pytest.approx(1.0, abs=1e-8)
        assert mean == pytest.approx(m + (a + b) / 2, abs=1e-8)
    with pytest.raises(ValueError, match="label"):
        sim1_pdf(0.0, 2)


def test_sim1_pdf_matches_samples():
    X, y = sim1(N_BIG, N_BIG, rng=7)
    x = X[y == 1, 0]
    hist, edges = np.histogram(x, bins=40, range=(-5, 3), density=True)
    mid = (edges[1:] + edges[:-1]) / 2
    np.testing.assert_allclose(hist, sim1_pdf(mid, 1), atol=0.01)


def test_sim2_pdf_at_the_means():
    # N(0, 1.2 I) at its mean: (2 pi 1.2)^(-3/2)
    assert sim2_pdf(np.zeros(3), 1) == pytest.approx((2 * np.pi * 1.2) ** -1.5)
    assert sim2_pdf(np.ones(3), 0) == pytest.approx((2 * np.pi) ** -1.5)


def test_table1_lams():
    lams = simulations.table1_lams(10_000, 1_000)
    assert lams == pytest.approx([0.5, 10 / 11, 20 / 21])
    rhs = [theory.eq7_rhs(lam, 10_000, 1_000) for lam in lams]
    assert rhs == pytest.approx([10.0, 1.0, 0.5])


# ---- theory helpers against values computed by hand ----------------------


def test_key_equation_by_hand():
    y = np.array([1, 1, 0, 0, 0])
    p = np.array([0.8, 0.6, 0.1, 0.2, 0.3])
    # minority: (1-0.8) + (1-0.6) = 0.6; majority: 0.1 + 0.2 + 0.3 = 0.6
    assert theory.key_equation_lhs(y, p) == pytest.approx(1.0)
    assert theory.key_equation_rhs(0.2) == pytest.approx(4.0)
    assert theory.key_equation_rhs(0.5) == pytest.approx(1.0)


def test_eq7_by_hand():
    y = np.array([1, 1, 0, 0, 0, 0])
    p = np.array([0.9, 0.5, 0.1, 0.1, 0.3, 0.3])
    # p_bar1 = 0.7, p_bar0 = 0.2: (1 - 0.7) / 0.2 = 1.5
    assert theory.eq7_lhs(y, p) == pytest.approx(1.5)
    # N0 (1 - lam) / (N1 lam) = 40 * 0.2 / (10 * 0.8) = 1
    assert theory.eq7_rhs(0.8, 40, 10) == pytest.approx(1.0)
    assert theory.eq7_rhs(0.5, 40, 10) == pytest.approx(4.0)


def test_lam_helpers_by_hand():
    assert theory.balanced_lam([1, 0, 0, 0, 0]) == pytest.approx(0.8)
    # alpha N0 / (alpha N0 + N1) with N0 = 40, N1 = 10, alpha = 2: 80 / 90
    assert theory.lam_for_alpha(2, 40, 10) == pytest.approx(8 / 9)
    # the balanced lam makes the right side of Eq. (7) equal to one
    lam = theory.lam_for_alpha(1, 40, 10)
    assert theory.eq7_rhs(lam, 40, 10) == pytest.approx(1.0)


def test_paper_worked_numbers():
    # IR = 10 and lam = 1/2: (1 - p_bar1) / p_bar0 = 10
    c = theory.eq7_rhs(0.5, 10_000, 1_000)
    assert 1 - c * 0.08 == pytest.approx(0.2)
    assert 1 - c * 0.04 == pytest.approx(0.6)
    # lam = 2 N0 / (2 N0 + N1): (1 - p_bar1) / p_bar0 = 1/2
    c = theory.eq7_rhs(theory.lam_for_alpha(2, 10_000, 1_000), 10_000, 1_000)
    assert 1 - c * 0.4 == pytest.approx(0.8)


# ---- the runner ------------------------------------------------------------


@pytest.fixture(scope="module")
def small_run():
    return run_simulation("sim1", n_runs=3, n1=200, n0=2_000, seed=11, tol=1e-9)


def test_run_simulation_shapes(small_run):
    res = small_run
    assert res.eq7_lhs.shape == (3, 3)
    assert res.key_ratio.shape == (3, 3)
    np.testing.assert_allclose(res.eq7_rhs, [10.0, 1.0, 0.5])
    np.testing.assert_allclose(res.lams, simulations.table1_lams(2_000, 200))


def test_run_simulation_key_equation_holds_on_training_data(small_run):
    # logistic regression is convex: L-BFGS reaches the optimum, and Eq. (6)
    # holds there on the training data
    assert small_run.converged.all()
    np.testing.assert_allclose(small_run.key_ratio, 1.0, atol=1e-5)


def test_run_simulation_eq7_near_its_right_side(small_run):
    # on test data Eq. (7) holds only approximately; 3 runs of 400 test
    # samples each still land within 30 % of the right side
    ratio = small_run.eq7_lhs.mean(1) / small_run.eq7_rhs
    np.testing.assert_allclose(ratio, 1.0, atol=0.3)


def test_run_simulation_runs_differ_and_repeat(small_run):
    # each run has its own data; the same seed gives the same result
    assert np.unique(small_run.eq7_lhs[0]).size == 3
    again = run_simulation("sim1", n_runs=3, n1=200, n0=2_000, seed=11, tol=1e-9)
    np.testing.assert_allclose(again.eq7_lhs, small_run.eq7_lhs)


def test_run_simulation_stack_equals_separate_runs(small_run):
    # the run r of a stack equals the same run trained alone (one lam)
    alone = run_simulation(
        "sim1", [small_run.lams[1]], n_runs=3, n1=200, n0=2_000, seed=11, tol=1e-9
    )
    np.testing.assert_allclose(alone.eq7_lhs[0], small_run.eq7_lhs[1], rtol=1e-6)


def test_run_simulation_float32_close_to_float64(small_run):
    res = run_simulation(
        "sim1", n_runs=3, n1=200, n0=2_000, seed=11, tol=1e-5, dtype=torch.float32
    )
    np.testing.assert_allclose(res.eq7_lhs, small_run.eq7_lhs, rtol=1e-3)


def test_run_simulation_sim2_mlp():
    res = run_simulation("sim2", [0.5], n_runs=2, n1=50, n0=500, max_iter=30, seed=1)
    assert res.eq7_lhs.shape == (1, 2)
    assert np.all(np.isfinite(res.eq7_lhs))
    assert res.n_iter.max() <= 30


def test_run_simulation_bad_input():
    with pytest.raises(ValueError, match="name"):
        run_simulation("sim3")
    with pytest.raises(ValueError, match="n_runs"):
        run_simulation("sim1", n_runs=0)
    with pytest.raises(ValueError, match="lams"):
        run_simulation("sim1", [], n_runs=1)
