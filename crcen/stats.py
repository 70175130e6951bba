"""Comparing classifiers over several datasets (Demšar, 2006).

The unit of the comparison is a dataset: ``scores`` is a table with one row per
dataset and one column per method (larger is better), such as the mean test F1
of each method over the repeated splits of each dataset.

:func:`average_ranks`
    Rank of each method on each dataset (1 = best, ties share the mean rank),
    averaged over the datasets.
:func:`friedman_test`
    Friedman's test that all methods have the same mean rank, with the
    Iman-Davenport F form that Demšar recommends.
:func:`nemenyi_cd`, :func:`cliques`, :func:`plot_cd_diagram`
    The Nemenyi critical difference of mean ranks and the diagram that draws
    it.
:func:`wilcoxon_vs`
    Wilcoxon signed-rank tests of one method against each other one over the
    datasets, with Holm's step-down adjustment for the several comparisons.
:func:`corrected_ttest`
    The corrected resampled t-test of Nadeau and Bengio (2003) for repeated
    random splits of one dataset, whose test scores are correlated.
"""

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "average_ranks",
    "friedman_test",
    "nemenyi_cd",
    "cliques",
    "holm",
    "wilcoxon_vs",
    "corrected_ttest",
    "plot_cd_diagram",
]


def _table(scores):
    """``scores`` as a float DataFrame, datasets by methods, checked."""
    if isinstance(scores, pd.DataFrame):
        table = scores.astype(float)
    else:
        arr = np.asarray(scores, dtype=float)
        if arr.ndim != 2:
            raise ValueError(
                f"scores must be 2-D (datasets, methods), got {arr.ndim}-D."
            )
        table = pd.DataFrame(arr, columns=[f"m{j}" for j in range(arr.shape[1])])
    n, k = table.shape
    if n < 2 or k < 2:
        raise ValueError(
            f"scores needs at least 2 datasets and 2 methods, got {n} and {k}."
        )
    if not np.all(np.isfinite(table.to_numpy())):
        raise ValueError("scores must be finite: a missing result cannot be ranked.")
    return table


def average_ranks(scores):
    """Mean rank of each method over the datasets (1 = the best score).

    Parameters
    ----------
    scores : DataFrame or array-like of shape (n_datasets, n_methods)
        Larger is better.

    Returns
    -------
    pandas.Series
        Mean rank per method, indexed by the columns of ``scores``.

    Examples
    --------
    >>> from crcen.stats import average_ranks
    >>> average_ranks([[0.9, 0.8, 0.7], [0.6, 0.6, 0.5]]).tolist()
    [1.25, 1.75, 3.0]
    """
    table = _table(scores)
    ranks = stats.rankdata(-table.to_numpy(), axis=1)
    return pd.Series(ranks.mean(0), index=table.columns, name="mean rank")


class FriedmanResult:
    """What :func:`friedman_test` returns.

    Attributes
    ----------
    statistic, pvalue : float
        Friedman's χ² with k − 1 degrees of freedom, and its p-value.
    f_statistic, f_pvalue : float
        Iman and Davenport's F = (N − 1) χ² / (N (k − 1) − χ²) with (k − 1,
        (k − 1)(N − 1)) degrees of freedom, and its p-value.
    ranks : pandas.Series
        Mean rank of each method.
    n_datasets, n_methods : int
    """

    def __init__(self, statistic, pvalue, f_statistic, f_pvalue, ranks, n, k):
        self.statistic = statistic
        self.pvalue = pvalue
        self.f_statistic = f_statistic
        self.f_pvalue = f_pvalue
        self.ranks = ranks
        self.n_datasets = n
        self.n_methods = k

    def __repr__(self):
        return (
            f"FriedmanResult(chi2={self.statistic:.3f}, p={self.pvalue:.3g}, "
            f"F={self.f_statistic:.3f}, p_F={self.f_pvalue:.3g})"
        )


def friedman_test(scores):
    """Friedman's test over datasets, with the Iman-Davenport correction.

    Parameters
    ----------
    scores : DataFrame or array-like of shape (n_datasets, n_methods)
        Larger is better; at least 3 methods.

    Returns
    -------
    FriedmanResult

    Examples
    --------
    >>> import numpy as np
    >>> from crcen.stats import friedman_test
    >>> rng = np.random.default_rng(0)
    >>> scores = rng.normal(size=(12, 4)) + [0.0, 0.0, 0.0, 2.0]
    >>> res = friedman_test(scores)
    >>> bool(res.pvalue < 0.01), res.ranks.idxmin()
    (True, 'm3')
    """
    table = _table(scores)
    n, k = table.shape
    if k < 3:
        raise ValueError(f"The Friedman test needs at least 3 methods, got {k}.")
    chi2, p = stats.friedmanchisquare(*table.to_numpy().T)
    denom = n * (k - 1) - chi2
    f = (n - 1) * chi2 / denom if denom > 0 else np.inf
    p_f = float(stats.f.sf(f, k - 1, (k - 1) * (n - 1)))
    return FriedmanResult(
        float(chi2), float(p), float(f), p_f, average_ranks(table), n, k
    )


def nemenyi_cd(n_methods, n_datasets, alpha=0.05):
    """Nemenyi critical difference of mean ranks.

    CD = q_α sqrt(k (k + 1) / (6 N)), with q_α the studentized range
    quantile for k groups and infinite degrees of freedom divided by √2.

    Examples
    --------
    >>> from crcen.stats import nemenyi_cd
    >>> round(nemenyi_cd(4, 14), 3)  # Demsar (2006), section 3.2.4: 1.25
    1.254
    """
    k, n = int(n_methods), int(n_datasets)
    if k < 2 or n < 1:
        raise ValueError(f"Need k >= 2 methods and N >= 1 datasets, got {k}, {n}.")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha!r}.")
    q = stats.studentized_range.ppf(1 - alpha, k, np.inf) / np.sqrt(2)
    return float(q * np.sqrt(k * (k + 1) / (6.0 * n)))


def cliques(ranks, cd):
    """Maximal groups of methods whose mean ranks differ by less than ``cd``.

    Parameters
    ----------
    ranks : pandas.Series or dict
        Mean rank per method.
    cd : float
        Critical difference.

    Returns
    -------
    list of list of str
        Each group sorted from the best rank; single methods are left out.

    Examples
    --------
    >>> from crcen.stats import cliques
    >>> cliques({"a": 1.0, "b": 1.5, "c": 2.8, "d": 3.0}, cd=1.0)
    [['a', 'b'], ['c', 'd']]
    """
    r = pd.Series(ranks, dtype=float).sort_values()
    names, values = list(r.index), r.to_numpy()
    groups, last_end = [], -1
    for i in range(len(values)):
        j = i
        while j + 1 < len(values) and values[j + 1] - values[i] < cd:
            j += 1
        if j > i and j > last_end:
            groups.append(names[i : j + 1])
            last_end = j
    return groups


def holm(pvalues):
    """Holm's step-down adjustment of several p-values.

    Examples
    --------
    >>> from crcen.stats import holm
    >>> holm([0.01, 0.04, 0.03]).round(2).tolist()
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(pvalues, dtype=float)
    m = p.size
    order = np.argsort(p)
    adj = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out = np.empty(m)
    out[order] = np.minimum(adj, 1.0)
    return out


def wilcoxon_vs(scores, reference, *, alternative="two-sided"):
    """Wilcoxon signed-rank tests of ``reference`` against every other method.

    Parameters
    ----------
    scores : DataFrame of shape (n_datasets, n_methods)
        Larger is better.
    reference : str
        Column of the method compared with the others.
    alternative : {"two-sided", "greater", "less"}
        "greater": ``reference`` scores higher.

    Returns
    -------
    pandas.DataFrame
        One row per other method: wins, ties and losses of ``reference``,
        the median difference (reference − method), Wilcoxon's statistic,
        the p-value and the Holm-adjusted p-value.

    Examples
    --------
    >>> import pandas as pd
    >>> from crcen.stats import wilcoxon_vs
    >>> s = pd.DataFrame({"A": [.9, .8, .7, .9, .75, .8], "B": [.7] * 6})
    >>> wilcoxon_vs(s, "A").loc["B", ["wins", "ties", "losses"]].tolist()
    [5, 1, 0]
    """
    table = _table(scores)
    if reference not in table.columns:
        raise ValueError(f"reference {reference!r} is not a column of scores.")
    rows = []
    for name in table.columns.drop(reference):
        d = table[reference] - table[name]
        if np.all(d == 0):
            stat, p = np.nan, 1.0
        else:
            res = stats.wilcoxon(d, alternative=alternative)
            stat, p = float(res.statistic), float(res.pvalue)
        rows.append(
            {
                "method": name,
                "wins": int((d > 0).sum()),
                "ties": int((d == 0).sum()),
                "losses": int((d < 0).sum()),
                "median diff": float(d.median()),
                "statistic": stat,
                "p": p,
            }
        )
    out = pd.DataFrame(rows).set_index("method")
    out["p Holm"] = holm(out["p"])
    return out


def corrected_ttest(a, b, test_fraction):
    """Corrected resampled t-test of paired scores over repeated splits.

    Nadeau and Bengio (2003): the variance of the mean difference over J
    random splits is inflated from σ²/J to (1/J + n_test/n_train) σ², because
    the training sets overlap and the scores are correlated.

    Parameters
    ----------
    a, b : array-like of shape (n_splits,)
        Scores of two methods on the same splits.
    test_fraction : float
        n_test / (n_train + n_test) of each split.

    Returns
    -------
    statistic, pvalue : float
        Two-sided, with J − 1 degrees of freedom.

    Examples
    --------
    >>> from crcen.stats import corrected_ttest
    >>> t, p = corrected_ttest([0.8, 0.82, 0.79, 0.81], [0.7, 0.75, 0.71, 0.72], 0.3)
    >>> bool(p < 0.05)
    True
    """
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if d.ndim != 1 or d.size < 2:
        raise ValueError("a and b must be 1-D with the same length, at least 2.")
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction!r}.")
    J = d.size
    var = d.var(ddof=1) * (1.0 / J + test_fraction / (1.0 - test_fraction))
    if var == 0:
        return (0.0, 1.0) if d.mean() == 0 else (np.copysign(np.inf, d.mean()), 0.0)
    t = d.mean() / np.sqrt(var)
    return float(t), float(2 * stats.t.sf(abs(t), J - 1))


def plot_cd_diagram(ax, ranks, cd, *, title=None):
    """Draw a critical-difference diagram of mean ranks (Demšar, 2006).

    The axis runs from rank 1 (best, left) to rank k; a line leads from each
    method's name to its mean rank; a thick bar joins the methods of each
    group of :func:`cliques` (mean ranks closer than ``cd``); the bar above
    the axis has the length of ``cd``.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    ranks : pandas.Series or dict
        Mean rank per method.
    cd : float
        Critical difference.
    title : str, optional

    Returns
    -------
    ax

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from crcen.stats import plot_cd_diagram
    >>> fig, ax = plt.subplots()
    >>> ax = plot_cd_diagram(ax, {"a": 1.2, "b": 2.0, "c": 2.8}, cd=1.0)
    >>> sorted(t.get_text() for t in ax.texts if "(" in t.get_text())
    ['a (1.20)', 'b (2.00)', 'c (2.80)']
    >>> plt.close(fig)
    """
    r = pd.Series(ranks, dtype=float).sort_values()
    k = len(r)
    if k < 2 or not np.all(np.isfinite(r.to_numpy())):
        raise ValueError("ranks must hold finite mean ranks of at least 2 methods.")
    groups = cliques(r, cd)
    half = (k + 1) // 2
    step = 0.25
    bar0 = -0.12
    first = bar0 - 0.08 * len(groups) - 0.1
    left_x, right_x = 0.75, k + 0.25
    ax.hlines(0.0, 1, k, color="black", lw=1)
    for t in range(1, k + 1):
        ax.vlines(t, 0.0, 0.08, color="black", lw=1)
        ax.text(t, 0.12, str(t), ha="center", va="bottom", fontsize=9)
    cd_y = 0.55
    ax.hlines(cd_y, 1, 1 + cd, color="black", lw=1.5)
    ax.vlines([1, 1 + cd], cd_y - 0.05, cd_y + 0.05, color="black", lw=1.5)
    ax.text(1 + cd / 2, cd_y + 0.07, f"CD = {cd:.2f}", ha="center", va="bottom")
    for i, (name, value) in enumerate(r.items()):
        left = i < half
        y = first - step * (i if left else k - 1 - i)
        x_end = left_x if left else right_x
        ax.plot([value, value, x_end], [0.0, y, y], color="black", lw=0.8)
        ax.text(
            x_end + (-0.05 if left else 0.05),
            y,
            f"{name} ({value:.2f})",
            ha="right" if left else "left",
            va="center",
            fontsize=9,
        )
    for g, members in enumerate(groups):
        y = bar0 - 0.08 * g
        lo, hi = r[members[0]], r[members[-1]]
        ax.hlines(y, lo - 0.05, hi + 0.05, color="black", lw=4)
    ax.set_xlim(left_x - 0.1, right_x + 0.1)
    ax.set_ylim(first - step * (half - 0.5), cd_y + 0.3)
    ax.axis("off")
    if title:
        ax.set_title(title)
    return ax
