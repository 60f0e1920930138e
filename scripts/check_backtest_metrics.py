#!/usr/bin/env python3
"""Recomputes every portfolio and trade metric of a `pulse backtest` report from its exported
tables, with established libraries, and compares each to `report.json`.

  python scripts/check_backtest_metrics.py REPORT_DIR [--rtol 1e-9]

Reads `equity.parquet`, `trades.parquet`, `fills.parquet` and `orders.parquet` with pandas
(pyarrow). Portfolio metrics come from empyrical (empyrical-reloaded): total and annual return,
annual volatility, Sharpe, Sortino, Calmar, max drawdown, historical VaR and CVaR; parametric
VaR and CVaR from scipy's normal distribution; the drawdown duration, the trade statistics and
the activity figures from pandas, as the README's "Research" section defines them. Prints one
line per metric and exits 1 if any differs by more than the relative tolerance.
"""

import argparse
import json
import math
import sys

import empyrical as ep
import numpy as np
import pandas as pd
from scipy.stats import norm

YEAR_SECONDS = 365 * 86400


def close(a, b, rtol):
    a = float("nan") if a is None else float(a)
    b = float("nan") if b is None else float(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= rtol * max(abs(a), abs(b)) or a == b


def drawdown_duration_s(equity, ts):
    longest, peak, peak_ts = 0, -math.inf, 0
    for e, t in zip(equity, ts):
        if e >= peak:
            peak, peak_ts = e, t
        longest = max(longest, t - peak_ts)
    return longest / 1e9


def expected(dir_):
    report = json.load(open(f"{dir_}/report.json"))
    eq = pd.read_parquet(f"{dir_}/equity.parquet")
    trades = pd.read_parquet(f"{dir_}/trades.parquet")
    fills = pd.read_parquet(f"{dir_}/fills.parquet")
    orders = pd.read_parquet(f"{dir_}/orders.parquet")
    interval = report["meta"]["interval_s"]
    ann = YEAR_SECONDS / interval
    r = eq["equity"].pct_change().iloc[1:]
    mu, sigma = r.mean(), r.std(ddof=1)
    ours = {}
    ours["portfolio.total_return"] = ep.cum_returns_final(r)
    ours["portfolio.annual_return"] = ep.annual_return(r, annualization=ann)
    ours["portfolio.annual_volatility"] = ep.annual_volatility(r, annualization=ann)
    ours["portfolio.sharpe"] = ep.sharpe_ratio(r, annualization=ann)
    ours["portfolio.sortino"] = ep.sortino_ratio(r, annualization=ann)
    ours["portfolio.calmar"] = ep.calmar_ratio(r, annualization=ann)
    ours["portfolio.max_drawdown"] = ep.max_drawdown(r)
    ours["portfolio.max_drawdown_duration_s"] = drawdown_duration_s(eq["equity"], eq["ts"])
    for c, name in [(0.05, "95"), (0.01, "99")]:
        ours[f"portfolio.var_hist_{name}"] = ep.value_at_risk(r, cutoff=c)
        ours[f"portfolio.cvar_hist_{name}"] = ep.conditional_value_at_risk(r, cutoff=c)
        z = norm.ppf(c)
        ours[f"portfolio.var_param_{name}"] = mu + z * sigma
        ours[f"portfolio.cvar_param_{name}"] = mu - sigma * norm.pdf(z) / c
    ours["portfolio.start_equity"] = eq["equity"].iloc[0]
    ours["portfolio.end_equity"] = eq["equity"].iloc[-1]
    pnl = trades["pnl"]
    wins, losses = pnl[pnl > 0], pnl[pnl < 0]
    ours["trades.round_trips"] = len(pnl)
    ours["trades.wins"] = len(wins)
    ours["trades.losses"] = len(losses)
    ours["trades.win_rate"] = len(wins) / len(pnl) if len(pnl) else float("nan")
    ours["trades.profit_factor"] = wins.sum() / abs(losses.sum()) if len(losses) else float("nan")
    ours["trades.avg_win"] = wins.mean() if len(wins) else float("nan")
    ours["trades.avg_loss"] = losses.mean() if len(losses) else float("nan")
    ours["trades.expectancy"] = pnl.mean() if len(pnl) else float("nan")
    ours["trades.total_pnl"] = pnl.sum()
    capital = report["meta"]["capital"]
    notional = fills["notional"].sum()
    maker = fills.loc[fills["liquidity"] == "maker", "notional"].sum()
    ours["activity.fills"] = len(fills)
    ours["activity.orders"] = len(orders)
    ours["activity.turnover"] = notional / capital
    ours["activity.traded_notional"] = notional
    ours["activity.fees"] = fills["fee"].sum()
    ours["activity.exposure_time"] = (eq["gross_exposure"] != 0).mean()
    ours["activity.maker_share"] = maker / notional if notional else float("nan")
    ours["activity.taker_share"] = (notional - maker) / notional if notional else float("nan")
    slip = orders["slippage_bps"].dropna()
    ours["slippage.orders"] = len(slip)
    ours["slippage.mean_bps"] = slip.mean() if len(slip) else float("nan")
    ours["slippage.median_bps"] = slip.quantile(0.5) if len(slip) else float("nan")
    ours["slippage.p95_bps"] = slip.quantile(0.95) if len(slip) else float("nan")
    filled = orders.dropna(subset=["slippage_bps"])
    w = filled["filled_qty"] * filled["avg_px"]
    ours["slippage.weighted_bps"] = (filled["slippage_bps"] * w).sum() / w.sum() if len(w) else float("nan")
    return report, ours


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--rtol", type=float, default=1e-9)
    args = ap.parse_args()
    report, ours = expected(args.dir)
    bad = 0
    for key, want in ours.items():
        section, name = key.split(".")
        got = report[section][name]
        ok = close(got, want, args.rtol)
        bad += not ok
        print(f"{'ok ' if ok else 'BAD'} {key:40} report {got!r:>26}  recomputed {float(want)!r}")
    print(f"{len(ours) - bad} of {len(ours)} metrics agree to {args.rtol:g} relative")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
