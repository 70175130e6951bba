"""Tests of the book's figure style helpers."""

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402

from crcen import plotting  # noqa: E402


@pytest.fixture
def data():
    return make_classification(
        n_samples=300,
        n_features=2,
        n_redundant=0,
        n_clusters_per_class=1,
        weights=[0.9],
        random_state=0,
    )


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_class_colours_are_distinct_palette_entries():
    assert plotting.MINORITY_COLOR != plotting.MAJORITY_COLOR
    assert {plotting.MINORITY_COLOR, plotting.MAJORITY_COLOR} <= set(plotting.PALETTE)


def test_figure_background_is_opaque_white():
    fig, ax = plotting.figure()
    assert fig.get_facecolor() == (1.0, 1.0, 1.0, 1.0)
    assert to_rgba(ax.get_facecolor()) == (1.0, 1.0, 1.0, 1.0)


def test_saved_png_has_no_transparent_pixel():
    fig, ax = plotting.figure()
    ax.plot([0, 1], [0, 1])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    buffer.seek(0)
    pixels = plt.imread(buffer)
    assert pixels.shape[2] == 4
    assert np.all(pixels[..., 3] == 1.0)
    corner = pixels[0, 0, :3]
    np.testing.assert_allclose(corner, 1.0)


def test_figure_size_scales_with_panels_and_is_capped():
    fig1, _ = plotting.figure()
    fig2, axes = plotting.figure(ncols=2)
    fig5, _ = plotting.figure(ncols=5)
    w1, h1 = fig1.get_size_inches()
    w2, h2 = fig2.get_size_inches()
    assert axes.shape == (2,)
    assert w2 == pytest.approx(2 * w1)
    assert h2 == pytest.approx(h1)
    assert fig5.get_size_inches()[0] == pytest.approx(plotting.MAX_WIDTH)


def test_explicit_size_is_kept():
    fig, _ = plotting.figure(width=5.0, height=2.0)
    np.testing.assert_allclose(fig.get_size_inches(), [5.0, 2.0])


def test_use_style_sets_palette_and_white_savefig():
    plotting.use_style()
    colors = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    assert tuple(colors) == plotting.PALETTE
    white = (1.0, 1.0, 1.0, 1.0)
    assert to_rgba(matplotlib.rcParams["savefig.facecolor"]) == white


def test_decision_boundary_colours_points_by_class(data):
    X, y = data
    clf = LogisticRegression().fit(X, y)
    fig, ax = plotting.figure()
    plotting.plot_decision_boundary(ax, clf, X, y)
    by_label = {c.get_label(): c for c in ax.collections}
    assert len(by_label["minority"].get_offsets()) == int((y == 1).sum())
    assert len(by_label["majority"].get_offsets()) == int((y != 1).sum())
    minority_rgba = by_label["minority"].get_facecolor()[0]
    np.testing.assert_allclose(minority_rgba, to_rgba(plotting.MINORITY_COLOR))
    lo_x, hi_x = ax.get_xlim()
    assert lo_x < X[:, 0].min() and hi_x > X[:, 0].max()


def test_decision_boundary_uses_decision_function_without_proba(data):
    X, y = data
    clf = LinearSVC(random_state=0).fit(X, y)
    assert not hasattr(clf, "predict_proba")
    fig, ax = plotting.figure()
    plotting.plot_decision_boundary(ax, clf, X, y, legend=False)
    assert ax.get_legend() is None
    # A boundary line (a contour at level 0) is drawn in black.
    lines = [
        c for c in ax.collections if hasattr(c, "levels") and list(c.levels) == [0.0]
    ]
    assert len(lines) == 1


def test_decision_boundary_rejects_non_2d_data(data):
    X, y = data
    clf = LogisticRegression().fit(X, y)
    fig, ax = plotting.figure()
    with pytest.raises(ValueError, match="shape"):
        plotting.plot_decision_boundary(ax, clf, np.c_[X, X[:, :1]], y)


def test_scores_follow_the_minority_label_not_the_column_order(data):
    X, y = data
    labels = np.where(y == 1, "rare", "zcommon")  # the minority sorts first
    proba_clf = LogisticRegression().fit(X, labels)
    scores, level = plotting._scores(proba_clf, X, "rare")
    np.testing.assert_allclose(scores, proba_clf.predict_proba(X)[:, 0])
    assert level == 0.5
    svm = LinearSVC(random_state=0).fit(X, labels)
    scores, level = plotting._scores(svm, X, "rare")
    np.testing.assert_allclose(scores, -svm.decision_function(X))
    assert level == 0.0
    fig, ax = plotting.figure()
    with pytest.raises(ValueError, match="minority_label"):
        plotting.plot_decision_boundary(ax, proba_clf, X, labels, minority_label=1)
