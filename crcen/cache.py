"""A results cache on disk: one JSON file per finished piece of work.

A piece of work (one fitted method on one split of one dataset, one grid
search) is named by a key: a dictionary of plain values such as the dataset,
the method, the seed and the configuration. The versions of ``crcen``,
scikit-learn, imbalanced-learn, PyTorch and NumPy are added to every key, and
a digest of the code of the package modules the fits run through (the
protocol, the methods, the training core and whatever they import; their
docstrings, comments and layout left out), so neither an upgrade nor an edit
of that code serves results the code no longer gives. The file name is the SHA-256 of
the key written as canonical JSON.

Each file is written to a temporary file in the cache folder and moved into
place with :func:`os.replace`, which is atomic: a reader sees the old state or
the finished file, never half of one. An interrupted run therefore leaves only
finished entries (and possibly an orphaned temporary file, which is never read)
and resumes where it stopped. A file that cannot be read back, or whose stored
key differs from the requested one, counts as missing and is recomputed.

NumPy arrays inside a value are stored with their dtype and shape and come back
as arrays; floats are written with :func:`repr`, so they round-trip exactly.
"""

import ast
import functools
import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path

import imblearn
import numpy as np
import sklearn
import torch

from . import config

__all__ = ["cached", "entry_path", "full_key", "load", "source_modules", "store"]

log = logging.getLogger(__name__)

_FORMAT = 1


#: The modules whose code a cached result depends on, with what they import.
_ENTRY_POINTS = ("__init__", "protocol")


def _imported_modules(path):
    """Names of the package's modules that the source at ``path`` imports."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                names.add(node.module.split(".")[0])
            else:
                names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
            "crcen."
        ):
            names.add(node.module.split(".")[1])
    return names


#: Modules that no fit reads: the published numbers.
_NOT_READ = ("paper",)


def source_modules():
    """The package modules a cached result depends on, sorted by name.

    The modules of :data:`_ENTRY_POINTS` and every package module they import,
    directly or not, found by reading the import statements; the published
    numbers of :mod:`crcen.paper` excepted.

    Examples
    --------
    >>> from crcen.cache import source_modules
    >>> {"_train", "methods", "protocol"} <= set(source_modules())
    True
    >>> "plotting" in source_modules()
    False
    """
    folder = Path(__file__).parent
    todo, seen = list(_ENTRY_POINTS), set()
    while todo:
        name = todo.pop()
        path = folder / f"{name}.py"
        if name in seen or name in _NOT_READ or not path.is_file():
            continue
        seen.add(name)
        todo.extend(_imported_modules(path))
    return sorted(seen)


def _code_of(path):
    """The code of a module without its docstrings, comments and layout."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree, include_attributes=False)


@functools.cache
def _source_digest():
    """SHA-256 of the code of :func:`source_modules`, once per process.

    Docstrings, comments and formatting are left out, so editing them keeps
    the cache; once per process, because the code that runs is the code
    imported.
    """
    folder = Path(__file__).parent
    digest = hashlib.sha256()
    for name in source_modules():
        code = _code_of(folder / f"{name}.py")
        digest.update(name.encode() + b"\0" + code.encode())
    return digest.hexdigest()


def _versions():
    from . import __version__

    return {
        "crcen": __version__,
        "crcen source": _source_digest(),
        "scikit-learn": sklearn.__version__,
        "imbalanced-learn": imblearn.__version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
    }


def _encode(obj):
    if isinstance(obj, np.ndarray):
        return {
            "__ndarray__": obj.ravel().tolist(),
            "dtype": obj.dtype.str,
            "shape": list(obj.shape),
        }
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, tuple):
        return list(obj)
    raise TypeError(f"The cache cannot store an object of type {type(obj).__name__}.")


def _decode(obj):
    if "__ndarray__" in obj:
        data = np.asarray(obj["__ndarray__"], dtype=np.dtype(obj["dtype"]))
        return data.reshape(obj["shape"])
    return obj


def full_key(key):
    """``key`` with the package versions and the cache format added.

    Examples
    --------
    >>> from crcen.cache import full_key
    >>> sorted(full_key({"dataset": "abalone"}))
    ['dataset', 'format', 'versions']
    """
    if not isinstance(key, dict):
        raise ValueError(f"A cache key must be a dict, got {type(key).__name__}.")
    reserved = {"format", "versions"} & set(key)
    if reserved:
        raise ValueError(f"Cache keys may not use the names {sorted(reserved)}.")
    return {**key, "format": _FORMAT, "versions": _versions()}


def _canonical(key):
    return json.dumps(key, sort_keys=True, default=_encode, separators=(",", ":"))


def entry_path(key, folder=None):
    """Path of the cache file of ``key`` inside ``folder``.

    ``folder`` defaults to :func:`crcen.config.cache_dir`.

    Examples
    --------
    >>> from crcen.cache import entry_path
    >>> path = entry_path({"dataset": "abalone", "seed": 0}, folder="/tmp")
    >>> path.suffix, len(path.stem)
    ('.json', 64)
    """
    folder = Path(config.cache_dir() if folder is None else folder)
    digest = hashlib.sha256(_canonical(full_key(key)).encode()).hexdigest()
    return folder / f"{digest}.json"


def load(key, folder=None):
    """The stored value of ``key``, or None if missing or unreadable."""
    path = entry_path(key, folder)
    if not path.is_file():
        return None
    try:
        entry = json.loads(path.read_text(encoding="utf-8"), object_hook=_decode)
    except (OSError, ValueError) as err:
        log.warning("Ignoring the unreadable cache entry %s (%s)", path.name, err)
        return None
    want = json.loads(_canonical(full_key(key)), object_hook=_decode)
    if not isinstance(entry, dict) or _canonical(entry.get("key")) != _canonical(want):
        log.warning("Ignoring the cache entry %s: its key differs", path.name)
        return None
    return entry["value"]


def store(key, value, folder=None):
    """Write ``value`` under ``key`` atomically and return its path."""
    path = entry_path(key, folder)
    text = json.dumps(
        {"key": full_key(key), "value": value}, default=_encode, allow_nan=True
    )
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def cached(key, compute, folder=None):
    """Return the stored value of ``key``, computing and storing it if needed.

    Parameters
    ----------
    key : dict
        What names the work: plain values (str, int, float, bool, None, lists,
        dicts, NumPy arrays). Package versions are added automatically.
    compute : callable
        Called with no arguments when the entry is missing; returns a value
        of the same plain kinds, not None.
    folder : path-like, optional
        Cache folder; defaults to :func:`crcen.config.cache_dir`.

    Returns
    -------
    value
        The stored value as read back from disk, so a fresh result and a
        cached one are identical.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from crcen.cache import cached
    >>> folder = tempfile.mkdtemp()
    >>> calls = []
    >>> def work():
    ...     calls.append(1)
    ...     return {"scores": np.array([0.25, -1.5])}
    >>> cached({"seed": 0}, work, folder)["scores"]
    array([ 0.25, -1.5 ])
    >>> cached({"seed": 0}, work, folder)["scores"].dtype, len(calls)
    (dtype('float64'), 1)
    """
    value = load(key, folder)
    if value is not None:
        return value
    fresh = compute()
    if fresh is None:
        raise ValueError(
            "compute returned None, which the cache cannot tell from a miss."
        )
    store(key, fresh, folder)
    value = load(key, folder)
    if value is None:
        raise OSError(f"The cache entry {entry_path(key, folder)} cannot be read back.")
    return value
