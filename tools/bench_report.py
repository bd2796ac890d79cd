#!/usr/bin/python3
"""Pictures of one graybox benchmark directory (graybox bench), drawn from the plan and cells of
its store (which graybox report writes to CELLS_JSON, wherever the store is: the directory's
store.sqlite or a PostgreSQL study), the cells' own run directories and the tables graybox report
computed (results.csv, profiles.csv).

usage: bench_report.py BENCH_DIR OUT_DIR CELLS_JSON

Writes into OUT_DIR: final.png (IQM and mean score per method with 95 % stratified bootstrap
intervals, per task and overall), improvement.png (probability of improvement over the baseline
with its interval), profiles.png (performance profiles), curves.png (learning curves of the
scoring run, mean over seeds with a 95 % bootstrap band) and index.html, which shows them with
the tables. Needs Debian's python3-matplotlib.
"""
import csv
import html
import json
import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402  (the run report's store reader and axis helpers)

import numpy as np  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402


def read_csv(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def scopes_of(rows):
    scopes = []
    for r in rows:
        if r["scope"] not in scopes:
            scopes.append(r["scope"])
    return scopes


def score_label(plan, scope, bench_dir):
    if scope == "overall":
        return "normalised score (0: task's worst run, 1: best)"
    try:
        with open(os.path.join(bench_dir, "tasks", scope + ".yaml")) as f:
            supervised = any(line.startswith("data:") for line in f)
    except OSError:
        supervised = False
    if supervised:
        what = "test accuracy"
    else:
        what = "eval return" if plan["score"] == "eval" else "final return"
    return "%s (%s is better)" % (what, "higher" if plan["maximize"] else "lower")


def subplots(count, height):
    cols = min(count, 3)
    rows = (count + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, height * rows), squeeze=False)
    for ax in axes.flat[count:]:
        ax.axis("off")
    return fig, list(axes.flat[:count])


def save(fig, path):
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def draw_final(rows, plan, bench_dir, out):
    scopes = scopes_of(rows)
    fig, axes = subplots(len(scopes), 0.45 * len(plan["methods"]) + 1.8)
    for ax, scope in zip(axes, scopes):
        here = [r for r in rows if r["scope"] == scope]
        ys = np.arange(len(here))
        for y, r in zip(ys, here):
            iqm, lo, hi = float(r["iqm"]), float(r["iqm_low"]), float(r["iqm_high"])
            ax.errorbar(iqm, y + 0.12, xerr=[[iqm - lo], [hi - iqm]], fmt="o", color="tab:blue", capsize=3,
                        label="IQM [95% CI]" if y == 0 else None)
            mean, mlo, mhi = float(r["mean"]), float(r["mean_low"]), float(r["mean_high"])
            ax.errorbar(mean, y - 0.12, xerr=[[mean - mlo], [mhi - mean]], fmt="s", mfc="white", color="tab:orange",
                        capsize=3, label="mean [95% CI]" if y == 0 else None)
        ax.set_yticks(ys)
        ax.set_yticklabels(["%s (n=%s)" % (r["method"], r["runs"]) for r in here])
        ax.invert_yaxis()
        report.labelled(ax, scope, score_label(plan, scope, bench_dir), "method")
        ax.legend(fontsize="small", loc="best")
    return save(fig, out)


def draw_improvement(rows, plan, out):
    rows = [r for r in rows if r["improvement"] != ""]
    if not rows:
        return None
    scopes = scopes_of(rows)
    fig, axes = subplots(len(scopes), 0.45 * len(plan["methods"]) + 1.8)
    for ax, scope in zip(axes, scopes):
        here = [r for r in rows if r["scope"] == scope]
        ys = np.arange(len(here))
        for y, r in zip(ys, here):
            p, lo, hi = float(r["improvement"]), float(r["improvement_low"]), float(r["improvement_high"])
            colour = {"better": "tab:green", "worse": "tab:red"}.get(r["significant"], "tab:gray")
            ax.errorbar(p, y, xerr=[[p - lo], [hi - p]], fmt="o", color=colour, capsize=3)
        ax.axvline(0.5, color="0.5", linestyle="--", linewidth=1)
        ax.set_xlim(-0.02, 1.02)
        ax.set_yticks(ys)
        ax.set_yticklabels([r["method"] for r in here])
        ax.invert_yaxis()
        report.labelled(ax, scope, "P(method better than %s) [95%% CI]" % plan["baseline"], "method")
    ax.text(0.99, 0.01, "green/red: interval excludes 0.5", transform=ax.transAxes, ha="right", va="bottom", fontsize="small")
    return save(fig, out)


def draw_profiles(profiles, plan, bench_dir, out):
    scopes = scopes_of(profiles)
    fig, axes = subplots(len(scopes), 3.4)
    for ax, scope in zip(axes, scopes):
        for method in plan["methods"]:
            pts = [(float(p["tau"]), float(p["fraction"])) for p in profiles
                   if p["scope"] == scope and p["method"] == method["name"]]
            if pts:
                xs, ys = zip(*pts)
                ax.plot(xs, ys, linewidth=1.6, marker=".", label=method["name"])
        better = "above" if plan["maximize"] or scope == "overall" else "below"
        report.labelled(ax, "Performance profile: " + scope, "threshold τ: " + score_label(plan, scope, bench_dir),
                        "fraction of runs %s τ" % better)
        ax.set_ylim(-0.02, 1.02)
        ax.legend(fontsize="small", loc="best")
    return save(fig, out)


def cell_metrics(cell_dir):
    """The scoring run's metrics (the run, or a tune run's best trial or member): {name: [(step, value)]}."""
    path = os.path.join(cell_dir, "store.sqlite")
    if not os.path.exists(path):
        return {}
    trial = 0
    try:
        with open(os.path.join(cell_dir, "summary.json")) as f:
            trial = int(json.load(f).get("best_trial", 0))
    except (OSError, ValueError):
        pass
    series = {}
    for t, step, name, value in report.load(cell_dir)[0]:
        if t == trial and value is not None:
            series.setdefault(name, []).append((step, value))
    return series


def curve_metric(cells_series):
    """One metric for a whole panel: the first of report.PREFERRED that some cell has a curve of
    (at least 2 points), so every line of a panel measures the same thing."""
    for name in report.PREFERRED:
        if any(len(series.get(name, [])) >= 2 for series in cells_series):
            return name
    return None


def as_curve(points):
    xs, ys = np.array([p[0] for p in points], float), np.array([p[1] for p in points], float)
    if len(ys) >= 100:  # episodes: a running mean over 10
        ys = np.convolve(ys, np.ones(10) / 10, mode="full")[: len(ys)]
        ys[:9] = [np.mean(ys[: k + 1]) for k in range(9)]
    return xs, ys


def draw_curves(cells, plan, bench_dir, out):
    """Returns the picture's path (None if nothing was drawn) and one line per task: the metric
    drawn, the methods drawn, and the methods whose scoring run has no curve of it."""
    tasks = [t["name"] for t in plan["tasks"]]
    fig, axes = subplots(len(tasks), 3.6)
    rng = np.random.default_rng(0)
    drawn, lines = 0, []
    for ax, task in zip(axes, tasks):
        per_method = []
        for method in plan["methods"]:
            series = [cell_metrics(os.path.join(bench_dir, c["dir"])) for c in cells
                      if c["task"] == task and c["method"] == method["name"]]
            per_method.append((method["name"], series))
        metric = curve_metric([s for _, all_series in per_method for s in all_series])
        shown, missing = [], []
        for name, all_series in per_method:
            curves = [as_curve(s[metric]) for s in all_series if metric and len(s.get(metric, [])) >= 2]
            if not curves:
                missing.append(name)
                continue
            end = min(c[0][-1] for c in curves)
            start = max(c[0][0] for c in curves)
            grid = np.linspace(start, end, 60)
            values = np.array([np.interp(grid, c[0], c[1]) for c in curves])
            mean = values.mean(axis=0)
            line, = ax.plot(grid, mean, linewidth=1.6, label="%s (n=%d)" % (name, len(curves)))
            if len(curves) > 1:
                boots = values[rng.integers(0, len(curves), size=(1000, len(curves)))].mean(axis=1)
                ax.fill_between(grid, np.percentile(boots, 2.5, axis=0), np.percentile(boots, 97.5, axis=0),
                                color=line.get_color(), alpha=0.2)
            shown.append(name)
            drawn += 1
        metric_name = metric or "no curve"
        unit = "env steps" if metric_name.startswith("charts/") else "minibatches" if metric_name.startswith(("val/", "train/")) else "steps"
        report.labelled(ax, "%s: the scoring run" % task, "%s of that run (a tune cell: its best trial/member)" % unit,
                        "%s (mean, 95%% band)" % metric_name, steps=True)
        if missing and shown:
            ax.text(0.01, 0.01, "no curve of it: " + ", ".join(missing), transform=ax.transAxes, fontsize="small",
                    va="bottom", ha="left", color="0.35")
        if shown:
            ax.legend(fontsize="small", loc="best")
        lines.append("curves %s: %s: %s%s" % (task, metric_name, ", ".join(shown) or "-",
                                              "; no curve of it: " + ", ".join(missing) if missing else ""))
    if drawn == 0:
        plt.close(fig)
        return None, lines
    return save(fig, out), lines


def table_html(rows, baseline):
    head = ["scope", "method", "runs", "mean [95% CI]", "median [95% CI]", "IQM [95% CI]",
            "P(better than %s) [95%% CI]" % baseline, "significant", "steps per cell"]
    fmt = lambda r, k: "%.4g [%.4g, %.4g]" % (float(r[k]), float(r[k + "_low"]), float(r[k + "_high"]))  # noqa: E731
    body = ""
    for r in rows:
        cells = [r["scope"], r["method"], r["runs"], fmt(r, "mean"), fmt(r, "median"), fmt(r, "iqm"),
                 fmt(r, "improvement") if r["improvement"] else "(baseline)", r["significant"],
                 "%.0f%s" % (float(r["mean_spent"]), " (off budget)" if r["budget_off"] == "1" else "")]
        body += "<tr>" + "".join("<td>%s</td>" % html.escape(c) for c in cells) + "</tr>"
    return "<table><tr>%s</tr>%s</table>" % ("".join("<th>%s</th>" % html.escape(h) for h in head), body)


def meta_training_html(meta):
    """The control methods' meta-training cost, apart from the cells' budgets."""
    if not meta:
        return ""
    head = ["method", "status", "control steps", "episodes", "minibatches", "seconds"]
    body = "".join("<tr>%s</tr>" % "".join("<td>%s</td>" % html.escape(str(c)) for c in [
        m["method"], m["status"], m["control_steps"], m["episodes"], m["minibatches"], "%.1f" % m["wall_seconds"]]) for m in meta)
    return ("<h2>Meta-training</h2><p>Apart from the budgets above: each control cell's budget is its deployment, "
            "a fit run steered by the policy.</p><table><tr>%s</tr>%s</table>"
            % ("".join("<th>%s</th>" % h for h in head), body))


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    bench_dir, out_dir = sys.argv[1], sys.argv[2]
    with open(sys.argv[3]) as f:
        saved = json.load(f)
    plan, cells = saved["plan"], saved["cells"]
    rows = read_csv(os.path.join(out_dir, "results.csv"))
    profiles = read_csv(os.path.join(out_dir, "profiles.csv"))
    pictures = []
    curves, curve_lines = draw_curves(cells, plan, bench_dir, os.path.join(out_dir, "curves.png"))
    for title, path in [
        ("Final score per method (IQM and mean, 95 % stratified bootstrap intervals)", rows and draw_final(rows, plan, bench_dir, os.path.join(out_dir, "final.png"))),
        ("Probability of improvement over " + plan["baseline"], rows and draw_improvement(rows, plan, os.path.join(out_dir, "improvement.png"))),
        ("Performance profiles", profiles and draw_profiles(profiles, plan, bench_dir, os.path.join(out_dir, "profiles.png"))),
        ("Learning curves", curves),
    ]:
        if path:
            pictures.append((title, path))
            print(path)
    for line in curve_lines:
        print(line)
    body = ("<h1>graybox benchmark</h1><p><code>%s</code>: %d cells done, %d seeds, baseline %s%s</p>"
            "<h2>Results</h2>%s%s%s"
            % (html.escape(bench_dir), len(cells), len(plan["seeds"]), html.escape(plan["baseline"]),
               " (smoke)" if plan["smoke"] else "", table_html(rows, plan["baseline"]),
               meta_training_html(saved.get("meta_training", [])), report.figures_html(pictures)))
    print(report.write_page(out_dir, "graybox benchmark: " + bench_dir, body, max_width=1400,
                            table_css=";font-size:small"))


if __name__ == "__main__":
    main()
