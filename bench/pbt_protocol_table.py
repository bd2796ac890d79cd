#!/usr/bin/python3
"""The table of bench/pbt_protocol.sh: per env and method, the final return of each seed (the best
member's for a population, the best trial's for random search, the single run's for CleanRL's
defaults), their mean and a 95 % Student-t interval, wall time and PBT/PB2 overhead.

    /usr/bin/python3 bench/pbt_protocol_table.py runs/pbt-protocol [--json]
"""
import json
import math
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from t_interval import interval  # noqa: E402

METHODS = ["pb2", "pbt", "random", "cleanrl"]
ENV_IDS = {"half_cheetah": "HalfCheetah-v5", "hopper": "Hopper-v5"}


def score(summary):
    return summary["best_score"] if "best_score" in summary else summary["final_return"]


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    root = pathlib.Path(sys.argv[1])
    rows = []
    for env in sorted(p.name for p in root.iterdir() if p.is_dir()):
        for method in METHODS:
            runs = []
            for path in sorted((root / env / method).glob("seed*/summary.json")):
                s = json.loads(path.read_text())
                if s.get("status") != "finished":
                    continue
                runs.append({"seed": int(path.parent.name[4:]), "score": score(s),
                             "wall": s["wall_seconds"],
                             "overhead": s.get("exploit_seconds", 0.0) + s.get("controller_seconds", 0.0),
                             "train": s.get("train_seconds", s["wall_seconds"])})
            if runs:
                mean, half = interval([r["score"] for r in runs])
                rows.append({"env": ENV_IDS.get(env, env), "method": method, "runs": runs,
                             "mean": mean, "ci95": half})
    if "--json" in sys.argv:
        print(json.dumps(rows, indent=2))
        return
    print("| env | method | final return per seed | mean ± 95 % interval | wall s per seed | overhead |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in rows:
        per_seed = " / ".join(f"{x['score']:.0f}" for x in r["runs"])
        seeds = ",".join(str(x["seed"]) for x in r["runs"])
        wall = sum(x["wall"] for x in r["runs"]) / len(r["runs"])
        overhead = sum(x["overhead"] for x in r["runs"]) / sum(x["train"] for x in r["runs"])
        ci = "n/a" if math.isnan(r["ci95"]) else f"{r['ci95']:.0f}"
        oh = f"{100 * overhead:.3f} %" if r["method"] in ("pbt", "pb2") else ""
        print(f"| {r['env']} | {r['method']} | {per_seed} (seeds {seeds}) | {r['mean']:.0f} ± {ci} | {wall:.0f} | {oh} |")


if __name__ == "__main__":
    main()
