"""Benchmark of the CRCEN training core against what a user would pick instead.

Run from the repository root::

    .venv/bin/python benchmarks/run.py            # the full benchmark
    .venv/bin/python benchmarks/run.py --quick    # a smoke run of a minute

It measures, in one run on one machine, and prints as one table:

1. one CRCEN fit against scikit-learn's ``MLPClassifier(solver="lbfgs")`` with
   the same sample weights (λ for the minority, 1 − λ for the majority class),
   hidden size, L2 strength, iteration budget and stopping rule, on each of
   the six datasets: the wall-time ratio and the final training objective of
   each (both evaluated by the same formula);
2. the grid search of the Table 3 chapter (hidden units x L2 strength x 4
   stratified folds, a scaler fitted inside each fold) as one batched stack
   against ``GridSearchCV(MLPClassifier(...), n_jobs=2)`` on the same folds:
   the wall-time ratio and the best mean CV G-mean of each;
3. the floating-point rate of batched training (networks of 32 and 64 hidden
   units) against the float32 matrix-multiply rate of this machine, measured
   in the same run with the same threads;
4. the wall time of the 600 fits of Table 1 (:mod:`crcen.simulations`).

The results, with the machine they were measured on, go to
``benchmarks/results/full.json`` (``quick.json`` for a smoke run, which is
not kept in the repository), written atomically; the book's
*Performance* appendix renders ``full.json`` and never runs the benchmark.
"""

# crcen first: it sets the OpenMP wait policy before torch loads its runtime
import crcen  # isort: split

import argparse
import datetime as dt
import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import sklearn
import torch

from crcen._threads import available_cores, openmp_wait_policy

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cases  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"

#: The targets of the benchmark: (key, what, target, comparison).
TARGETS = {
    "grid_speedup": ("grid search, x faster than GridSearchCV", 10.0, ">="),
    "grid_gmean": ("best CV G-mean, CRCEN minus scikit-learn", 0.0, ">="),
    "flop_fraction": ("training rate / matmul rate, h >= 32", 0.40, ">="),
    "table1_s": ("Table 1's 600 fits, seconds", 30.0, "<="),
}


def machine():
    """What the numbers were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": available_cores(),
        "torch_threads": torch.get_num_threads(),
        "omp_wait_policy": openmp_wait_policy(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "sklearn": sklearn.__version__,
        "crcen": crcen.__version__,
        "system": f"{platform.system()} {platform.release()}",
        "load_average_start": round(os.getloadavg()[0], 2),
    }


def _write(results, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(results, fh, indent=1, sort_keys=False)
        fh.write("\n")
    os.replace(tmp, path)


def _met(key, value):
    _, target, cmp = TARGETS[key]
    return bool(value >= target) if cmp == ">=" else bool(value <= target)


def summarise(res):
    """The targets, each with its measured value and whether it is met."""
    out = []
    grid = res["grid"]
    if grid:
        speed = min(g["speedup"] for g in grid)
        gap = min(g["crcen32"]["gmean"] - g["sklearn"]["gmean"] for g in grid)
        out += [("grid_speedup", speed), ("grid_gmean", gap)]
    if res["throughput"]:
        out.append(("flop_fraction", min(t["fraction"] for t in res["throughput"])))
    if res["table1"]:
        out.append(("table1_s", res["table1"]["total_s"]))
    return [
        {
            "key": key,
            "what": TARGETS[key][0],
            "target": f"{TARGETS[key][2]} {TARGETS[key][1]:g}",
            "measured": value,
            "met": _met(key, value),
        }
        for key, value in out
    ]


def table(res):
    """The benchmark's figures as plain text."""
    lines = [
        f"CRCEN benchmark, {res['date']}, {res['machine']['cpu']}, "
        f"{res['machine']['cores']} cores, torch {res['machine']['torch']}, "
        f"scikit-learn {res['machine']['sklearn']}, mode {res['mode']}",
        "",
        "1. One fit (float64), scikit-learn time / CRCEN time, final objective",
        f"{'dataset':16s} {'ratio':>7s} {'CRCEN s':>8s} {'sklearn s':>9s} "
        f"{'CRCEN f':>9s} {'sklearn f':>9s} {'iter':>9s}",
    ]
    for r in res["single_fit"]:
        lines.append(
            f"{r['dataset']:16s} {r['speedup']:7.1f} {r['crcen_s']:8.2f} "
            f"{r['sklearn_s']:9.2f} {r['crcen_f']:9.5f} {r['sklearn_f']:9.5f} "
            f"{r['crcen_iter']:4d}/{r['sklearn_iter']:<4d}"
        )
    lines += [
        "",
        "2. Grid search, GridSearchCV time / CRCEN time (float32), best mean CV G-mean",
        f"{'dataset':16s} {'ratio':>7s} {'CRCEN s':>8s} {'sklearn s':>9s} "
        f"{'G CRCEN32':>9s} {'G CRCEN64':>9s} {'G sklearn':>9s}",
    ]
    for g in res["grid"]:
        lines.append(
            f"{g['dataset']:16s} {g['speedup']:7.1f} {g['crcen32']['seconds']:8.2f} "
            f"{g['sklearn']['seconds']:9.2f} {g['crcen32']['gmean']:9.4f} "
            f"{g['crcen64']['gmean']:9.4f} {g['sklearn']['gmean']:9.4f}"
        )
    lines += [
        "",
        f"3. Training rate (float32, h in {{32, 64}}) / float32 matmul rate "
        f"({res['gemm']['gflops']:.1f} GFLOP/s)",
    ]
    for t in res["throughput"]:
        lines.append(
            f"{t['dataset']:16s} {t['gflops']:7.1f} GFLOP/s "
            f"{100 * t['fraction']:5.1f} %"
        )
    if res["table1"]:
        t1 = res["table1"]
        lines += [
            "",
            f"4. Table 1: {t1['total_s']:.1f} s (Sim1 {t1['sim1']['seconds']:.1f} s, "
            f"Sim2 {t1['sim2']['seconds']:.1f} s in {t1['sim2']['dtype']}); "
            f"Sim2 in float64 {t1['sim2_float64']['seconds']:.1f} s, "
            f"Eq. (7) means {t1['sim2_float64']['eq7_mean_rel_change']:.1e} apart "
            "(relative)",
        ]
    lines += ["", "Targets"]
    for t in res["targets"]:
        lines.append(
            f"{t['what']:45s} {t['measured']:9.3f}  target {t['target']:>8s}  "
            f"{'met' if t['met'] else 'MISSED'}"
        )
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a smoke run")
    ap.add_argument(
        "--out",
        type=Path,
        help="results file (default results/full.json or quick.json)",
    )
    ap.add_argument(
        "--skip", nargs="*", default=[], choices=["single", "grid", "flops", "table1"]
    )
    ap.add_argument("--datasets", nargs="*", help="a subset of the six datasets")
    args = ap.parse_args(argv)
    quick = args.quick
    names = cases.QUICK_DATASETS if quick else crcen.datasets.PAPER_DATASETS
    names = args.datasets or names
    res = {
        "schema": 1,
        "mode": "quick" if quick else "full",
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "settings": cases.settings(quick),
    }
    t0 = time.perf_counter()
    res["gemm"] = cases.gemm_rate()
    res["single_fit"] = [] if "single" in args.skip else cases.single_fits(names)
    res["grid"] = [] if "grid" in args.skip else cases.grids(names, quick)
    res["throughput"] = [] if "flops" in args.skip else cases.throughput(names, quick)
    gemm_after = cases.gemm_rate()
    res["gemm"] = max(res["gemm"], gemm_after, key=lambda g: g["gflops"])
    for t in res["throughput"]:
        t["fraction"] = t["gflops"] / res["gemm"]["gflops"]
    res["table1"] = None if "table1" in args.skip else cases.table1(quick)
    res["memory"] = {
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        **cases.grid_memory(),
    }
    res["machine"]["load_average_end"] = round(os.getloadavg()[0], 2)
    res["seconds"] = time.perf_counter() - t0
    res["targets"] = summarise(res)
    out = args.out or RESULTS / f"{res['mode']}.json"
    _write(res, out)
    print(table(res))
    print(f"\nwritten to {out} in {res['seconds']:.0f} s")


def _data_home():
    """The offline dataset folder beside the repository, as scripts/setup.sh uses."""
    beside = Path(__file__).resolve().parents[2] / "shared" / "scikit_learn_data"
    if "SCIKIT_LEARN_DATA" not in os.environ and beside.is_dir():
        os.environ["SCIKIT_LEARN_DATA"] = str(beside)


if __name__ == "__main__":
    _data_home()
    main()
