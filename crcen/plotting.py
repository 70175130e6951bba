"""One figure style for the whole book.

Every chapter draws its figures through :func:`figure`, so that all of them
share a size, fonts, a colour-blind-safe palette and an opaque white
background.  The background matters on the website: the book's theme has a
light and a dark mode, and a transparent figure with black axes is unreadable
on the dark one.

The palette is the eight-colour set of Okabe and Ito, which stays distinct
under the common forms of colour blindness.  The two classes always keep the
same colours: :data:`MINORITY_COLOR` and :data:`MAJORITY_COLOR`.
"""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from cycler import cycler
from matplotlib.colors import LinearSegmentedColormap

__all__ = [
    "MAJORITY_COLOR",
    "MINORITY_COLOR",
    "PALETTE",
    "STYLE",
    "figure",
    "plot_decision_boundary",
    "use_style",
]

#: Okabe-Ito palette, in the order used for successive lines.
PALETTE = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#CC79A7",  # reddish purple
    "#F0E442",  # yellow
    "#000000",  # black
)

#: Colour of the minority (positive) class in every figure.
MINORITY_COLOR = PALETTE[1]

#: Colour of the majority (negative) class in every figure.
MAJORITY_COLOR = PALETTE[0]

#: Width and height, in inches, of one panel of a figure.
PANEL_SIZE = (4.2, 3.2)

#: Widest figure, in inches; wider requests are scaled down to fit a page.
MAX_WIDTH = 10.0

#: The rcParams that :func:`use_style` sets.
STYLE = {
    "figure.facecolor": "white",
    "figure.edgecolor": "white",
    "figure.dpi": 100,
    "figure.constrained_layout.use": True,
    "axes.facecolor": "white",
    "axes.edgecolor": "#333333",
    "axes.labelcolor": "#222222",
    "axes.prop_cycle": cycler(color=PALETTE),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "font.size": 10,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "lines.linewidth": 1.8,
    "image.cmap": "cividis",
    "savefig.facecolor": "white",
    "savefig.edgecolor": "white",
    "savefig.transparent": False,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
}

# Background of decision-boundary plots: pale majority colour for low scores,
# white at the boundary, pale minority colour for high scores.
_SCORE_CMAP = LinearSegmentedColormap.from_list(
    "crcen_score", ["#cfe3f0", "#ffffff", "#f5d3bf"]
)


def use_style():
    """Set the book's figure style in matplotlib's rcParams.

    The style stays in force for every later figure of the session (one
    chapter's kernel).  :func:`figure` calls it, so chapters rarely need to.

    Examples
    --------
    >>> import matplotlib as mpl
    >>> from crcen.plotting import MINORITY_COLOR, use_style
    >>> use_style()
    >>> mpl.rcParams["savefig.transparent"]
    False
    >>> mpl.rcParams["axes.prop_cycle"].by_key()["color"][1] == MINORITY_COLOR
    True
    """
    mpl.rcParams.update(STYLE)


def figure(ncols=1, nrows=1, *, width=None, height=None, **subplot_kw):
    """Create a figure in the book's style.

    Parameters
    ----------
    ncols, nrows : int, default=1
        Number of panels across and down.
    width, height : float, optional
        Size of the whole figure in inches.  By default each panel is
        :data:`PANEL_SIZE`; the width is capped at :data:`MAX_WIDTH`.
    **subplot_kw
        Passed to :func:`matplotlib.pyplot.subplots` (e.g. ``sharey=True``).

    Returns
    -------
    fig : matplotlib.figure.Figure
        Figure with an opaque white background.
    axes : matplotlib.axes.Axes or numpy.ndarray of Axes
        One Axes for a single panel, else an array of shape ``(nrows,
        ncols)`` squeezed as :func:`matplotlib.pyplot.subplots` does.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from crcen.plotting import figure
    >>> fig, axes = figure(ncols=2)
    >>> axes.shape
    (2,)
    >>> fig.get_facecolor()
    (1.0, 1.0, 1.0, 1.0)
    >>> plt.close(fig)
    """
    use_style()
    if width is None:
        width = min(PANEL_SIZE[0] * ncols, MAX_WIDTH)
    if height is None:
        height = PANEL_SIZE[1] * nrows * width / (PANEL_SIZE[0] * ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(width, height), facecolor="white", **subplot_kw
    )
    fig.patch.set_alpha(1.0)
    return fig, axes


def _scores(clf, points, minority_label):
    """Minority-class score of ``clf`` on ``points`` and its decision level."""
    classes = list(getattr(clf, "classes_", [None, minority_label]))
    if minority_label not in classes:
        raise ValueError(f"minority_label {minority_label!r} not in {classes}")
    if hasattr(clf, "predict_proba"):
        return clf.predict_proba(points)[:, classes.index(minority_label)], 0.5
    sign = 1.0 if classes.index(minority_label) == len(classes) - 1 else -1.0
    return sign * clf.decision_function(points), 0.0


def plot_decision_boundary(
    ax,
    clf,
    X,
    y,
    *,
    minority_label=1,
    resolution=200,
    margin=0.1,
    level=None,
    legend=True,
):
    """Draw a fitted binary classifier's decision boundary on 2-D data.

    The background shades the classifier's minority-class score, the black
    line is the decision boundary and the points are the samples, coloured by
    class.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Axes to draw on.
    clf : estimator
        Fitted binary classifier with ``predict_proba`` or, failing that,
        ``decision_function``; ``classes_`` locates the minority class.
    X : array-like of shape (n_samples, 2)
        Samples to draw; they also fix the extent of the plot.
    y : array-like of shape (n_samples,)
        Class labels.
    minority_label : int, default=1
        Label of the minority class; every other label is majority.
    resolution : int, default=200
        Number of grid points along each axis.
    margin : float, default=0.1
        Extra room around the data, as a fraction of its range.
    level : float, optional
        Score at which to draw the boundary.  Defaults to 0.5 for
        probabilities and 0 for decision functions.
    legend : bool, default=True
        Whether to add a legend naming the two classes.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from crcen.plotting import figure, plot_decision_boundary
    >>> X, y = make_classification(
    ...     n_samples=200, n_features=2, n_redundant=0, weights=[0.9],
    ...     random_state=0,
    ... )
    >>> clf = LogisticRegression().fit(X, y)
    >>> fig, ax = figure()
    >>> ax = plot_decision_boundary(ax, clf, X, y)
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['majority', 'minority']
    >>> plt.close(fig)
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (n_samples, 2), got {X.shape}")
    low, high = X.min(axis=0), X.max(axis=0)
    pad = margin * np.where(high > low, high - low, 1.0)
    xx, yy = np.meshgrid(
        np.linspace(low[0] - pad[0], high[0] + pad[0], resolution),
        np.linspace(low[1] - pad[1], high[1] + pad[1], resolution),
    )
    grid = np.column_stack([xx.ravel(), yy.ravel()])
    scores, default_level = _scores(clf, grid, minority_label)
    scores = scores.reshape(xx.shape)
    level = default_level if level is None else level
    spread = max(np.abs(scores - level).max(), 1e-12)
    ax.contourf(
        xx,
        yy,
        scores,
        levels=20,
        cmap=_SCORE_CMAP,
        vmin=level - spread,
        vmax=level + spread,
    )
    if scores.min() < level < scores.max():
        ax.contour(xx, yy, scores, levels=[level], colors="black", linewidths=1.2)
    minority = y == minority_label
    for mask, color, name in [
        (~minority, MAJORITY_COLOR, "majority"),
        (minority, MINORITY_COLOR, "minority"),
    ]:
        ax.scatter(
            X[mask, 0],
            X[mask, 1],
            s=14,
            color=color,
            edgecolors="white",
            linewidths=0.4,
            label=name,
        )
    ax.set_xlim(xx[0, 0], xx[0, -1])
    ax.set_ylim(yy[0, 0], yy[-1, 0])
    ax.grid(False)
    if legend:
        ax.legend(loc="best")
    return ax
