"""What the policy trainer and its scorer share: reading the CSV `pulse features` writes, the
time-ordered train/test split, and the out-of-sample table against naive baselines.

Plain Python 3, standard library only. `scripts/train_policy.py` trains on the split's first
part and prints the table for the second; `scripts/score_policy.py` prints it for any weights
file.
"""

import csv
import math
import sys

FEATURES = 16
# Output order of the network; a label's class is its index here.
CLASS_OF_LABEL = {1: 0, 0: 1, -1: 2}
BUY, HOLD, SELL = 0, 1, 2
SIDE = {BUY: 1, HOLD: 0, SELL: -1}


def fail(message):
    print(f"{sys.argv[0].rsplit('/', 1)[-1]}: {message}", file=sys.stderr)
    sys.exit(2)


# The engine's feature names, in the order it feeds them (engine/strategy/src/indicators/feature.rs).
ENGINE_FEATURES = ["mid_vs_ema_bps", "macd_bps", "macd_histogram_bps", "rsi",
                   "bollinger_percent_b", "bollinger_width_bps", "mid_vs_vwap_bps",
                   "mid_vs_poc_bps", "book_imbalance", "micro_price_offset_bps", "spread_bps",
                   "realized_vol_bps", "trade_flow_imbalance", "last_return_bps",
                   "last_trade_vs_mid_bps", "ready"]


class Row:
    """One labelled decision: features, class, and where it sits in time."""

    __slots__ = ("x", "cls", "segment", "time", "ret")

    def __init__(self, x, cls, segment=0, time=0, ret=None):
        self.x, self.cls, self.segment, self.time, self.ret = x, cls, segment, time, ret


def label_column(path, header, wanted):
    if wanted:
        if wanted not in header:
            fail(f"{path}: no column `{wanted}` (columns: {', '.join(header)})")
        return wanted
    if "label" in header:
        return "label"
    labels = [h for h in header if h.startswith("label_")]
    if len(labels) == 1:
        return labels[0]
    fail(f"{path}: say which column is the label with --label (one of {', '.join(labels)})")


def read_csv(path, wanted_label=None, file_index=0):
    """(names, rows, skipped). Two layouts: 16 feature columns then `label` (any names), or
    the columns `pulse features` writes, read by name: the engine's 16 features, `segment`,
    `time_ns`, and the label column (`--label`, e.g. `label_50`) with its `ret_bps_<h>`. Rows of
    an export whose `ready` is 0 (the engine never feeds those to the network) or whose label is
    empty (the horizon runs past the capture) are skipped and counted. Strict otherwise: every
    problem names its line."""
    try:
        f = open(path, newline="")
    except OSError as err:
        fail(f"{path}: {err.strerror}")
    with f:
        reader = csv.reader(f)
        header = [h.strip() for h in next(reader, None) or []]
        exported = all(n in header for n in ENGINE_FEATURES)
        if exported:
            label = label_column(path, header, wanted_label)
            cols = [header.index(n) for n in ENGINE_FEATURES]
            names = list(ENGINE_FEATURES)
        elif len(header) == FEATURES + 1 and header[-1] == "label":
            label = "label"
            cols = list(range(FEATURES))
            names = header[:FEATURES]
        else:
            fail(f"{path}: line 1 must be a header of {FEATURES} feature names and `label`, "
                 "or the header `pulse features` writes")
        at_label = header.index(label)
        ret_name = "ret_bps_" + label[len("label_"):] if label.startswith("label_") else None
        at_ret = header.index(ret_name) if ret_name in header else None
        at_segment = header.index("segment") if "segment" in header else None
        at_time = header.index("time_ns") if "time_ns" in header else None
        at_ready = header.index("ready") if exported else None
        rows, skipped = [], 0
        for row in reader:
            line = reader.line_num
            if len(row) != len(header):
                fail(f"{path}: line {line}: {len(row)} columns, expected {len(header)}")
            if row[at_label] == "" or (at_ready is not None and row[at_ready] != "1"):
                skipped += 1
                continue
            try:
                features = [float(row[c]) for c in cols]
                cls = int(row[at_label])
                segment = (file_index, int(row[at_segment]) if at_segment is not None else 0)
                time = int(row[at_time]) if at_time is not None else 0
                ret = float(row[at_ret]) if at_ret is not None else None
            except ValueError as err:
                fail(f"{path}: line {line}: {err}")
            if not all(math.isfinite(v) for v in features):
                fail(f"{path}: line {line}: a feature is NaN or infinite")
            if cls not in CLASS_OF_LABEL:
                fail(f"{path}: line {line}: label {cls}, expected -1, 0 or 1")
            rows.append(Row(features, CLASS_OF_LABEL[cls], segment, time, ret))
    # Names go into a comment line of the weights file: one word each.
    names = ["_".join(h.split()) or f"f{i}" for i, h in enumerate(names)]
    return names, rows, skipped


def horizon_of(label):
    """The horizon a `label_<h>` column names, in book events; 0 for a plain `label`."""
    tail = label[len("label_"):] if label.startswith("label_") else ""
    return int(tail) if tail.isdigit() else 0


def split_by_time(rows, train_fraction, purge):
    """(train, test): within each segment (one capture of one file), in time order, the rows
    before `train_fraction` of the segment's time span train and the rest test. The last
    `purge` training rows of each segment are dropped: their labels look `purge` book events
    ahead, into the test period."""
    segments = {}
    for r in rows:
        segments.setdefault(r.segment, []).append(r)
    train, test = [], []
    for key in sorted(segments):
        seg = segments[key]
        first, last = seg[0].time, seg[-1].time
        cut = first + (last - first) * train_fraction
        before = [r for r in seg if r.time < cut]
        train += before[:max(len(before) - purge, 0)]
        test += [r for r in seg if r.time >= cut]
    return train, test


def majority(rows):
    counts = [sum(1 for r in rows if r.cls == k) for k in range(3)]
    return counts.index(max(counts))


def last_return_sign(r, sign=1):
    """Buy after a rise of the mid, sell after a fall (`sign` -1: the other way round)."""
    v = r.x[ENGINE_FEATURES.index("last_return_bps")] * sign
    return BUY if v > 0.0 else SELL if v < 0.0 else HOLD


def score(rows, predict):
    """Accuracy; calls (buy or sell); hit rate: calls whose side the mid then moved to; edge:
    the mean forward return of a call in its own direction, bps (buy: the return, sell: minus
    it), before fees and spread."""
    hits, calls, right, edge = 0, 0, 0, 0.0
    for r in rows:
        p = predict(r)
        hits += p == r.cls
        if p != HOLD:
            calls += 1
            right += p == r.cls
            if r.ret is not None:
                edge += SIDE[p] * r.ret
    n = len(rows)
    return {
        "accuracy": hits / n if n else float("nan"),
        "calls": calls,
        "hit_rate": right / calls if calls else float("nan"),
        "edge_bps": edge / calls if calls and rows[0].ret is not None else float("nan"),
    }


def table(test, train, models):
    """The out-of-sample table: `models` are (name, predict) pairs, then the naive baselines
    (always hold; the training rows' majority class; the sign of the last return, and its
    opposite)."""
    top = majority(train)
    word = {BUY: "buy", HOLD: "hold", SELL: "sell"}
    rows = list(models) + [
        ("always hold", lambda r: HOLD),
        (f"majority of training ({word[top]})", lambda r: top),
        ("sign of last return", last_return_sign),
        ("minus sign of last return", lambda r: last_return_sign(r, -1)),
    ]
    counts = [sum(1 for r in test if r.cls == k) for k in range(3)]
    lines = [f"out of sample: {len(test)} rows (buy {counts[BUY]}, hold {counts[HOLD]}, "
             f"sell {counts[SELL]}); trained on {len(train)}",
             f"{'model':<34} {'accuracy':>8} {'calls':>6} {'hit rate':>8} {'edge bps/call':>13}"]
    for name, predict in rows:
        s = score(test, predict)
        hit = "-" if math.isnan(s["hit_rate"]) else f"{s['hit_rate']:.3f}"
        edge = "-" if math.isnan(s["edge_bps"]) else f"{s['edge_bps']:+.3f}"
        lines.append(f"{name:<34} {s['accuracy']:>8.3f} {s['calls']:>6} {hit:>8} {edge:>13}")
    return "\n".join(lines)
