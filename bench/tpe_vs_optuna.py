"""graybox's searchers against Optuna 3.1's TPE on Branin and Hartmann-6, in one run.

For each objective, every method gets the same seeds and number of evaluations; printed is the
median (and mean) over the seeds of the best value found, and for each graybox method the
difference of its median from Optuna's default TPE with a 95 % bootstrap interval (seeds
resampled, 2,000 times, a fixed bootstrap seed). graybox runs through its own binary
(`graybox tune` on a generated config, one run directory per seed, best_score from
summary.json); Optuna runs its TPESampler (seed = the graybox seed).

Methods: tpe (graybox, multivariate, the default), tpe_indep (graybox, tune.tpe_multivariate:
false), optuna (TPESampler defaults: independent), optuna_mv (TPESampler(multivariate=True)),
random, gp (graybox).

Usage (Debian's python3-optuna runs under /usr/bin/python3 only):
  /usr/bin/python3 bench/tpe_vs_optuna.py [--graybox build/apps/graybox] [--seeds 10]
      [--evals 40] [--methods tpe,tpe_indep,optuna,optuna_mv,random,gp] [--parallel 1]
"""

import argparse
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile

BRANIN_OPTIMUM = 0.397887
HARTMANN6_OPTIMUM = -3.32237

HARTMANN_ALPHA = [1.0, 1.2, 3.0, 3.2]
HARTMANN_A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
              [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
HARTMANN_P = [[0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
              [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
              [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650],
              [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381]]


def branin(x1, x2):
    b, c, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1 ** 2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def hartmann6(x):
    total = 0.0
    for alpha, a, p in zip(HARTMANN_ALPHA, HARTMANN_A, HARTMANN_P):
        total += alpha * math.exp(-sum(ai * (xi - pi) ** 2 for ai, xi, pi in zip(a, x, p)))
    return -total


TASKS = {
    "branin": {"bounds": {"x1": (-5.0, 10.0), "x2": (0.0, 15.0)},
               "f": lambda p: branin(p["x1"], p["x2"]), "optimum": BRANIN_OPTIMUM},
    "hartmann6": {"bounds": {f"x{i}": (0.0, 1.0) for i in range(1, 7)},
                  "f": lambda p: hartmann6([p[f"x{i}"] for i in range(1, 7)]), "optimum": HARTMANN6_OPTIMUM},
}


GRAYBOX_METHODS = {"tpe": ("tpe", []), "tpe_indep": ("tpe", ["  tpe_multivariate: false"]),
                   "random": ("random", []), "gp": ("gp", [])}


def graybox_best(binary, workdir, task, method, seed, evals, parallel):
    algorithm, extra = GRAYBOX_METHODS[method]
    lines = [f"seed: {seed}", f"task: {task}", "tune:", f"  algorithm: {algorithm}",
             f"  num_trials: {evals}", "  max_budget: 1", f"  parallel: {parallel}", *extra, "search_space:"]
    for name, (low, high) in TASKS[task]["bounds"].items():
        lines.append(f"  {name}: {{type: float, low: {low}, high: {high}}}")
    config = os.path.join(workdir, f"{task}_{method}_{seed}_p{parallel}.yaml")
    with open(config, "w") as f:
        f.write("\n".join(lines) + "\n")
    out = config[:-5]
    subprocess.run([binary, "tune", config, "--out", out, "--quiet"], check=True,
                   stdout=subprocess.DEVNULL)
    with open(os.path.join(out, "summary.json")) as f:
        return json.load(f)["best_score"]


def optuna_best(task, seed, evals, multivariate):
    import warnings

    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    bounds, f = TASKS[task]["bounds"], TASKS[task]["f"]

    def objective(trial):
        return f({name: trial.suggest_float(name, low, high) for name, (low, high) in bounds.items()})

    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed, multivariate=multivariate), direction="minimize")
    study.optimize(objective, n_trials=evals)
    return study.best_value


def median_difference_interval(a, b, rounds=2000, seed=0):
    """The 95 % bootstrap interval of median(a) - median(b), each resampled on its own."""
    rng = random.Random(seed)
    diffs = sorted(statistics.median(rng.choices(a, k=len(a))) - statistics.median(rng.choices(b, k=len(b)))
                   for _ in range(rounds))
    return diffs[int(0.025 * rounds)], diffs[int(0.975 * rounds) - 1]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--graybox", default="build/apps/graybox")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--evals", type=int, default=40)
    parser.add_argument("--methods", default="tpe,tpe_indep,optuna,optuna_mv,random,gp")
    parser.add_argument("--parallel", default="1", help="graybox: comma-separated --parallel values")
    parser.add_argument("--tasks", default="branin,hartmann6")
    args = parser.parse_args()

    methods = args.methods.split(",")
    unknown = [m for m in methods if m not in GRAYBOX_METHODS and m not in ("optuna", "optuna_mv")]
    if unknown:
        sys.exit(f"--methods: unknown {','.join(unknown)}")
    parallels = [int(p) for p in args.parallel.split(",")]
    if any(m in GRAYBOX_METHODS for m in methods) and not os.access(args.graybox, os.X_OK):
        sys.exit(f"{args.graybox}: no graybox binary (build it, or pass --graybox PATH)")
    seeds = list(range(1, args.seeds + 1))
    import optuna

    print(f"median (mean) best value over seeds 1-{args.seeds} at {args.evals} evaluations; "
          f"Optuna {optuna.__version__} TPESampler; diff = median - Optuna default median [95 % bootstrap]")
    print("| task (optimum) | method | parallel | median | mean | diff vs optuna |")
    print("|---|---|---:|---:|---:|---|")
    with tempfile.TemporaryDirectory() as workdir:
        for task in args.tasks.split(","):
            reference = None
            if "optuna" in methods:  # first, so every graybox row can be compared with it
                methods = ["optuna"] + [m for m in methods if m != "optuna"]
            for method in methods:
                for parallel in (parallels if method in GRAYBOX_METHODS else [1]):
                    if method in ("optuna", "optuna_mv"):
                        bests = [optuna_best(task, s, args.evals, method == "optuna_mv") for s in seeds]
                        label = "optuna tpe" + (" multivariate" if method == "optuna_mv" else "")
                    else:
                        bests = [graybox_best(args.graybox, workdir, task, method, s, args.evals, parallel)
                                 for s in seeds]
                        label = f"graybox {method}"
                    if method == "optuna":
                        reference = bests
                    diff = ""
                    if reference is not None and method != "optuna":
                        lo, hi = median_difference_interval(bests, reference)
                        diff = (f"{statistics.median(bests) - statistics.median(reference):+.4f} "
                                f"[{lo:+.4f}, {hi:+.4f}]")
                    print(f"| {task} ({TASKS[task]['optimum']}) | {label} | {parallel} | "
                          f"{statistics.median(bests):.4f} | {statistics.mean(bests):.4f} | {diff} |", flush=True)


if __name__ == "__main__":
    main()
