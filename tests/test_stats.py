"""Comparisons over datasets (crcen.stats): Friedman, Nemenyi, Wilcoxon."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from scipy import stats  # noqa: E402

from crcen.stats import (  # noqa: E402
    average_ranks,
    cliques,
    corrected_ttest,
    friedman_test,
    holm,
    nemenyi_cd,
    plot_cd_diagram,
    wilcoxon_vs,
)

SEED = 0

# Demšar (2006), Table 5(a): q_0.05 of the Nemenyi test for k = 2, ..., 10.
DEMSAR_Q05 = [1.960, 2.343, 2.569, 2.728, 2.850, 2.949, 3.031, 3.102, 3.164]


@pytest.mark.parametrize("k,q", list(enumerate(DEMSAR_Q05, start=2)))
def test_nemenyi_cd_matches_demsar_table(k, q):
    n = 14
    assert nemenyi_cd(k, n) == pytest.approx(
        q * np.sqrt(k * (k + 1) / (6 * n)), abs=2e-3
    )


def test_nemenyi_cd_shrinks_with_datasets_and_alpha():
    assert nemenyi_cd(8, 60) < nemenyi_cd(8, 6)
    assert nemenyi_cd(8, 6, alpha=0.10) < nemenyi_cd(8, 6, alpha=0.05)
    with pytest.raises(ValueError, match="alpha"):
        nemenyi_cd(4, 6, alpha=1.5)
    with pytest.raises(ValueError, match="k >= 2"):
        nemenyi_cd(1, 6)


def test_ranks_orientation_and_ties():
    scores = pd.DataFrame({"a": [0.9, 0.5], "b": [0.8, 0.5], "c": [0.1, 0.2]})
    ranks = average_ranks(scores)
    assert ranks.to_dict() == {"a": 1.25, "b": 1.75, "c": 3.0}
    assert ranks.sum() == pytest.approx(6.0)  # k (k + 1) / 2 per dataset


def test_friedman_matches_rank_formula():
    """χ² = 12N / (k(k+1)) [Σ R_j² − k(k+1)²/4] without ties (Demšar, Eq. 4)."""
    rng = np.random.default_rng(SEED)
    n, k = 9, 5
    scores = rng.normal(size=(n, k)) + np.linspace(0, 1, k)
    res = friedman_test(scores)
    R = res.ranks.to_numpy()
    chi2 = 12 * n / (k * (k + 1)) * (np.sum(R**2) - k * (k + 1) ** 2 / 4)
    assert res.statistic == pytest.approx(chi2)
    f = (n - 1) * chi2 / (n * (k - 1) - chi2)
    assert res.f_statistic == pytest.approx(f)
    assert res.f_pvalue == pytest.approx(stats.f.sf(f, k - 1, (k - 1) * (n - 1)))
    assert (res.n_datasets, res.n_methods) == (n, k)


def test_friedman_level_under_null():
    """Under exchangeable methods the Iman-Davenport test rejects at about α."""
    rng = np.random.default_rng(SEED)
    p = np.array([friedman_test(rng.normal(size=(8, 4))).f_pvalue for _ in range(400)])
    assert 0.02 < np.mean(p < 0.05) < 0.09
    strong = rng.normal(size=(8, 4)) + [0, 0, 0, 3]
    assert friedman_test(strong).f_pvalue < 1e-3


def test_cliques():
    assert cliques({"a": 1.0, "b": 1.5, "c": 2.8, "d": 3.0}, cd=1.0) == [
        ["a", "b"],
        ["c", "d"],
    ]
    assert cliques({"a": 1.0, "b": 2.5, "c": 4.0}, cd=1.0) == []
    assert cliques({"a": 1.0, "b": 1.9, "c": 2.2}, cd=1.5) == [["a", "b", "c"]]
    # overlapping groups, none contained in another
    got = cliques({"a": 1.0, "b": 1.8, "c": 2.6, "d": 3.4}, cd=1.0)
    assert got == [["a", "b"], ["b", "c"], ["c", "d"]]


def test_holm():
    p = np.array([0.01, 0.04, 0.03, 0.5])
    adj = holm(p)
    np.testing.assert_allclose(adj, [0.04, 0.09, 0.09, 0.5])
    assert np.all(adj >= p)
    assert holm([0.2])[0] == 0.2


def test_wilcoxon_vs():
    rng = np.random.default_rng(SEED)
    base = rng.uniform(0.4, 0.8, size=6)
    scores = pd.DataFrame(
        {"CRCEN": base + 0.05, "MLP": base, "SMOTE": base + rng.normal(0, 0.1, 6)}
    )
    out = wilcoxon_vs(scores, "CRCEN")
    assert list(out.index) == ["MLP", "SMOTE"]
    assert out.loc["MLP", "wins"] == 6
    # six wins out of six: the exact two-sided p-value is 2 / 2**6
    assert out.loc["MLP", "p"] == pytest.approx(2 / 64)
    ref = stats.wilcoxon(scores["CRCEN"] - scores["SMOTE"])
    assert out.loc["SMOTE", "p"] == pytest.approx(ref.pvalue)
    np.testing.assert_allclose(out["p Holm"], holm(out["p"]))
    with pytest.raises(ValueError, match="not a column"):
        wilcoxon_vs(scores, "RUSBoost")


def test_corrected_ttest_inflates_the_paired_t():
    rng = np.random.default_rng(SEED)
    a = rng.normal(0.8, 0.02, 10)
    b = a - 0.01 + rng.normal(0, 0.01, 10)
    t, p = corrected_ttest(a, b, test_fraction=0.25)
    plain = stats.ttest_rel(a, b)
    J = 10
    assert t == pytest.approx(plain.statistic * np.sqrt((1 / J) / (1 / J + 1 / 3)))
    assert p > plain.pvalue
    with pytest.raises(ValueError, match="test_fraction"):
        corrected_ttest(a, b, 1.0)


@pytest.mark.parametrize(
    "bad,match",
    [
        ([[1.0, np.nan], [0.5, 0.4]], "finite"),
        ([1.0, 2.0, 3.0], "2-D"),
        ([[1.0, 2.0, 3.0]], "at least 2 datasets"),
    ],
)
def test_bad_scores(bad, match):
    with pytest.raises(ValueError, match=match):
        average_ranks(bad)


def test_friedman_needs_three_methods():
    with pytest.raises(ValueError, match="at least 3 methods"):
        friedman_test([[0.1, 0.2], [0.3, 0.1]])


def test_cd_diagram_draws_each_method_at_its_rank():
    ranks = {"CRCEN": 1.5, "MLP": 3.6, "SMOTE": 2.2, "BRF": 2.7}
    fig, ax = plt.subplots()
    plot_cd_diagram(ax, ranks, cd=1.0)
    leaders = [ln.get_xdata() for ln in ax.get_lines()]
    assert sorted(x[0] for x in leaders) == sorted(ranks.values())
    labels = {t.get_text() for t in ax.texts}
    assert {"CRCEN (1.50)", "MLP (3.60)", "CD = 1.00"} <= labels
    thick = [c for c in ax.collections if c.get_linewidth()[0] >= 4]
    assert len(thick) == len(cliques(ranks, 1.0)) == 3
    plt.close(fig)
