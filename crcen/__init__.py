"""crcen: class-wise reweighted cross-entropy for imbalanced classification.

The package behind the CRCEN book: the loss of Eq. (1), a training core that
fits a stack of independent MLPs in one pass, scikit-learn estimators built on
it, the theory helpers of Eq. (6)-(7), and loaders of the paper's datasets.
"""

from . import config, datasets, theory
from ._estimator import CRCENClassifier, CSMLPClassifier, minority_label
from ._loss import class_weights, crcen_loss
from ._stack import MLPStack
from ._train import StackFit, fit_stack

__version__ = "0.1.0"

__all__ = [
    "CRCENClassifier",
    "CSMLPClassifier",
    "MLPStack",
    "StackFit",
    "class_weights",
    "config",
    "crcen_loss",
    "datasets",
    "fit_stack",
    "minority_label",
    "theory",
    "__version__",
]
