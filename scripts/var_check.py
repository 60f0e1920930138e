#!/usr/bin/env python3
"""Recomputes the portfolio risk model's figures (engine/risk/src/portfolio) with numpy and
pandas from a return window and a book, for the agreement test engine/risk/tests/var_numpy.rs.

  python scripts/var_check.py DIR

DIR holds `returns.csv` (one column per instrument, oldest row first), `exposures.csv` (one
row, one column per instrument) and `params.json` (lambda, corr_threshold, equity and the
stress scenarios). Prints one JSON object with the figures, computed from the definitions in
the module's docs: EWMA covariance with normalized weights (checked here against pandas'
`ewm(adjust=True).mean()` of the return products), correlation, historical VaR/CVaR with
`numpy.quantile(method="linear")`, parametric VaR/CVaR with z and the density from Python's
`statistics.NormalDist`, contributions, marginals, correlated exposure (clusters by
breadth-first search) and the stress losses.
"""

import json
import math
import sys
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pandas as pd


def ewma_cov(r, lam):
    t = len(r)
    k = np.arange(t)[::-1]  # the newest row (last) has k = 0
    w = (1 - lam) * lam**k / (1 - lam**t)
    return (r * w[:, None]).T @ r


def pandas_ewma_cov(df, lam):
    n = df.shape[1]
    out = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            prod = df.iloc[:, i] * df.iloc[:, j]
            out[i, j] = prod.ewm(alpha=1 - lam, adjust=True).mean().iloc[-1]
    return out


def correlation(cov):
    n = len(cov)
    corr = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            vv = cov[i, i] * cov[j, j]
            corr[i, j] = 1.0 if i == j else (cov[i, j] / math.sqrt(vv) if vv > 0 else 0.0)
    return corr


def linked(corr, e, theta, i, direction, j):
    return j != i and e[j] != 0 and corr[i, j] * direction * np.sign(e[j]) > theta


def correlated_gross(corr, e, theta):
    n = len(e)
    held = [i for i in range(n) if e[i] != 0]
    seen, excess = set(), 0.0
    for start in held:
        if start in seen:
            continue
        cluster, todo = [], [start]
        seen.add(start)
        while todo:
            i = todo.pop()
            cluster.append(i)
            for j in held:
                if j not in seen and linked(corr, e, theta, i, np.sign(e[i]), j):
                    seen.add(j)
                    todo.append(j)
        sizes = [abs(e[i]) for i in cluster]
        excess += sum(sizes) - max(sizes)
    return excess


def main():
    d = Path(sys.argv[1])
    df = pd.read_csv(d / "returns.csv", float_precision="round_trip")
    e = pd.read_csv(d / "exposures.csv", float_precision="round_trip").iloc[0].to_numpy()
    params = json.loads((d / "params.json").read_text())
    lam, theta, equity = params["lambda"], params["corr_threshold"], params["equity"]
    r = df.to_numpy()

    cov = ewma_cov(r, lam)
    by_pandas = pandas_ewma_cov(df, lam)
    assert np.allclose(cov, by_pandas, rtol=1e-12, atol=1e-18), "pandas EWMA disagrees"
    corr = correlation(cov)

    losses = -(r @ e)
    hist = {}
    for a, tag in [(0.95, "95"), (0.99, "99")]:
        var = float(np.quantile(losses, a, method="linear"))
        hist["var" + tag] = var
        hist["cvar" + tag] = float(losses[losses >= var].mean())

    normal = NormalDist()
    z95, z99 = normal.inv_cdf(0.95), normal.inv_cdf(0.99)
    sigma_e = cov @ e
    sigma_p = math.sqrt(max(float(e @ sigma_e), 0.0))
    param = {
        "var95": z95 * sigma_p,
        "cvar95": sigma_p * normal.pdf(z95) / 0.05,
        "var99": z99 * sigma_p,
        "cvar99": sigma_p * normal.pdf(z99) / 0.01,
    }
    sigma = np.sqrt(np.diag(cov))
    contributions = z99 * e * sigma_e / sigma_p
    marginal = z99 * sigma_e / sigma_p

    ce = correlated_gross(corr, e, theta)
    n = len(e)
    linked_buy = [any(linked(corr, e, theta, i, 1, j) for j in range(n)) for i in range(n)]
    linked_sell = [any(linked(corr, e, theta, i, -1, j) for j in range(n)) for i in range(n)]

    stress = []
    for s in params["scenarios"]:
        kind = s["kind"]
        if kind == "shock":
            stress.append(-sum(e[i] * shock for i, shock in s["shocks"]))
        elif kind == "vol_scale":
            stress.append(z99 * abs(s["factor"]) * sigma_p)
        elif kind == "correlation_one":
            stress.append(z99 * float(np.abs(e) @ sigma))
        elif kind == "outage":
            sub = np.zeros(n)
            idx = sorted(set(s["instruments"]))
            sub[idx] = e[idx]
            stress.append(z99 * math.sqrt(s["horizon_intervals"]) * math.sqrt(sub @ cov @ sub))
        else:
            raise ValueError(f"unknown scenario kind {kind}")

    print(json.dumps({
        "rows": len(r),
        "cov": cov.ravel().tolist(),
        "corr": corr.ravel().tolist(),
        "hist": hist,
        "param": param,
        "sigma_p": sigma_p,
        "contributions": contributions.tolist(),
        "marginal_up": marginal.tolist(),
        "standalone": (z99 * sigma).tolist(),
        "correlated_gross": ce,
        "correlated_exposure": ce / equity,
        "linked_buy": linked_buy,
        "linked_sell": linked_sell,
        "stress": [float(x) for x in stress],
    }))


if __name__ == "__main__":
    main()
