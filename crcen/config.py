"""Run-time settings read from the environment, in one place.

``CRCEN_MODE``
    ``full`` (default) runs the paper's protocol; ``quick`` runs the same code
    on fewer repeats, runs and iterations, for continuous integration.
``CRCEN_CACHE_DIR``
    Folder of the results cache (default ``~/.cache/crcen``).
"""

import os
from pathlib import Path

__all__ = ["mode", "quick", "cache_dir"]

_MODES = ("full", "quick")


def mode():
    """The run mode, ``"full"`` or ``"quick"``, from ``CRCEN_MODE``.

    Examples
    --------
    >>> from crcen import config
    >>> config.mode() in ("full", "quick")
    True
    """
    value = os.environ.get("CRCEN_MODE", "full").strip().lower()
    if value not in _MODES:
        raise ValueError(f"CRCEN_MODE must be 'full' or 'quick', got {value!r}.")
    return value


def quick():
    """True in the quick mode."""
    return mode() == "quick"


def cache_dir():
    """Folder of the results cache, created on first use."""
    path = Path(os.environ.get("CRCEN_CACHE_DIR", Path.home() / ".cache" / "crcen"))
    path.mkdir(parents=True, exist_ok=True)
    return path
