#!/usr/bin/env python3
"""An independent reference for `pulse replay` on Bybit v5 captures (sources `bybit-spot` and
`bybit-linear`): the expected figures in engine/tests/bybit_replay.rs come from this script,
not from Pulse.

It rebuilds every book with plain dicts and Python's Decimal, following Bybit's v5
"Orderbook" document (https://bybit-exchange.github.io/docs/v5/websocket/public/orderbook):
  - a `snapshot` replaces the book; a snapshot with `u == 1` after the first is a service
    restart (counted as `sequence_resets`); at depth 1 every push is a snapshot, and one with
    the same `u` as the last says "no change" (dropped);
  - a `delta` must carry the last `u` plus one, else a gap: the book is stale until the next
    snapshot (a resync); deltas meanwhile are dropped;
  - size "0" deletes; deleting a price the book does not hold is ignored and counted.
Trades are counted per entry; linear tickers keep the last best bid/ask per symbol (deltas
carry only the changed fields) and count once all four are known and the frame carried one
of them; spot tickers carry none.

Scales, as `pulse replay` derives them from the capture: per instrument, the most decimals
(trailing zeros aside) any price was sent with, and any size.

    scripts/bybit_book_reference.py CAPTURE

prints one JSON object per instrument (in order of first appearance) with its counts, faults
and the top five levels per side at the end, as `pulse replay --report-json` writes them.
"""
import json
import sys
from decimal import Decimal

DEPTH = 5
TICKER_PX = ("bid1Price", "ask1Price", "lastPrice")
TICKER_SZ = ("bid1Size", "ask1Size")
TICKER_BBO = ("bid1Price", "bid1Size", "ask1Price", "ask1Size")


def places(text):
    frac = text.split(".", 1)[1] if "." in text else ""
    return len(frac.rstrip("0"))


class Instrument:
    def __init__(self, venue, symbol):
        self.venue, self.symbol = venue, symbol
        self.bids, self.asks = {}, {}
        self.synced = False
        self.last_u = 0
        self.pscale = self.qscale = 0
        self.ticker = {}
        self.n = dict(messages=0, applied=0, dropped=0, gaps=0, snapshots=0, resyncs=0,
                      sequence_resets=0, last_update_id=0, trades=0, tickers=0,
                      absent_deletes=0)

    def scales(self, prices, sizes):
        for p in prices:
            self.pscale = max(self.pscale, places(p))
        for q in sizes:
            self.qscale = max(self.qscale, places(q))

    def apply(self, levels, side):
        for px, size in levels:
            p, q = Decimal(px), Decimal(size)
            if q == 0:
                if p in side:
                    del side[p]
                else:
                    self.n["absent_deletes"] += 1
            else:
                side[p] = q

    def book(self, msg, depth):
        n, data = self.n, msg["data"]
        u = data["u"]
        if msg["type"] == "snapshot":
            if self.synced and u == self.last_u and u != 1:
                n["dropped"] += 1
                return
            if u == 1 and n["snapshots"] > 0:
                n["sequence_resets"] += 1
            self.bids, self.asks = {}, {}
            self.apply(data["b"], self.bids)
            self.apply(data["a"], self.asks)
            if self.synced and depth == 1:
                n["applied"] += 1
            else:
                if n["snapshots"] > 0 and not self.synced:
                    n["resyncs"] += 1
                n["snapshots"] += 1
            self.synced, self.last_u = True, u
            n["last_update_id"] = u
            return
        if not self.synced:
            n["dropped"] += 1
        elif u != self.last_u + 1:
            n["gaps"] += 1
            self.synced = False
        else:
            self.apply(data["b"], self.bids)
            self.apply(data["a"], self.asks)
            self.last_u = u
            n["applied"] += 1
            n["last_update_id"] = u
        if self.bids and self.asks:
            assert max(self.bids) < min(self.asks), f"{self.symbol} crossed at u {u}"

    def report(self):
        def fmt(d, scale):
            return f"{d:.{scale}f}"

        def top(side, reverse):
            return [[fmt(p, self.pscale), fmt(side[p], self.qscale)]
                    for p in sorted(side, reverse=reverse)[:DEPTH]]

        return dict(venue=self.venue, symbol=self.symbol, **self.n,
                    book="live" if self.synced else "stale",
                    top=dict(bids=top(self.bids, True), asks=top(self.asks, False)))


def main(path):
    instruments = {}
    with open(path, "rb") as f:
        for raw in f:
            parts = raw.rstrip(b"\n").split(b"\t", 2)
            if len(parts) != 3 or not parts[1].endswith(b":ws"):
                continue
            venue = parts[1][:-3].decode()
            if venue not in ("bybit-spot", "bybit-linear"):
                continue
            try:
                msg = json.loads(parts[2])
            except ValueError:
                continue
            topic = msg.get("topic") if isinstance(msg, dict) else None
            if not isinstance(topic, str) or "." not in topic:
                continue
            channel, rest = topic.split(".", 1)
            if channel == "orderbook":
                depth, symbol = rest.split(".", 1)
                depth = int(depth)
            elif channel in ("publicTrade", "tickers"):
                symbol = rest
            else:
                continue
            key = (venue, symbol)
            if key not in instruments:
                instruments[key] = Instrument(venue, symbol)
            i = instruments[key]
            i.n["messages"] += 1
            data = msg["data"]
            if channel == "orderbook":
                levels = data["b"] + data["a"]
                i.scales([l[0] for l in levels], [l[1] for l in levels])
                i.book(msg, depth)
            elif channel == "publicTrade":
                i.scales([t["p"] for t in data], [t["v"] for t in data])
                i.n["trades"] += len(data)
            else:
                i.scales([data[k] for k in TICKER_PX if data.get(k)],
                         [data[k] for k in TICKER_SZ if data.get(k)])
                carried = [k for k in TICKER_BBO if data.get(k)]
                i.ticker.update({k: data[k] for k in carried})
                if carried and len(i.ticker) == 4:
                    i.n["tickers"] += 1
    for i in instruments.values():
        print(json.dumps(i.report()))


if __name__ == "__main__":
    main(sys.argv[1])
