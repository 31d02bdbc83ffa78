"""Run every benchmark against one simulator, print a table, write benchmarks/results.json.

Each ``benchmarks/bench_<area>.py`` defines ``run(sim) -> list[dict]`` with ``name``, ``value``,
``unit`` and ``target`` (a string such as "<= 2" or "" when there is none). Figures are measured side
by side in this one run, so ratios compare like with like.

    python benchmarks/run.py            # all
    python benchmarks/run.py sim lookup # only bench_sim.py and bench_lookup.py
"""

from __future__ import annotations

import importlib
import json
import os
import pathlib
import re
import sys
import time
import traceback

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from azsim.testing import SimServer  # noqa: E402


def meets(value, target):
    """True/False when the target is a simple bound like '<= 2' or '>= 300', else None."""
    match = re.match(r"^\s*(<=|>=|<|>)\s*([0-9.]+)", str(target or ""))
    if not match or not isinstance(value, (int, float)):
        return None
    bound = float(match.group(2))
    return {"<=": value <= bound, ">=": value >= bound, "<": value < bound, ">": value > bound}[match.group(1)]


def discover(selected):
    names = sorted(path.stem[len("bench_"):] for path in HERE.glob("bench_*.py"))
    return [name for name in names if not selected or name in selected]


def main(argv):
    selected = set(argv)
    results = []
    failures = []
    with SimServer(time_scale=0.0) as sim:
        for name in discover(selected):
            started = time.perf_counter()
            try:
                module = importlib.import_module(f"benchmarks.bench_{name}")
                sim.admin.reset()
                sim.admin.settings(time_scale=0.0, latency_ms=0)
                figures = module.run(sim)
            except Exception:  # one broken benchmark must not hide the others
                failures.append(name)
                traceback.print_exc()
                continue
            for figure in figures:
                figure.setdefault("target", "")
                figure["met"] = meets(figure["value"], figure["target"])
                results.append(figure)
            print(f"# bench_{name}: {time.perf_counter() - started:.1f} s", file=sys.stderr)

    width = max([len(item["name"]) for item in results] + [10])
    print(f"{'figure':<{width}}  {'value':>12}  {'unit':<8}  {'target':<10}  met")
    for item in results:
        value = item["value"]
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        met = {True: "yes", False: "NO", None: "-"}[item["met"]]
        print(f"{item['name']:<{width}}  {shown:>12}  {item['unit']:<8}  {item['target']:<10}  {met}")
    out = HERE / "results.json"
    out.write_text(json.dumps([{k: item[k] for k in ("name", "value", "unit", "target")} for item in results], indent=2))
    print(f"wrote {os.path.relpath(out, ROOT)}")
    if failures:
        print(f"benchmarks that failed to run: {', '.join(failures)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
