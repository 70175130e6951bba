"""How many CPU threads the training core uses, and with joblib, per worker.

PyTorch starts with one thread per physical core of the machine, even when the
process may run on fewer cores (a container, ``taskset``, a batch scheduler),
and two processes that each run as many threads as there are cores share the
cores badly. The rule here is one thread per core the process may use, divided
among the joblib workers when several run at once.

One more setting matters on a shared machine. Between two parallel operations
the OpenMP threads of PyTorch spin, busy-waiting for the next one; when other
processes compete for the cores, a spinning thread holds a core that the
thread everyone waits for needs, and each small operation can then take a
whole scheduler time slice (we measured 20 ms instead of 20 µs on two busy
cores). Unless the environment already chooses, this module therefore sets
``OMP_WAIT_POLICY=PASSIVE`` (threads sleep while they wait) before PyTorch,
and with it the OpenMP runtime, is first imported; the training core imports
it first for that reason. ``OMP_WAIT_POLICY=ACTIVE`` restores spinning, a few
per cent faster on an otherwise idle machine.
"""

import contextlib
import os
import sys

if "torch" not in sys.modules:  # the runtime reads the policy when it loads
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402

__all__ = [
    "available_cores",
    "default_threads",
    "openmp_wait_policy",
    "torch_threads",
    "worker_threads",
]


def openmp_wait_policy():
    """The OpenMP wait policy in force (as set in the environment), or None."""
    return os.environ.get("OMP_WAIT_POLICY")


def available_cores():
    """The number of CPU cores this process may run on.

    ``os.sched_getaffinity`` where the platform has it (it honours
    ``taskset`` and container CPU sets), else ``os.cpu_count()``.

    Examples
    --------
    >>> from crcen._threads import available_cores
    >>> available_cores() >= 1
    True
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def worker_threads(n_jobs):
    """Threads each of ``n_jobs`` parallel workers may use without oversubscribing.

    Parameters
    ----------
    n_jobs : int
        Number of workers that run at the same time (joblib's ``n_jobs``;
        ``-1`` means one per core).

    Examples
    --------
    >>> from crcen._threads import available_cores, worker_threads
    >>> worker_threads(1) == available_cores()
    True
    >>> worker_threads(10**6)
    1
    """
    cores = available_cores()
    n_jobs = cores if n_jobs is None or n_jobs < 0 else max(1, int(n_jobs))
    return max(1, cores // n_jobs)


def default_threads():
    """Threads of a fit: torch's setting, at most one per available core.

    torch's setting already honours ``OMP_NUM_THREADS`` (which joblib's loky
    workers set to their share of the cores) and ``torch.set_num_threads``.
    """
    return max(1, min(torch.get_num_threads(), available_cores()))


@contextlib.contextmanager
def torch_threads(n=None):
    """Run torch with ``n`` intra-op threads inside the block.

    Parameters
    ----------
    n : int, optional
        Threads; by default :func:`default_threads`.

    Examples
    --------
    >>> import torch
    >>> from crcen._threads import torch_threads
    >>> before = torch.get_num_threads()
    >>> with torch_threads(1):
    ...     torch.get_num_threads()
    1
    >>> torch.get_num_threads() == before
    True
    """
    n = default_threads() if n is None else max(1, int(n))
    before = torch.get_num_threads()
    if n != before:
        torch.set_num_threads(n)
    try:
        yield n
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)
