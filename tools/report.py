#!/usr/bin/python3
"""Pictures of one graybox run directory (train, fit, tune, PBT), drawn from its store.sqlite.

usage: report.py RUN_DIR OUT_DIR [--metric NAME] [--summary-file FILE]

Writes into OUT_DIR: curves.png (learning curves of every trial or member), hyperparameters.png
(each hyperparameter over steps, per member, where any changes), lineage.png (PBT: who copied whom,
when), final.png (final score per trial or member) and index.html, which shows them with the
summary table. Needs Debian's python3-matplotlib (apt-get install python3-matplotlib).
"""
import argparse
import html
import json
import os
import sqlite3
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402

# Metrics a learning curve is drawn from, in order of preference, when --metric is not given.
PREFERRED = ["charts/episodic_return", "eval/mean_return", "val/accuracy", "val/loss", "objective",
             "train/loss", "pbt/score", "tune/score"]


def load(run_dir):
    db = sqlite3.connect("file:" + os.path.join(run_dir, "store.sqlite") + "?mode=ro", uri=True)
    metrics = db.execute("SELECT trial, step, name, value FROM metrics ORDER BY trial, step").fetchall()
    hypers = db.execute("SELECT trial, step, name, value FROM hyperparameters ORDER BY trial, step").fetchall()
    events = db.execute("SELECT trial, step, kind, detail FROM events ORDER BY trial, step").fetchall()
    trials = db.execute("SELECT trial, config, budget, loss, score, status FROM trials ORDER BY trial").fetchall()
    meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
    # The resume state's log says which runner wrote the store (a store of the first schema
    # has no log: its state is a meta row, pbt_state or controller_state).
    if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'state_log'").fetchone():
        for (key,) in db.execute("SELECT DISTINCT key FROM state_log").fetchall():
            meta.setdefault({"pbt": "pbt_state", "tune": "controller_state"}.get(key, key), "")
    return metrics, hypers, events, trials, meta


def pick_metric(metrics, wanted):
    names = {}
    for _, _, name, value in metrics:
        if value is not None:
            names[name] = names.get(name, 0) + 1
    if wanted:
        if wanted not in names:
            sys.exit("report: the store has no metric '%s' (it has: %s)" % (wanted, ", ".join(sorted(names))))
        return wanted
    for name in PREFERRED:
        if name in names:
            return name
    return max(names, key=names.get) if names else None


def step_count(x, _pos=None):
    """A tick label for a count of steps: 500, 250k, 1M, 1.5M (no offset text like '1e6'
    over the axis label)."""
    for scale, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(x) >= scale and abs(x) >= 1e4:
            return ("%.2f" % (x / scale)).rstrip("0").rstrip(".") + suffix
    return "%g" % x


def labelled(ax, title, xlabel, ylabel, steps=False):
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    if steps:
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(step_count))
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)


def legend(ax, count):
    if count <= 12:
        ax.legend(fontsize="small", loc="best")
    else:
        ax.text(0.99, 0.01, "%d trials" % count, transform=ax.transAxes, ha="right", va="bottom")


def unit_of(meta):
    if "pbt_state" in meta or "controller_state" in meta:
        return "trainable steps (env steps, minibatches or synthetic steps)"
    return "env steps" if "agent:" in meta.get("config", "") else "minibatches"


def run_metric(run_dir):
    """The tune run's score metric and whether it is maximised, from its summary.json."""
    try:
        with open(os.path.join(run_dir, "summary.json")) as f:
            summary = json.load(f)
        better = {"min": "lower is better", "max": "higher is better"}.get(summary.get("mode"), "")
        return "%s (%s)" % (summary["metric"], better) if better else summary["metric"]
    except (OSError, ValueError, KeyError):
        return "final score"


def draw_curves(metrics, metric, out, xunit, who):
    series = {}
    for trial, step, name, value in metrics:
        if name == metric and value is not None:
            series.setdefault(trial, []).append((step, value))
    if not series:
        return None
    fig, ax = plt.subplots(figsize=(8, 4.5))
    smoothed = False
    for trial, points in sorted(series.items()):
        xs, ys = zip(*points)
        if len(xs) < 100:
            ax.plot(xs, ys, marker="." if len(xs) < 40 else None, linewidth=1.2, label="%s %d" % (who, trial))
            continue
        # Many noisy points (episodes): the raw values faint, their running mean over a window
        # of a twentieth of the points on top.
        window = max(5, len(ys) // 20)
        line, = ax.plot(xs, ys, linewidth=0.6, alpha=0.25)
        means = [sum(ys[max(0, k - window + 1):k + 1]) / (k + 1 - max(0, k - window + 1)) for k in range(len(ys))]
        ax.plot(xs, means, linewidth=1.8, color=line.get_color(), label="%s %d (running mean)" % (who, trial))
        smoothed = True
    labelled(ax, "Learning curves: %s%s" % (metric, " (faint: every value)" if smoothed else ""), xunit, metric, steps=True)
    legend(ax, len(series))
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


# Metrics that log a hyperparameter at every update (a schedule's value): finer than the
# hyperparameters table, which holds the values set at the start and at each exploit.
LOGGED_HYPERPARAMETERS = {"charts/learning_rate": "learning_rate", "charts/weight_decay": "weight_decay"}


def draw_hyperparameters(hypers, metrics, last_step, out, xunit, who):
    changing = {}
    for trial, step, name, value in hypers:
        changing.setdefault(name, {}).setdefault(trial, []).append((step, value))
    logged = {}
    for trial, step, name, value in metrics:
        if name in LOGGED_HYPERPARAMETERS and value is not None:
            logged.setdefault(LOGGED_HYPERPARAMETERS[name], {}).setdefault(trial, []).append((step, value))
    for name, per in logged.items():
        changing.setdefault(name, {}).update(per)
    for per in changing.values():  # each value holds until the member's last step
        for trial, points in per.items():
            if last_step.get(trial, 0) > points[-1][0]:
                points.append((last_step[trial], points[-1][1]))
    names = [n for n, per in sorted(changing.items()) if len({v for pts in per.values() for _, v in pts}) > 1]
    if not names:
        return None
    fig, axes = plt.subplots(len(names), 1, figsize=(8, 2.8 * len(names)), squeeze=False)
    for ax, name in zip(axes[:, 0], names):
        for trial, points in sorted(changing[name].items()):
            xs, ys = zip(*points)
            ax.step(xs, ys, where="post", marker="o" if len(xs) < 40 else None, markersize=3,
                    label="%s %d" % (who, trial))
        positive = all(v > 0 for pts in changing[name].values() for _, v in pts)
        values = [v for pts in changing[name].values() for _, v in pts]
        if positive and max(values) / min(values) > 20:
            ax.set_yscale("log")
        labelled(ax, "Hyperparameter %s over training" % name, xunit, name, steps=True)
        legend(ax, len(changing[name]))
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def draw_lineage(events, trials, out, xunit):
    exploits = []
    for trial, step, kind, detail in events:
        if kind == "exploit":
            e = json.loads(detail)
            exploits.append((e["member"], e["member_step"], e["donor"], e["donor_step"]))
    if not exploits:
        return None
    members = sorted({t[0] for t in trials} | {x[0] for x in exploits} | {x[2] for x in exploits})
    final = {t[0]: t[2] for t in trials}
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(members) + 2))
    for m in members:
        ax.hlines(m, 0, max(final.get(m, 0), max(x[1] for x in exploits)), color="0.8", linewidth=4, zorder=1)
    for member, member_step, donor, donor_step in exploits:
        ax.annotate("", xy=(member_step, member), xytext=(donor_step, donor),
                    arrowprops=dict(arrowstyle="->", color="tab:blue", alpha=0.7), zorder=2)
    ax.plot([], [], color="tab:blue", label="exploit: donor's state copied to member")
    ax.set_yticks(members)
    ax.set_yticklabels(["member %d" % m for m in members])
    labelled(ax, "PBT lineage (%d exploits)" % len(exploits), xunit, "population member", steps=True)
    ax.legend(fontsize="small", loc="upper left")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def draw_final(trials, metric_name, out):
    scored = [(t[0], t[4]) for t in trials if t[4] is not None]
    if not scored:
        return None
    fig, ax = plt.subplots(figsize=(8, 4))
    ids, scores = zip(*scored)
    ax.bar([str(i) for i in ids], scores, color="tab:green")
    labelled(ax, "Final score per trial", "trial / member", metric_name)
    if len(ids) > 20:
        ax.set_xticks(ax.get_xticks()[:: max(1, len(ids) // 20)])
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def figures_html(pictures):
    """The <figure>s of (title, path) pictures that lie beside index.html."""
    return "".join('<figure><img src="%s" alt="%s"><figcaption>%s</figcaption></figure>'
                   % (os.path.basename(p), html.escape(title), html.escape(title)) for title, p in pictures)


def write_page(out_dir, title, body, max_width=960, table_css=""):
    """index.html in out_dir: a page titled `title` around `body` (HTML); returns its path."""
    page = ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>%s</title>"
            "<style>body{font-family:sans-serif;max-width:%dpx;margin:auto}img{max-width:100%%}"
            "table{border-collapse:collapse%s}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}</style>"
            "</head><body>%s</body></html>" % (html.escape(title), max_width, table_css, body))
    path = os.path.join(out_dir, "index.html")
    with open(path, "w") as f:
        f.write(page)
    return path


def write_index(out_dir, run_dir, pictures, trials, summary):
    rows = "".join(
        "<tr><td>%d</td><td><code>%s</code></td><td>%s</td><td>%s</td><td>%s</td></tr>"
        % (t[0], html.escape(t[1] or ""), t[2], "" if t[4] is None else "%.6g" % t[4], html.escape(t[5] or ""))
        for t in trials)
    stats = "".join("<tr><th>%s</th><td>%s</td></tr>" % (html.escape(k), html.escape(v)) for k, v in summary)
    body = ("<h1>graybox report</h1><p><code>%s</code></p><h2>Summary</h2><table>%s</table>"
            "%s<h2>Trials</h2><table><tr><th>trial</th><th>configuration</th><th>budget</th><th>score</th>"
            "<th>status</th></tr>%s</table>" % (html.escape(run_dir), stats, figures_html(pictures), rows))
    write_page(out_dir, "graybox report: " + run_dir, body)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir")
    parser.add_argument("out_dir")
    parser.add_argument("--metric", default="")
    parser.add_argument("--summary-file", default="", help="a JSON file: a list of [name, value] rows for the summary table")
    args = parser.parse_args()
    metrics, hypers, events, trials, meta = load(args.run_dir)
    os.makedirs(args.out_dir, exist_ok=True)
    metric = pick_metric(metrics, args.metric)
    xunit = unit_of(meta)
    who = "member" if "pbt_state" in meta else "trial"
    last_step = {}
    for trial, step, _, _ in metrics:
        last_step[trial] = max(step, last_step.get(trial, 0))
    pictures = []
    for title, path in [
        ("Learning curves", metric and draw_curves(metrics, metric, os.path.join(args.out_dir, "curves.png"), xunit, who)),
        ("Hyperparameters", draw_hyperparameters(hypers, metrics, last_step, os.path.join(args.out_dir, "hyperparameters.png"), xunit, who)),
        ("PBT lineage", draw_lineage(events, trials, os.path.join(args.out_dir, "lineage.png"), xunit)),
        ("Final score", draw_final(trials, run_metric(args.run_dir), os.path.join(args.out_dir, "final.png"))),
    ]:
        if path:
            pictures.append((title, path))
            print(path)
    summary = []
    if args.summary_file:
        with open(args.summary_file) as f:
            summary = json.load(f)
    write_index(args.out_dir, args.run_dir, pictures, trials, [(str(k), str(v)) for k, v in summary])
    print(os.path.join(args.out_dir, "index.html"))


if __name__ == "__main__":
    main()
