#!/usr/bin/env python3
"""The table of bench/learning_quality.sh: per config and step count, every seed's final return
(mean of the last 10 training episodes) and deterministic evaluation return, their means and
95 % Student-t intervals, the wall time and the commits of the binaries that ran them.

    /usr/bin/python3 bench/learning_quality_table.py [RESULTS_DIR] [--expect N]

RESULTS_DIR (default bench/results/learning-quality, kept in git) holds CONFIG-STEPS/seedN.json,
one per finished run; with --expect N a row with fewer seeds says how many are missing.
"""
import argparse
import json
import math
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from t_interval import interval  # noqa: E402


def number(value):
    return float(value) if isinstance(value, (int, float)) else math.nan


def fmt(value):
    return "–" if math.isnan(value) else f"{value:.0f}"


def row(group, expect):
    config, _, steps = group.name.rpartition("-")
    seeds = sorted(group.glob("seed*.json"), key=lambda p: int(p.stem[4:]))
    results = [json.loads(p.read_text()) for p in seeds]
    finals = [number(r.get("final_return")) for r in results]
    evals = [number(r.get("eval_return_mean")) for r in results]
    minutes = [number(r.get("wall_seconds")) / 60 for r in results]
    commits = []
    for r in results:
        if r.get("commit", "unknown") not in commits:
            commits.append(r.get("commit", "unknown"))
    names = [p.stem for p in seeds]
    missing = f" ({expect - len(seeds)} missing)" if expect and len(seeds) < expect else ""

    def stats(values):
        known = [v for v in values if not math.isnan(v)]
        if not known:
            return "–"
        mean, half = interval(known)
        return f"{mean:.0f}" + ("" if math.isnan(half) else f" ± {half:.0f}")

    known_minutes = [m for m in minutes if not math.isnan(m)]
    return (f"| {config} | {int(steps):,} | {', '.join(names)}{missing} | {' / '.join(fmt(f) for f in finals)} "
            f"| {stats(finals)} | {' / '.join(fmt(e) for e in evals)} | {stats(evals)} "
            f"| {fmt(sum(known_minutes) / len(known_minutes)) if known_minutes else '–'} | {', '.join(commits)} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="?", default="bench/results/learning-quality")
    parser.add_argument("--expect", type=int, default=0, help="seeds each row should have")
    args = parser.parse_args()
    root = pathlib.Path(args.results)
    if not root.is_dir():
        sys.exit(f"{args.results}: no such directory (run bash bench/learning_quality.sh first)")
    print("| config | steps | seeds | final return per seed | mean ± 95 % | eval return per seed | mean ± 95 % "
          "| minutes per run | commit |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for group in sorted(p for p in root.iterdir() if p.is_dir() and any(p.glob("seed*.json"))):
        print(row(group, args.expect))


if __name__ == "__main__":
    main()
