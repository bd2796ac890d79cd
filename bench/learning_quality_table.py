#!/usr/bin/env python3
"""The table of bench/learning_quality.sh: per config and step count, every seed's final return
(mean of the last 10 training episodes) and deterministic evaluation return, their means and
95 % Student-t intervals, the wall time and the commits of the binaries that ran them. Runs that have not finished are listed as such.

    /usr/bin/python3 bench/learning_quality_table.py runs/learning-quality
"""
import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from t_interval import interval  # noqa: E402


def main(out):
    root = pathlib.Path(out)
    if not root.is_dir():
        sys.exit(f"{out}: no such directory (run bash bench/learning_quality.sh {out} first)")
    print("| config | steps | final return per seed | mean ± 95 % | eval return per seed | mean ± 95 % | minutes per run | commit |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for group in sorted(p for p in root.iterdir() if p.is_dir()):
        config, _, steps = group.name.rpartition("-")
        finals, evals, minutes, cells, commits = [], [], [], [], []
        for seed_dir in sorted((p for p in group.glob("seed*") if p.is_dir()), key=lambda p: int(p.name[4:])):
            summary_path = seed_dir / "summary.json"
            summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
            if summary.get("status") != "finished":
                cells.append((seed_dir.name, None, None))
                continue
            commit_path = seed_dir.parent / f"{seed_dir.name}.commit"
            commit = commit_path.read_text().strip() if commit_path.exists() else "unknown"
            if commit not in commits:
                commits.append(commit)
            finals.append(summary["final_return"])
            evals.append(summary.get("eval_return_mean", float("nan")))
            minutes.append(summary.get("wall_seconds", float("nan")) / 60)
            cells.append((seed_dir.name, finals[-1], evals[-1]))
        if not finals:
            continue
        per_final = " / ".join(f"{f:.0f}" if f is not None else f"{s} unfinished" for s, f, _ in cells)
        per_eval = " / ".join(f"{e:.0f}" if e is not None else f"{s} unfinished" for s, _, e in cells)
        fm, fh = interval(finals)
        em, eh = interval(evals)
        print(f"| {config} | {int(steps):,} | {per_final} | {fm:.0f} ± {fh:.0f} | {per_eval} | {em:.0f} ± {eh:.0f} "
              f"| {sum(minutes) / len(minutes):.0f} | {', '.join(commits)} |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "runs/learning-quality")
