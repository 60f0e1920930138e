#!/usr/bin/env python3
"""Runs a `pulse sweep` on a Dask cluster: each run of the sweep's plan is a task that calls
`pulse backtest` on a worker, and the same leaderboard is gathered as `pulse sweep` writes.

  python scripts/dask_sweep.py --pulse target/release/pulse [--scheduler tcp://host:8786 | --workers 2] \\
      -- --config configs/demo.toml --grid configs/sweeps/demo-walk-forward.toml \\
         --input data/binance_spot_btcusdt_2024-08-08.cap.gz --out reports/sweep-dask

Everything after `--` is `pulse sweep`'s own arguments. The plan comes from
`pulse sweep --plan-only` (plan.json: every run's exact `pulse` arguments), the runs from the
cluster, the leaderboard from `pulse sweep --collect`: so a run on a cluster and a run on one
machine give the same leaderboard, byte for byte. Without --scheduler a local cluster of
--workers processes is started (one thread each). Workers must see the same files (a shared
file system on a real cluster).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys


def run_one(pulse, args, keep_journal):
    done = subprocess.run([pulse, *args], capture_output=True, text=True)
    if done.returncode == 0 and not keep_journal:
        # As `pulse sweep` does: the report stays, the run's journal goes (its command makes it again).
        shutil.rmtree(os.path.join(args[args.index("--report") + 1], "journal"), ignore_errors=True)
    return done.returncode, done.stderr[-2000:]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pulse", required=True)
    ap.add_argument("--scheduler")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--keep-journals", action="store_true")
    ap.add_argument("sweep", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    sweep = [a for a in args.sweep if a != "--"] if args.sweep[:1] == ["--"] else args.sweep
    if "--out" not in sweep:
        sys.exit("dask_sweep: the sweep's arguments need --out")
    out = sweep[sweep.index("--out") + 1]
    pulse = os.path.abspath(args.pulse)
    subprocess.run([pulse, "sweep", *sweep, "--plan-only"], check=True)
    plan = json.load(open(os.path.join(out, "plan.json")))

    from dask.distributed import Client, LocalCluster

    cluster = None
    if args.scheduler:
        client = Client(args.scheduler)
    else:
        cluster = LocalCluster(
            n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
    try:
        workers = len(client.scheduler_info()["workers"])
        n = len(plan["runs"])
        futures = client.map(
            run_one, [pulse] * n, [r["args"] for r in plan["runs"]], [args.keep_journals] * n, pure=False
        )
        results = client.gather(futures)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    failed = [(r["run"], err) for r, (rc, err) in zip(plan["runs"], results) if rc != 0]
    if failed:
        for run, err in failed:
            print(f"dask_sweep: run {run} failed: {err}", file=sys.stderr)
        sys.exit(1)
    print(f"dask_sweep: {len(plan['runs'])} runs on {workers} Dask worker(s)")
    subprocess.run([pulse, "sweep", *sweep, "--collect"], check=True)


if __name__ == "__main__":
    main()
