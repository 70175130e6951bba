"""The paper's datasets through imbalanced-learn's loader."""

import shutil

import numpy as np
import pytest

from crcen.datasets import PAPER_DATASETS, dataset_path, load_dataset

# shape and minority count, from the cache's documentation
EXPECTED = {
    "abalone": ((4177, 10), 391),
    "coil_2000": ((9822, 85), 586),
    "satimage": ((6435, 36), 626),
    "scene": ((2407, 294), 177),
    "solar_flare_m0": ((1389, 32), 68),
    "us_crime": ((1994, 100), 150),
}


@pytest.mark.parametrize("name", PAPER_DATASETS)
def test_load(name):
    if not dataset_path(name).is_file():
        pytest.fail(f"{dataset_path(name)} is missing; set SCIKIT_LEARN_DATA")
    X, y = load_dataset(name)
    shape, n1 = EXPECTED[name]
    assert X.shape == shape and X.dtype == np.float64
    assert set(np.unique(y)) == {0, 1} and int(y.sum()) == n1


def test_unknown_name():
    with pytest.raises(ValueError, match="Unknown dataset 'iris'"):
        load_dataset("iris")


def test_missing_file_names_file_and_folder(tmp_path, monkeypatch):
    # an empty data home and no network: the error says what to put where
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(tmp_path))

    def no_network(*args, **kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr("imblearn.datasets._zenodo.urlopen", no_network)
    with pytest.raises(FileNotFoundError) as err:
        load_dataset("abalone")
    msg = str(err.value)
    assert "x5data.npz" in msg and str(tmp_path / "zenodo") in msg
    assert "fetch_datasets" in msg


def test_reads_a_copied_data_home(tmp_path, monkeypatch):
    src = dataset_path("solar_flare_m0")
    (tmp_path / "zenodo").mkdir()
    shutil.copy(src, tmp_path / "zenodo" / src.name)
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(tmp_path))
    X, y = load_dataset("solar_flare_m0")
    assert X.shape == (1389, 32) and int(y.sum()) == 68
