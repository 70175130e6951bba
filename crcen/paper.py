"""The paper's published numbers, typed once as data.

The chapters print these beside the numbers the book computes; nothing here is
computed, and nothing else in the package types a published number.

``TABLE2``
    The datasets of Table 2: samples, features and imbalance ratio N0 / N1.
    They are the values imbalanced-learn documents for
    :func:`imblearn.datasets.fetch_datasets`, which the paper reproduces.
``TABLE3``
    Test F1 of the minority class and G-mean of Table 3, one entry per
    ``(dataset, method)``. The published values are not typed in yet: every
    entry is NaN, and the Results chapter says so. Typing a value here is the
    only change needed for it to appear in that chapter's table.
``FIGURE1_ABALONE``
    The Abalone example of Figure 1: the test (FN, FP) counts of CRCEN at
    α = 1 and α = 2, whose expense is ΔFP / ΔFN = (263 − 158) / (32 − 13).
"""

import math

__all__ = [
    "TABLE2",
    "TABLE3",
    "TABLE3_METHODS",
    "FIGURE1_ABALONE",
    "table3_value",
]

#: Table 2: dataset -> (samples, features, imbalance ratio N0 / N1).
TABLE2 = {
    "abalone": (4177, 10, 9.7),
    "coil_2000": (9822, 85, 16.0),
    "satimage": (6435, 36, 9.3),
    "scene": (2407, 294, 13.0),
    "solar_flare_m0": (1389, 32, 19.0),
    "us_crime": (1994, 100, 12.0),
}

#: The methods of Table 3, in the paper's column order.
TABLE3_METHODS = (
    "MLP",
    "CSMLP",
    "CRCEN",
    "SMOTE",
    "ADASYN",
    "RUSBoost",
    "EasyEnsemble",
    "BRF",
)

_NAN = math.nan

#: Table 3: (dataset, method) -> {"F1": (mean, sd), "G-mean": (mean, sd)}.
#: NaN marks a value that has not been typed in from the paper yet.
TABLE3 = {
    (dataset, method): {"F1": (_NAN, _NAN), "G-mean": (_NAN, _NAN)}
    for dataset in TABLE2
    for method in TABLE3_METHODS
}

#: Figure 1, Abalone: the test (FN, FP) counts at α = 1 and at α = 2.
FIGURE1_ABALONE = {1.0: (32, 158), 2.0: (13, 263)}


def table3_value(dataset, method, metric):
    """The paper's Table 3 entry ``(mean, sd)``; NaN where not typed in.

    Examples
    --------
    >>> from crcen.paper import table3_value
    >>> mean, sd = table3_value("abalone", "CRCEN", "G-mean")
    >>> isinstance(mean, float)
    True
    >>> table3_value("abalone", "CRCEN", "AUC")
    Traceback (most recent call last):
    ...
    ValueError: metric must be 'F1' or 'G-mean', got 'AUC'.
    """
    if metric not in ("F1", "G-mean"):
        raise ValueError(f"metric must be 'F1' or 'G-mean', got {metric!r}.")
    if (dataset, method) not in TABLE3:
        raise ValueError(
            f"Table 3 has no entry for {(dataset, method)!r}; datasets are "
            f"{tuple(TABLE2)} and methods {TABLE3_METHODS}."
        )
    mean, sd = TABLE3[dataset, method][metric]
    return float(mean), float(sd)
