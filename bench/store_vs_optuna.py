"""Throughput of graybox's PostgreSQL store against Optuna 3.1's RDBStorage, on one server.

Starts a throwaway PostgreSQL 15 (initdb into a temp dir, pg_ctl on a free loopback port, as the
postgres user when run as root), then, each in a database of its own on that server:
- graybox: a random search of --trials trials of a zero-cost objective (task branin, budget 1)
  set up with `graybox tune --workers-only`, worked by --workers `graybox worker` processes;
- optuna: the same number of trials of Branin with RandomSampler, by --workers processes sharing
  one RDBStorage study (each optimize() stops at --trials complete trials: MaxTrialsCallback);
- with --baseline-graybox PATH, the same graybox run with another graybox binary (an older one).
Printed per system: trials, wall seconds (processes started to all ended), trials/s sustained
(between the first and the last commit, so start-up is left out), the seconds the first 100
and the last 100 trials took (commit times), and with --log-statements (log_statement = all)
the SQL statements the server ran per trial.

Usage (Debian's python3-optuna and python3-psycopg2 run under /usr/bin/python3 only):
  /usr/bin/python3 bench/store_vs_optuna.py [--graybox build/apps/graybox] [--trials 2000]
      [--workers 8] [--log-statements] [--baseline-graybox PATH] [--skip-optuna]
"""

import argparse
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

PG_BIN = "/usr/lib/postgresql/15/bin/"


class Server:
    """A PostgreSQL server in a temp dir, as the postgres user when root (the server refuses root)."""

    def __init__(self, log_statements):
        self.dir = tempfile.mkdtemp(prefix="store_vs_optuna_")
        if os.getuid() == 0:
            shutil.chown(self.dir, "postgres")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.log = os.path.join(self.dir, "server.log")
        self.run(f"{PG_BIN}initdb -D {self.dir}/data -A trust -U postgres --no-sync -E UTF8 > {self.dir}/initdb.log 2>&1")
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        if log_statements:
            options += " -c log_statement=all -c log_line_prefix='%d '"
        self.run(f'{PG_BIN}pg_ctl -D {self.dir}/data -l {self.log} -w -t 30 -o "{options}" start > /dev/null')

    def run(self, command):
        line = ["sh", "-c", command]
        if os.getuid() == 0:
            line = ["runuser", "-u", "postgres", "--"] + line
        subprocess.run(line, check=True, timeout=120)

    def database(self, name):
        self.run(f"{PG_BIN}psql -q -h 127.0.0.1 -p {self.port} -U postgres -c 'CREATE DATABASE {name}' postgres")
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def query(self, db, sql):
        out = subprocess.run([PG_BIN + "psql", "-At", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", db,
                              "-c", sql], check=True, capture_output=True, text=True).stdout
        return [line for line in out.splitlines() if line]

    def statements(self, db, since):
        """Statements the server logged for `db` after byte `since` of its log."""
        if not os.path.exists(self.log):
            return 0
        n = 0
        with open(self.log, "rb") as f:
            f.seek(since)
            for line in f:
                if line.startswith(db.encode() + b" LOG:  ") and (b"statement: " in line or b"execute " in line):
                    n += 1
        return n

    def log_size(self):
        return os.path.getsize(self.log) if os.path.exists(self.log) else 0

    def stop(self):
        self.run(f"{PG_BIN}pg_ctl -D {self.dir}/data -m fast -w -t 30 stop > /dev/null")
        shutil.rmtree(self.dir, ignore_errors=True)


def summary(name, commits, wall, statements):
    commits = sorted(commits)
    n = len(commits)
    span = commits[-1] - commits[0] if n > 1 else float("nan")
    return {"system": name, "trials": n, "wall": wall, "rate": (n - 1) / span if span > 0 else float("nan"),
            "first100": commits[min(99, n - 1)] - commits[0], "last100": commits[-1] - commits[max(0, n - 100)],
            "statements": statements / n if statements else float("nan")}


def run_graybox(server, binary, trials, workers, label, work):
    db = label.replace("-", "_")
    url = server.database(db)
    config = os.path.join(work, db + ".yaml")
    with open(config, "w") as f:
        f.write(f"seed: 1\ntask: branin\ntune:\n  algorithm: random\n  num_trials: {trials}\n  max_budget: 1\n"
                "search_space:\n  x1: {type: float, low: -5, high: 10}\n  x2: {type: float, low: 0, high: 15}\n")
    storage = ["--storage", url, "--study", "bench"]
    subprocess.run([binary, "tune", config, "--out", os.path.join(work, db), "--workers-only", "--quiet"] + storage,
                   check=True, stdout=subprocess.DEVNULL)
    since = server.log_size()
    started = time.time()
    procs = [subprocess.Popen([binary, "worker", "--quiet"] + storage) for _ in range(workers)]
    codes = [p.wait(timeout=3600) for p in procs]
    wall = time.time() - started
    if any(codes):
        sys.exit(f"{label}: a worker exited with {codes}")
    commits = [float(v) for v in server.query(db, "SELECT wall FROM graybox_trials WHERE study = 'bench'")]
    return summary(label, commits, wall, server.statements(db, since))


def branin(x1, x2):
    a, b, c, r, s, t = 1.0, 5.1 / (4 * math.pi ** 2), 5 / math.pi, 6.0, 10.0, 1 / (8 * math.pi)
    return a * (x2 - b * x1 ** 2 + c * x1 - r) ** 2 + s * (1 - t) * math.cos(x1) + s


def optuna_worker(url, trials, seed):
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name="bench", storage=url, sampler=optuna.samplers.RandomSampler(seed=seed))
    stop = optuna.study.MaxTrialsCallback(trials, states=(optuna.trial.TrialState.COMPLETE,))
    study.optimize(lambda t: branin(t.suggest_float("x1", -5, 10), t.suggest_float("x2", 0, 15)), n_trials=trials,
                   callbacks=[stop])


def run_optuna(server, trials, workers):
    import optuna
    url = server.database("optuna").replace("postgresql://", "postgresql+psycopg2://")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    optuna.create_study(study_name="bench", storage=url)
    since = server.log_size()
    started = time.time()
    procs = [subprocess.Popen([sys.executable, __file__, "--optuna-worker", url, "--trials", str(trials), "--seed", str(i)])
             for i in range(workers)]
    codes = [p.wait(timeout=7200) for p in procs]
    wall = time.time() - started
    if any(codes):
        sys.exit(f"optuna: a worker exited with {codes}")
    commits = [float(v) for v in server.query(
        "optuna", "SELECT EXTRACT(EPOCH FROM datetime_complete) FROM trials WHERE state = 'COMPLETE'")]
    return summary("optuna 3.1", commits, wall, server.statements("optuna", since))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--graybox", default="build/apps/graybox")
    p.add_argument("--baseline-graybox", default="")
    p.add_argument("--trials", type=int, default=2000)
    p.add_argument("--workers", type=int, default=8)
    p.add_argument("--log-statements", action="store_true")
    p.add_argument("--skip-optuna", action="store_true")
    p.add_argument("--optuna-worker", default="", help=argparse.SUPPRESS)
    p.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.optuna_worker:
        optuna_worker(args.optuna_worker, args.trials, args.seed)
        return

    server = Server(args.log_statements)
    work = tempfile.mkdtemp(prefix="store_vs_optuna_runs_")
    rows = []
    try:
        rows.append(run_graybox(server, os.path.abspath(args.graybox), args.trials, args.workers, "graybox", work))
        if args.baseline_graybox:
            rows.append(run_graybox(server, os.path.abspath(args.baseline_graybox), args.trials, args.workers,
                                    "graybox-baseline", work))
        if not args.skip_optuna:
            rows.append(run_optuna(server, args.trials, args.workers))
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)

    print(f"{args.workers} processes, {args.trials} trials of a zero-cost objective, one PostgreSQL 15 server")
    print(f"{'system':<18}{'trials':>7}{'wall s':>9}{'trials/s':>10}{'first 100 s':>13}{'last 100 s':>12}{'stmts/trial':>13}")
    for r in rows:
        print(f"{r['system']:<18}{r['trials']:>7}{r['wall']:>9.1f}{r['rate']:>10.1f}{r['first100']:>13.2f}{r['last100']:>12.2f}"
              f"{r['statements']:>13.1f}")
    optuna_rows = [r for r in rows if r["system"].startswith("optuna")]
    if optuna_rows and optuna_rows[0]["rate"] > 0:
        print(f"graybox / optuna trials/s: {rows[0]['rate'] / optuna_rows[0]['rate']:.1f}x")


if __name__ == "__main__":
    main()
