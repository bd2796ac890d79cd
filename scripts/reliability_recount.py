#!/usr/bin/env python3
"""Re-tries issue 11's failed cases as a user would, with the shipped configs, and counts them.

Each case runs the graybox executable in a scratch directory and checks what a user must see:
bad input exits 2 with one message naming the file, key or path (never "internal error" or a
LibTorch trace); a fault loses nothing and a resume continues. Prints one line per case and the
count. Not part of the test suite (the suite holds the same checks on tiny configs, in
tests/apps/test_cli_bad_input.cpp and test_cli_faults.cpp); this is the issue's recount.

Usage: python3 scripts/reliability_recount.py [--binary build/apps/graybox] [--only SUBSTRING]
"""
import argparse
import gzip
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASES = []


def case(item, name):
    def register(fn):
        CASES.append((item, name, fn))
        return fn
    return register


class Ctx:
    def __init__(self, binary, scratch):
        self.binary = binary
        self.scratch = scratch

    def path(self, *parts):
        return os.path.join(self.scratch, *parts)

    def write(self, name, text):
        p = self.path(name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)
        return p

    def run(self, args, limit=None, cwd=None, timeout=600):
        """Runs graybox ARGS (a list); `limit` is a shell prefix such as 'ulimit -f 2000'."""
        if limit:
            quoted = " ".join("'" + a.replace("'", "'\\''") + "'" for a in [self.binary] + args)
            cmd = ["sh", "-c", "trap '' XFSZ; " + limit + "; exec " + quoted]
        else:
            cmd = [self.binary] + args
        p = subprocess.run(cmd, cwd=cwd or self.scratch, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout)
        return p.returncode, p.stdout.decode("utf-8", "replace")

    def start(self, args):
        return subprocess.Popen([self.binary] + args, cwd=self.scratch, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)


def shipped(name):
    return os.path.join(ROOT, "configs", name)


def tiny_train():
    """The shipped InvertedPendulum PPO config, with a budget of seconds."""
    return ["train", shipped("train/ppo_inverted_pendulum.yaml"), "--quiet", "--set", "total_steps=4096",
            "--set", "checkpoint.interval=2048", "--set", "eval.episodes=0"]


def tiny_fit():
    return ["fit", shipped("fit/digits_mlp.yaml"), "--quiet", "--set", "train.epochs=2"]


def user_error(code, out, *needles):
    """Exit 2, every needle in the message, no internal error or trace."""
    problems = []
    if code != 2:
        problems.append("exit %d, not 2" % code)
    for n in needles:
        if n not in out:
            problems.append("no %r" % n)
    for bad in ("internal error", "frame #", "c10::Error", "Segmentation"):
        if bad in out:
            problems.append("output holds %r" % bad)
    return problems


def summary(run_dir):
    with open(os.path.join(run_dir, "summary.json")) as f:
        return json.load(f)


def duplicate_rows(run_dir):
    """The run store's duplicate (study, trial, step, name) metric rows, as a list of problems."""
    db = sqlite3.connect(os.path.join(run_dir, "store.sqlite"))
    try:
        total = db.execute("SELECT COUNT(*) FROM metrics").fetchone()[0]
        distinct = db.execute("SELECT COUNT(*) FROM (SELECT DISTINCT study, trial, step, name FROM metrics)").fetchone()[0]
    finally:
        db.close()
    return ["%d duplicate metric rows" % (total - distinct)] if total != distinct else []


# ---- 1. crashes ------------------------------------------------------------------------------
for value, needle in (("100000", "tune.parallel"), ("0", "out of range"), ("-1", "out of range")):
    @case(1, "tune --parallel " + value)
    def _(ctx, value=value, needle=needle):
        code, out = ctx.run(["tune", shipped("tune/branin_random.yaml"), "--parallel", value, "--quiet",
                             "--out", ctx.path("t")])
        return user_error(code, out, "--parallel " + value, needle)


@case(2, "train on a full disk (file-size limit at the store and checkpoint writes)")
def _(ctx):
    problems = []
    for limit in ("ulimit -f 40", "ulimit -f 2000"):
        out_dir = ctx.path("full_" + limit.split()[-1])
        code, out = ctx.run(tiny_train() + ["--set", "agent.hidden_sizes=[512,512]", "--out", out_dir], limit=limit)
        problems += [limit + ": " + p for p in user_error(code, out, out_dir + "/", "File too large")]
    return problems


@case(2, "fit on a full disk")
def _(ctx):
    problems = []
    for limit in ("ulimit -f 40", "ulimit -f 600"):
        out_dir = ctx.path("fitfull_" + limit.split()[-1])
        code, out = ctx.run(tiny_fit() + ["--set", "model.widths=[512,512]", "--out", out_dir], limit=limit)
        problems += [limit + ": " + p for p in user_error(code, out, out_dir + "/", "File too large")]
    return problems


@case(2, "after a full disk: the store opens, eval loads, a resume continues")
def _(ctx):
    out_dir = ctx.path("full_then_free")
    code, out = ctx.run(tiny_train() + ["--out", out_dir])
    if code != 0:
        return ["first run: exit %d: %s" % (code, out[-300:])]
    code, out = ctx.run(["train", "--resume", "--quiet", "--set", "total_steps=40960", "--out", out_dir],
                        limit="ulimit -f 300")
    problems = user_error(code, out, out_dir)
    code, out = ctx.run(["eval", out_dir, "--episodes", "1", "--json"])
    if code != 0:
        problems.append("eval after the full disk: exit %d" % code)
    code, out = ctx.run(["train", "--resume", "--quiet", "--set", "total_steps=8192", "--out", out_dir])
    if code != 0 or summary(out_dir).get("total_steps") != 8192:
        problems.append("resume after freeing space: exit %d %s" % (code, out[-300:]))
    return problems + duplicate_rows(out_dir)


@case(3, "agent.hidden_sizes=[100000000]")
def _(ctx):
    code, out = ctx.run(tiny_train() + ["--set", "agent.hidden_sizes=[100000000]", "--out", ctx.path("r")])
    return user_error(code, out, "agent.hidden_sizes")


@case(3, "hidden sizes within bounds but beyond the memory (ulimit -v 4 GB)")
def _(ctx):
    code, out = ctx.run(tiny_train() + ["--set", "agent.hidden_sizes=[65536,65536]", "--out", ctx.path("r")],
                        limit="ulimit -v 4000000")
    return user_error(code, out, "agent.hidden_sizes")


@case(3, "model.widths=[100000000]")
def _(ctx):
    code, out = ctx.run(tiny_fit() + ["--set", "model.widths=[100000000]", "--out", ctx.path("f")])
    return user_error(code, out, "model.widths")


# ---- 4, 5. run directories that two processes share -------------------------------------------
def second_process_is_refused(ctx, first, second, run_dir):
    p = ctx.start(first)
    try:
        for _ in range(400):
            if os.path.exists(os.path.join(run_dir, "lock")) and os.path.exists(os.path.join(run_dir, "config.yaml")):
                break
            time.sleep(0.05)
        code, out = ctx.run(second)
        return user_error(code, out, "in use by pid %d" % p.pid)
    finally:
        p.kill()
        p.wait()


@case(4, "two train runs into one --out")
def _(ctx):
    d = ctx.path("shared_train")
    run = tiny_train()[:2] + ["--quiet", "--set", "total_steps=2000000", "--out", d]
    return second_process_is_refused(ctx, run, run, d)


@case(4, "train --resume while the run is going")
def _(ctx):
    d = ctx.path("shared_resume")
    run = tiny_train()[:2] + ["--quiet", "--set", "total_steps=2000000", "--out", d]
    return second_process_is_refused(ctx, run, ["train", "--resume", "--quiet", "--out", d], d)


@case(4, "two fit runs into one --out")
def _(ctx):
    d = ctx.path("shared_fit")
    run = ["fit", shipped("fit/digits_mlp.yaml"), "--quiet", "--set", "train.epochs=200", "--out", d]
    return second_process_is_refused(ctx, run, run, d)


@case(4, "two tune runs into one --out")
def _(ctx):
    d = ctx.path("shared_tune")
    run = ["tune", shipped("tune/digits_mlp_asha.yaml"), "--quiet", "--out", d]
    return second_process_is_refused(ctx, run, run, d)


@case(5, "two runs started in the same second with the default --out")
def _(ctx):
    work = ctx.path("default_out")
    os.makedirs(work)
    args = [ctx.binary, "tune", shipped("tune/branin_random.yaml"), "--quiet"]
    ps = [subprocess.Popen(args, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for _ in range(2)]
    codes = [p.wait() for p in ps]
    runs = [os.path.join(dp, "summary.json") for dp, _, files in os.walk(work) if "summary.json" in files]
    problems = []
    if codes != [0, 0]:
        problems.append("exit codes %s" % codes)
    if len(runs) != 2:
        problems.append("%d run directories with a summary, not 2" % len(runs))
    return problems


# ---- 6-8. resume -------------------------------------------------------------------------------
def finished_train(ctx, name):
    d = ctx.path(name)
    code, out = ctx.run(tiny_train() + ["--out", d])
    if code != 0:
        raise RuntimeError("the setup run failed: " + out[-300:])
    return d


@case(6, "a rejected --resume override leaves config.yaml as it was")
def _(ctx):
    d = finished_train(ctx, "rejected_override")
    before = open(os.path.join(d, "config.yaml")).read()
    problems = []
    code, out = ctx.run(["train", "--resume", "--quiet", "--set", "agent.hidden_sizes=[32]", "--out", d])
    problems += user_error(code, out, "agent.hidden_sizes")
    if open(os.path.join(d, "config.yaml")).read() != before:
        problems.append("config.yaml changed")
    code, out = ctx.run(["train", "--resume", "--quiet", "--set", "total_steps=8192", "--out", d])
    if code != 0:
        problems.append("a later resume fails: " + out[-200:])
    return problems


@case(6, "--resume --set env.id=Hopper-v5: the whole message, config kept")
def _(ctx):
    d = finished_train(ctx, "rejected_env")
    before = open(os.path.join(d, "config.yaml")).read()
    code, out = ctx.run(["train", "--resume", "--quiet", "--set", "env.id=Hopper-v5", "--out", d])
    problems = user_error(code, out, "env.id")
    if "Hopper-v5 with 1" in out and out.rstrip().endswith("with 1"):
        problems.append("the message is cut off")
    if open(os.path.join(d, "config.yaml")).read() != before:
        problems.append("config.yaml changed")
    return problems


def latest_case(ctx, name, damage):
    d = finished_train(ctx, name)
    latest = os.path.join(d, "checkpoints", "latest")
    damage(latest)
    code, out = ctx.run(["train", "--resume", "--set", "total_steps=8192", "--out", d])
    problems = []
    if code != 0:
        problems.append("exit %d: %s" % (code, out[-300:]))
    if "step_000000004096" not in out:
        problems.append("does not say it falls back to the newest complete checkpoint")
    return problems + duplicate_rows(d)


@case(7, "checkpoints/latest missing")
def _(ctx):
    return latest_case(ctx, "latest_missing", os.remove)


@case(7, "checkpoints/latest dangling")
def _(ctx):
    return latest_case(ctx, "latest_dangling", lambda p: open(p, "w").write("step_000000999999\n"))


@case(7, "checkpoints/latest garbage")
def _(ctx):
    return latest_case(ctx, "latest_garbage", lambda p: open(p, "wb").write(b"\x00\xff garbage"))


@case(7, "no complete checkpoint at all: refused")
def _(ctx):
    d = finished_train(ctx, "no_checkpoint")
    shutil.rmtree(os.path.join(d, "checkpoints"))
    os.makedirs(os.path.join(d, "checkpoints"))
    code, out = ctx.run(["train", "--resume", "--quiet", "--set", "total_steps=8192", "--out", d])
    return user_error(code, out, d)


@case(7, "a truncated store.sqlite on train --resume is refused")
def _(ctx):
    d = finished_train(ctx, "truncated_store")
    store = os.path.join(d, "store.sqlite")
    with open(store, "r+b") as f:
        f.truncate(os.path.getsize(store) // 2)
    code, out = ctx.run(["train", "--resume", "--quiet", "--set", "total_steps=8192", "--out", d])
    return user_error(code, out, "store.sqlite")


@case(8, "--parallel is saved and a resume uses it")
def _(ctx):
    a, b = ctx.path("par_whole"), ctx.path("par_stopped")
    code, _ = ctx.run(["tune", shipped("tune/branin_bohb.yaml"), "--quiet", "--parallel", "3", "--out", a])
    if code != 0:
        return ["the whole run failed"]
    p = subprocess.Popen([ctx.binary, "tune", shipped("tune/branin_bohb.yaml"), "--parallel", "3", "--out", b],
                         cwd=ctx.scratch, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    for _ in range(400):  # killed once the experiment is on disk, mid-run if the machine is slow enough
        if os.path.exists(os.path.join(b, "config.yaml")):
            break
        time.sleep(0.01)
    p.send_signal(signal.SIGKILL)
    p.wait()
    code, out = ctx.run(["tune", "--resume", "--out", b])
    problems = []
    if code != 0:
        problems.append("resume: exit %d %s" % (code, out[-300:]))
    elif summary(a).get("best_score") != summary(b).get("best_score"):
        problems.append("best %s after resume vs %s in one go" % (summary(b).get("best_score"), summary(a).get("best_score")))
    if "resuming with parallel 3" not in out:
        problems.append("the resume does not say it uses the saved parallel 3")
    return problems


# ---- 9-12. runs that did nothing -------------------------------------------------------------------
@case(9, "total_steps below one rollout")
def _(ctx):
    code, out = ctx.run(tiny_train() + ["--set", "total_steps=100", "--out", ctx.path("r")])
    return user_error(code, out, "total_steps", "rollout")


@case(9, "total_steps=60000 says what will be trained")
def _(ctx):
    code, out = ctx.run(tiny_train() + ["--set", "total_steps=60000", "--set", "checkpoint.interval=200000",
                                           "--out", ctx.path("r60000")])
    problems = [] if code == 0 else ["exit %d" % code]
    if "60000" not in out or "training" not in out:
        problems.append("says nothing about the rounding: " + out[-200:])
    return problems


for command in ("train", "fit", "tune"):
    @case(10, command + " /tmp (a directory as CONFIG)")
    def _(ctx, command=command):
        code, out = ctx.run([command, "/tmp", "--out", ctx.path("dir_" + command)])
        return user_error(code, out, "/tmp: is a directory")


@case(11, "configs/tune/digits_mlp_asha.yaml runs clean")
def _(ctx):
    d = ctx.path("asha")
    code, out = ctx.run(["tune", shipped("tune/digits_mlp_asha.yaml"), "--quiet", "--out", d], timeout=1800)
    if code != 0:
        return ["exit %d: %s" % (code, out[-300:])]
    with open(os.path.join(d, "history.csv")) as f:
        errors = [line for line in f if "error" in line]
    return ["%d trials failed" % len(errors)] if errors else []


@case(12, "digits data with 10 columns instead of 65")
def _(ctx):
    data = ctx.path("digits10")
    os.makedirs(data)
    with gzip.open(os.path.join(data, "digits.csv.gz"), "wt") as f:
        f.write("1,2,3,4,5,6,7,8,9,0\n" * 20)
    code, out = ctx.run(tiny_fit() + ["--set", "data.dir=" + data, "--out", ctx.path("f")])
    return user_error(code, out, data + "/digits.csv.gz", "65")


# ---- 13-15. errors that were internal or misleading ------------------------------------------------
@case(13, "--out on a read-only file system")
def _(ctx):
    if os.geteuid() != 0:
        return None
    mount = ctx.path("ro")
    os.makedirs(mount)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", mount]).returncode != 0:
        return None
    try:
        code, out = ctx.run(tiny_train() + ["--out", mount + "/run"])
        return user_error(code, out, mount + "/run", "Read-only file system")
    finally:
        subprocess.run(["umount", mount])


@case(13, "--out naming an existing file")
def _(ctx):
    f = ctx.write("a_file", "x\n")
    code, out = ctx.run(tiny_train() + ["--out", f])
    return user_error(code, out, f, "not a directory")


@case(13, "data.val_fraction=0.6 data.test_fraction=0.5")
def _(ctx):
    code, out = ctx.run(tiny_fit() + ["--set", "data.val_fraction=0.6", "--set", "data.test_fraction=0.5",
                                      "--out", ctx.path("f")])
    return user_error(code, out, "data.val_fraction", "data.test_fraction")


@case(13, "model.type=cnn on digits")
def _(ctx):
    code, out = ctx.run(tiny_fit() + ["--set", "model.type=cnn", "--out", ctx.path("f")])
    return user_error(code, out, "model.type")


for command in ("train", "fit"):
    for kind in ("missing", "empty", "junk"):
        @case(14, "%s --resume --out <%s dir>" % (command, kind))
        def _(ctx, command=command, kind=kind):
            d = ctx.path("%s_%s" % (command, kind))
            if kind != "missing":
                os.makedirs(d)
            if kind == "junk":
                ctx.write("%s_%s/notes.txt" % (command, kind), "not a run\n")
            code, out = ctx.run([command, "--resume", "--out", d])
            return user_error(code, out, d + ": not a %s run directory" % command)


@case(14, "graybox bogus")
def _(ctx):
    code, out = ctx.run(["bogus"])
    return user_error(code, out, "bogus")


@case(14, "a condition error in a search space has line:col")
def _(ctx):
    f = ctx.write("cond.yaml", "task: branin\nsearch_space:\n  x1: {type: float, low: -5, high: 10, "
                               "condition: {parent: x2, values: [a]}}\n")
    code, out = ctx.run(["tune", f, "--out", ctx.path("t")])
    return user_error(code, out, f + ":3:")


@case(14, "a missing base_config names the file, the field and the resolved path")
def _(ctx):
    f = ctx.write("sub/tune_rl.yaml", "task: rl\nbase_config: nowhere/base.yaml\nsearch_space:\n  agent.gamma: 0.99\n")
    code, out = ctx.run(["tune", f, "--out", ctx.path("t")])
    return user_error(code, out, f, "base_config", ctx.path("sub/nowhere/base.yaml"))


@case(14, "total_steps=1e30")
def _(ctx):
    code, out = ctx.run(tiny_train() + ["--set", "total_steps=1e30", "--out", ctx.path("r")])
    return user_error(code, out, "total_steps", "out of range")


@case(14, "a data file that is not gzip prints no raw bytes")
def _(ctx):
    data = ctx.path("binary")
    os.makedirs(data)
    with open(os.path.join(data, "digits.csv.gz"), "wb") as f:
        f.write(b"\x01\xfe\x7f\x80\x00\x1b[2J" * 8)
    code, out = ctx.run(tiny_fit() + ["--set", "data.dir=" + data, "--out", ctx.path("f")])
    problems = user_error(code, out, "not a gzip file")
    if "\x1b[2J" in out:
        problems.append("raw bytes in the output")
    return problems


@case(14, "train other.yaml --resume says the config is ignored")
def _(ctx):
    d = finished_train(ctx, "config_and_resume")
    code, out = ctx.run(["train", shipped("train/ppo_hopper.yaml"), "--resume", "--out", d])
    return user_error(code, out, "--resume", "ppo_hopper.yaml")


@case(14, "--quiet with the default --out says where the run went")
def _(ctx):
    work = ctx.path("quiet_default")
    os.makedirs(work)
    code, out = ctx.run(tiny_train(), cwd=work)
    runs = [os.path.join(dp) for dp, _, files in os.walk(work) if "summary.json" in files]
    problems = [] if code == 0 else ["exit %d" % code]
    if len(runs) != 1 or os.path.relpath(runs[0], work) not in out:
        problems.append("the output does not name the run directory: %r" % out[-200:])
    return problems


@case(14, "the fit progress line calls accuracy accuracy")
def _(ctx):
    code, out = ctx.run(["fit", shipped("fit/digits_mlp.yaml"), "--set", "train.epochs=2", "--out", ctx.path("fp")])
    problems = [] if code == 0 else ["exit %d" % code]
    if "return" in out:
        problems.append("'return' in the fit output")
    if "acc" not in out:
        problems.append("no accuracy in the progress output")
    return problems


@case(15, "env.model_path resolves against the config file")
def _(ctx):
    xml_dir = ctx.path("models_here")
    os.makedirs(xml_dir)
    ctx.write("models_here/pendulum.yaml", "seed: 1\ntotal_steps: 2048\nenv:\n  id: InvertedPendulum-v5\n"
                                           "  model_path: missing_model.xml\neval:\n  episodes: 0\n")
    code, out = ctx.run(["train", os.path.join(xml_dir, "pendulum.yaml"), "--quiet", "--out", ctx.path("mp")],
                        cwd=ctx.scratch)
    return user_error(code, out, os.path.join(xml_dir, "missing_model.xml"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default=os.path.join(ROOT, "build", "apps", "graybox"))
    parser.add_argument("--only", default="", help="run the cases whose name holds this text")
    args = parser.parse_args()
    binary = os.path.abspath(args.binary)
    if not os.access(binary, os.X_OK):
        sys.exit("%s: not an executable (build graybox first)" % binary)
    handled = failed = skipped = 0
    started = time.time()
    for item, name, fn in CASES:
        if args.only and args.only not in name:
            continue
        scratch = tempfile.mkdtemp(prefix="graybox_recount_")
        try:
            problems = fn(Ctx(binary, scratch))
        except Exception as e:  # a case whose setup broke counts as not handled
            problems = ["%s: %s" % (type(e).__name__, e)]
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        if problems is None:
            skipped += 1
            print("skip  item %2d  %s (needs root and a mount)" % (item, name), flush=True)
        elif problems:
            failed += 1
            print("FAIL  item %2d  %s: %s" % (item, name, "; ".join(problems)), flush=True)
        else:
            handled += 1
            print("ok    item %2d  %s" % (item, name), flush=True)
    print("%d of %d cases handled, %d skipped (%.1f min)" % (handled, handled + failed, skipped,
                                                              (time.time() - started) / 60))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
