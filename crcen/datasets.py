"""The six imbalanced-learn benchmark datasets of the paper.

They are read with :func:`imblearn.datasets.fetch_datasets` from the
scikit-learn data home (the ``SCIKIT_LEARN_DATA`` environment variable, or
``~/scikit_learn_data``), where imbalanced-learn keeps the files of the Zenodo
archive it downloads (Ding, 2011).
"""

import logging
import os
from pathlib import Path

import numpy as np
from imblearn.datasets import fetch_datasets
from imblearn.datasets._zenodo import MAP_NAME_ID, POST_FILENAME, PRE_FILENAME
from sklearn.datasets import get_data_home

__all__ = ["PAPER_DATASETS", "load_dataset", "dataset_path"]

log = logging.getLogger(__name__)

#: The paper's datasets, in the order of its Table 2.
PAPER_DATASETS = (
    "abalone",
    "coil_2000",
    "satimage",
    "scene",
    "solar_flare_m0",
    "us_crime",
)


def dataset_path(name):
    """Where imbalanced-learn keeps the cache file of dataset ``name``.

    Examples
    --------
    >>> from crcen.datasets import dataset_path
    >>> dataset_path("abalone").name
    'x5data.npz'
    """
    if name not in MAP_NAME_ID:
        raise ValueError(
            f"Unknown dataset {name!r}; the paper's datasets are {PAPER_DATASETS}."
        )
    filename = f"{PRE_FILENAME}{MAP_NAME_ID[name]}{POST_FILENAME}"
    return Path(get_data_home()) / "zenodo" / filename


def load_dataset(name):
    """Load one of the imbalanced-learn datasets as ``(X, y)``.

    Parameters
    ----------
    name : str
        A dataset name of :func:`imblearn.datasets.fetch_datasets`, such as
        one of :data:`PAPER_DATASETS`.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float64
    y : ndarray of shape (n_samples,), int
        1 for the minority class, 0 for the majority class.

    Raises
    ------
    FileNotFoundError
        When the cache file is missing and cannot be downloaded; the message
        names the file, the folder it belongs in and how to get it.

    Examples
    --------
    >>> from crcen.datasets import load_dataset
    >>> X, y = load_dataset("abalone")
    >>> X.shape, int(y.sum())
    ((4177, 10), 391)
    """
    path = dataset_path(name)
    download = not path.is_file()
    if download:
        log.info("%s is not cached at %s; trying to download it", name, path)
    try:
        bunch = fetch_datasets(
            filter_data=(name,), download_if_missing=download, shuffle=False
        )[name]
    except OSError as err:
        raise FileNotFoundError(
            f"The cache file of dataset {name!r} is missing: {path.name} belongs "
            f"in {path.parent} (the 'zenodo' folder of the scikit-learn data home, "
            f"SCIKIT_LEARN_DATA={os.environ.get('SCIKIT_LEARN_DATA', '<unset>')}), "
            "and it could not be downloaded. Run "
            "imblearn.datasets.fetch_datasets() on a machine with internet access "
            "and copy the folder's .npz files there, or point SCIKIT_LEARN_DATA at "
            f"a data home that holds them. Cause: {err}"
        ) from err
    X = np.asarray(bunch.data, dtype=np.float64)
    y = (np.asarray(bunch.target) == 1).astype(int)
    return X, y
