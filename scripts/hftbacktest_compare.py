#!/usr/bin/env python3
"""Pulse's market-making backtest beside hftbacktest's, on the same capture, in one run.

    python scripts/hftbacktest_compare.py --pulse target/release/pulse [--runs 5] [--smoke N]

Input: data/binance_usdm_btcusdt_2024-08-08.cap.gz (Binance USD-M BTCUSDT, about six minutes).

hftbacktest side: the capture's lines are rewritten as hftbacktest's raw Binance futures feed
(`local_ts json`, the same bytes) and converted by its own converter
(`hftbacktest.data.utils.binancefutures.convert`: REST snapshot, depth diffs and trades; it
drops bookTicker). Its quick-start market maker (the README's `market_making_algo`: quote both
sides at the touch, requote every 10 ms, skew by position) runs with the risk-averse queue
model, no partial fills (its partial-fill exchange stops on this data with InvalidOrderStatus,
a fault reported in its issue tracker), 500 us constant order entry and response latency, and
2/10 bps maker/taker fees. Its `wait_order_response` returns 0 on success in 2.x, so the loop
stops on anything else. It runs in a child process: the njit function is compiled and run once
(warm-up, not timed), then run `--runs` times on a fresh backtest each; the time is that of the
backtest loop alone (the data already converted and loaded), peak RSS that of the child.

Pulse side: `pulse backtest --config configs/market-maker-usdm.toml --input CAPTURE --report
DIR`, `--runs` times; the time is the whole process's wall time (start, gunzip, JSON decoding,
book, strategy, simulated venue, report written), peak RSS that of the child (wait4). The same
command on the capture's first 100 lines, as many times, gives its fixed cost (start-up and
report); the rate less that cost is printed beside, marked as such.

Events: both rates are over the same unit, the capture's messages, counted two ways: all of its
lines, and the depth (snapshot and diffs) and trade messages alone (those hftbacktest sees).
`--smoke N` keeps the first N lines (a quick check; `--json` writes the figures).
"""

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CAPTURE = REPO / "data/binance_usdm_btcusdt_2024-08-08.cap.gz"
CONFIG = REPO / "configs/market-maker-usdm.toml"

TICK = 0.1
LOT = 0.001
ORDER_QTY = 0.001
MAX_POSITION = 0.004
ORDER_LATENCY_NS = 500_000
MAKER_FEE = 0.0002
TAKER_FEE = 0.001
STEP_NS = 10_000_000


FIXED_COST_LINES = 100


def head_of(capture, lines, out):
    with gzip.open(capture, "rt") as src, gzip.open(out, "wt") as dst:
        for _, line in zip(range(lines), src):
            dst.write(line)
    return out


def split_capture(capture, limit, work):
    """The first `limit` lines (all when 0) as a capture for Pulse and as hftbacktest's raw feed."""
    counts = {"lines": 0, "depth": 0, "trade": 0, "snapshot": 0, "book_ticker": 0, "stale_depth": 0}
    last_update_ids = []
    snapshot_id = None
    pulse_input = work / "input.cap.gz"
    raw = work / "raw_feed.gz"
    with gzip.open(capture, "rt") as src, gzip.open(pulse_input, "wt") as cap, gzip.open(raw, "wt") as feed:
        for line in src:
            if limit and counts["lines"] >= limit:
                break
            recv_ns, source, payload = line.rstrip("\n").split("\t", 2)
            counts["lines"] += 1
            cap.write(line)
            if ":rest:" in source:
                counts["snapshot"] += 1
                snapshot_id = json.loads(payload)["lastUpdateId"]
            elif '"e":"depthUpdate"' in payload:
                counts["depth"] += 1
                last_update_ids.append(json.loads(payload)["data"]["u"])
            elif '"e":"trade"' in payload:
                counts["trade"] += 1
            elif '"e":"bookTicker"' in payload:
                counts["book_ticker"] += 1
            feed.write(f"{int(recv_ns):019d} {payload}\n")
    # Binance's sync rule: a diff whose final update id is below the snapshot's is stale.
    if snapshot_id is not None:
        counts["stale_depth"] = sum(1 for u in last_update_ids if u < snapshot_id)
    return pulse_input, raw, counts


def convert_for_hftbacktest(raw, work):
    from hftbacktest.data.utils import binancefutures

    out = work / "usdm.npz"
    start = time.perf_counter()
    data = binancefutures.convert(str(raw), output_filename=None, buffer_size=5_000_000)
    seconds = time.perf_counter() - start
    import numpy as np

    np.savez(out, data=data)
    from hftbacktest import DEPTH_EVENT, EXCH_EVENT, TRADE_EVENT

    # Its event-order correction splits a row the exchange and the local side see in different
    # orders into two, one flagged for each: count the exchange's copies.
    kind = data["ev"] & 0xFF
    exch = (data["ev"] & EXCH_EVENT) != 0
    depth_messages = len(np.unique(data[(kind == DEPTH_EVENT) & exch][["exch_ts", "local_ts"]]))
    trade_rows = int(((kind == TRADE_EVENT) & exch).sum())
    return out, len(data), seconds, depth_messages, trade_rows


def hftbacktest_worker(npz, runs):
    """Runs in the child: warm-up, then `runs` timed backtests; prints one JSON line."""
    import resource

    import numpy as np
    from numba import njit
    from hftbacktest import (BUY, GTX, LIMIT, SELL, BacktestAsset,
                             ROIVectorMarketDepthBacktest)

    @njit
    def market_making_algo(hbt, order_qty, max_position, step_ns, out):
        asset_no = 0
        tick_size = hbt.depth(asset_no).tick_size
        submitted = 0
        cancelled = 0
        steps = 0
        while True:
            end = hbt.elapse(step_ns)
            if end != 0:
                break
            steps += 1
            hbt.clear_inactive_orders(asset_no)
            depth = hbt.depth(asset_no)
            if depth.best_bid_tick <= -2147483647 or depth.best_ask_tick >= 2147483647:
                continue
            position = hbt.position(asset_no)
            mid_price = (depth.best_bid + depth.best_ask) / 2.0
            reservation_price = mid_price - 2.0 * tick_size * position / max_position
            new_bid_tick = min(np.round(reservation_price / tick_size), depth.best_bid_tick)
            new_ask_tick = max(np.round(reservation_price / tick_size), depth.best_ask_tick)
            last_order_id = -1
            update_bid = True
            update_ask = True
            buy_limit_exceeded = position + order_qty > max_position + 1e-12
            sell_limit_exceeded = position - order_qty < -max_position - 1e-12
            orders = hbt.orders(asset_no)
            order_values = orders.values()
            while order_values.has_next():
                order = order_values.get()
                if order.side == BUY:
                    if order.price_tick == new_bid_tick or buy_limit_exceeded:
                        update_bid = False
                    if order.cancellable and (update_bid or buy_limit_exceeded):
                        hbt.cancel(asset_no, order.order_id, False)
                        cancelled += 1
                        last_order_id = order.order_id
                elif order.side == SELL:
                    if order.price_tick == new_ask_tick or sell_limit_exceeded:
                        update_ask = False
                    if order.cancellable and (update_ask or sell_limit_exceeded):
                        hbt.cancel(asset_no, order.order_id, False)
                        cancelled += 1
                        last_order_id = order.order_id
            if update_bid and not buy_limit_exceeded:
                order_id = new_bid_tick
                hbt.submit_buy_order(asset_no, order_id, new_bid_tick * tick_size, order_qty, GTX, LIMIT, False)
                submitted += 1
                last_order_id = order_id
            if update_ask and not sell_limit_exceeded:
                order_id = new_ask_tick
                hbt.submit_sell_order(asset_no, order_id, new_ask_tick * tick_size, order_qty, GTX, LIMIT, False)
                submitted += 1
                last_order_id = order_id
            if last_order_id >= 0:
                end = hbt.wait_order_response(asset_no, last_order_id, 5_000_000_000)
                if end != 0:
                    break
        depth = hbt.depth(asset_no)
        sv = hbt.state_values(asset_no)
        out[0] = submitted
        out[1] = cancelled
        out[2] = steps
        out[3] = sv.num_trades
        out[4] = sv.position
        out[5] = sv.balance
        out[6] = sv.fee
        out[7] = (depth.best_bid + depth.best_ask) / 2.0
        out[8] = sv.trading_volume
        out[9] = end
        return True

    data = np.load(npz)["data"]

    def backtest():
        asset = (
            BacktestAsset()
            .data([data])
            .linear_asset(1.0)
            .constant_order_latency(ORDER_LATENCY_NS, ORDER_LATENCY_NS)
            .risk_adverse_queue_model()
            .no_partial_fill_exchange()
            .trading_value_fee_model(MAKER_FEE, TAKER_FEE)
            .tick_size(TICK)
            .lot_size(LOT)
            .roi_lb(40000.0)
            .roi_ub(90000.0)
            .last_trades_capacity(0)
        )
        return ROIVectorMarketDepthBacktest([asset])

    out = np.zeros(10, np.float64)
    hbt = backtest()
    start = time.perf_counter()
    market_making_algo(hbt, ORDER_QTY, MAX_POSITION, STEP_NS, out)
    warmup = time.perf_counter() - start
    hbt.close()
    seconds = []
    for _ in range(runs):
        hbt = backtest()
        out[:] = 0
        start = time.perf_counter()
        market_making_algo(hbt, ORDER_QTY, MAX_POSITION, STEP_NS, out)
        seconds.append(time.perf_counter() - start)
        hbt.close()
    submitted, cancelled, steps, fills, position, balance, fee, mid, volume, end = out.tolist()
    if end != 1:
        sys.exit(f"hftbacktest stopped before the end of the data (code {end:.0f})")
    print(json.dumps({
        "warmup_s": warmup,
        "seconds": seconds,
        "rows": len(data),
        "orders": int(submitted),
        "cancels": int(cancelled),
        "steps": int(steps),
        "fills": int(fills),
        "position": position,
        "volume": volume,
        "fees": fee,
        "net_pnl": balance + position * mid - fee,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


def run_child(argv, cwd=None):
    """Wall time, peak RSS (MiB), output and CPU of one child process. Through GNU time when it
    is there: a child forked from this (large) Python process starts with its pages counted in
    its peak RSS, while GNU time's own child starts small; else from wait4, an upper bound."""
    timed = os.path.exists("/usr/bin/time")
    if timed:
        argv = ["/usr/bin/time", "-f", "pulse-rusage %M %U %S", *argv]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        child = subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if child.returncode != 0:
        sys.exit(f"{argv[0]} failed ({child.returncode}):\n{stderr}\n{stdout}")
    rss, cpu = usage.ru_maxrss / 1024, (usage.ru_utime, usage.ru_stime)
    if timed:
        line = [l for l in stderr.splitlines() if l.startswith("pulse-rusage ")][-1].split()
        rss, cpu = int(line[1]) / 1024, (float(line[2]), float(line[3]))
    return seconds, rss, stdout, cpu


def pulse_figures(report_dir):
    report = json.loads((report_dir / "report.json").read_text())
    outcomes = report["orders_by_outcome"]
    return {
        "market_events": report["meta"]["market_events"],
        "orders": report["activity"]["orders"],
        "cancels": outcomes.get("cancelled", 0),
        "fills": report["activity"]["fills"],
        "fees": report["activity"]["fees"],
        "net_pnl": report["portfolio"]["end_equity"] - report["portfolio"]["start_equity"],
    }


def summary(values):
    return statistics.median(values), min(values), max(values)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pulse", default=str(REPO / "target/release/pulse"))
    parser.add_argument("--capture", default=str(CAPTURE))
    parser.add_argument("--config", default=str(CONFIG))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--smoke", type=int, default=0, metavar="N", help="only the first N lines")
    parser.add_argument("--json", help="write the figures here")
    parser.add_argument("--hbt-worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.hbt_worker:
        hftbacktest_worker(args.hbt_worker, args.runs)
        return

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="hbt-compare-") as tmp:
        work = Path(tmp)
        pulse_input, raw, counts = split_capture(args.capture, args.smoke, work)
        npz, rows, convert_s, depth_messages, trade_rows = convert_for_hftbacktest(raw, work)
        book_and_trades = counts["depth"] + counts["trade"] + counts["snapshot"]

        _, hbt_rss, hbt_out, _ = run_child(
            [sys.executable, __file__, "--hbt-worker", str(npz), "--runs", str(args.runs)])
        hbt = json.loads(hbt_out.strip().splitlines()[-1])

        def pulse_backtest(capture, report_dir):
            seconds, rss, stdout, cpu = run_child(
                [args.pulse, "backtest", "--config", args.config, "--input", str(capture),
                 "--report", str(report_dir)], cwd=REPO)
            return seconds, rss, {**pulse_figures(report_dir), "stdout": stdout, "cpu": cpu}

        head = head_of(args.capture, FIXED_COST_LINES, work / "head.cap.gz")
        pulse_runs, fixed_s = [], []
        for i in range(args.runs):
            pulse_runs.append(pulse_backtest(pulse_input, work / f"pulse-{i}"))
            fixed_s.append(pulse_backtest(head, work / f"pulse-head-{i}"))
        pulse = pulse_runs[-1][2]

    pulse_s = [r[0] for r in pulse_runs]
    fixed = statistics.median(r[0] for r in fixed_s)
    pulse_cpu = [r[2]["cpu"] for r in pulse_runs]
    fixed_cpu = [r[2]["cpu"] for r in fixed_s]
    pulse_rss = [r[1] for r in pulse_runs]
    result = {
        "capture": str(args.capture),
        "counts": counts,
        "hftbacktest": {
            "version": __import__("hftbacktest").__version__,
            "rows": rows,
            "depth_messages": depth_messages,
            "trade_rows": trade_rows,
            "convert_s": convert_s,
            "seconds": hbt["seconds"],
            "warmup_s": hbt["warmup_s"],
            "peak_rss_mb": hbt_rss,
            **{k: hbt[k] for k in ("orders", "cancels", "fills", "steps", "position", "volume", "fees", "net_pnl")},
        },
        "pulse": {
            "seconds": pulse_s,
            "peak_rss_mb": pulse_rss,
            "fixed_cost_s": [r[0] for r in fixed_s],
            "user_sys_s": pulse_cpu,
            "fixed_cost_user_sys_s": fixed_cpu,
            **pulse,
        },
    }

    lines = counts["lines"]
    print(f"capture: {lines} messages ({counts['depth']} depth diffs, {counts['snapshot']} snapshot, "
          f"{counts['trade']} trades, {counts['book_ticker']} bookTicker); "
          f"hftbacktest: {rows} rows after its converter ({convert_s:.1f} s, not timed below)")
    print(f"{args.runs} runs each; median [min, max]")
    print(f"{'':<34}{'hftbacktest ' + result['hftbacktest']['version']:>30}{'Pulse':>30}")

    def row(name, hv, pv, fmt):
        hm, hl, hh = summary(hv)
        pm, pl, ph = summary(pv)
        print(f"{name:<34}{fmt(hm) + ' [' + fmt(hl) + ', ' + fmt(hh) + ']':>30}"
              f"{fmt(pm) + ' [' + fmt(pl) + ', ' + fmt(ph) + ']':>30}")

    hs, ps = hbt["seconds"], pulse_s
    row("wall time, s", hs, ps, lambda v: f"{v:.3f}")
    row("all messages / s", [lines / s for s in hs], [lines / s for s in ps], lambda v: f"{v:,.0f}")
    row("depth+trade messages / s", [book_and_trades / s for s in hs],
        [book_and_trades / s for s in ps], lambda v: f"{v:,.0f}")
    row("ns per message (all)", [s * 1e9 / lines for s in hs], [s * 1e9 / lines for s in ps],
        lambda v: f"{v:,.0f}")
    print(f"{'Pulse less fixed cost, msgs / s':<34}{'':>30}"
          f"{(lines - FIXED_COST_LINES) / (statistics.median(ps) - fixed):>30,.0f}")
    print(f"{'Pulse user / sys CPU, s (median)':<34}{'':>30}"
          f"{statistics.median(c[0] for c in pulse_cpu):>14.3f} / {statistics.median(c[1] for c in pulse_cpu):.3f}")
    print(f"{'... on the first 100 lines':<34}{'':>30}"
          f"{statistics.median(c[0] for c in fixed_cpu):>14.3f} / {statistics.median(c[1] for c in fixed_cpu):.3f}")
    print(f"{'peak RSS, MiB':<34}{hbt_rss:>30.1f}{statistics.median(pulse_rss):>30.1f}")
    print(f"{'what is timed':<34}{'backtest loop (JIT excluded)':>30}{'whole process':>30}")
    print(f"{'orders / cancels / fills':<34}"
          f"{str(hbt['orders']) + ' / ' + str(hbt['cancels']) + ' / ' + str(hbt['fills']):>30}"
          f"{str(pulse['orders']) + ' / ' + str(pulse['cancels']) + ' / ' + str(pulse['fills']):>30}")
    print(f"{'net PnL after fees, USDT':<34}{hbt['net_pnl']:>30.4f}{pulse['net_pnl']:>30.4f}")
    print(f"{'fees, USDT':<34}{hbt['fees']:>30.4f}{pulse['fees']:>30.4f}")
    ratio = statistics.median(hs) / statistics.median(ps)
    print(f"median time ratio hftbacktest / Pulse: {ratio:.2f} (above 1: Pulse is faster per message)")
    print(f"hftbacktest JIT warm-up run (not timed above): {hbt['warmup_s']:.2f} s; "
          f"Pulse market events: {result['pulse']['market_events']}; Pulse's fixed cost "
          f"(first {FIXED_COST_LINES} lines): {fixed:.3f} s median")
    print(f"load average before / after: {load_before} / {os.getloadavg()}; {os.cpu_count()} CPUs")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
