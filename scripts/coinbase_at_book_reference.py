#!/usr/bin/env python3
"""An independent reference for `pulse replay` on Coinbase Advanced Trade captures (source
`coinbase`): the expected figures in engine/tests/coinbase_at_replay.rs come from this script,
not from Pulse.

It rebuilds every book with plain dicts and Python's Decimal, following the Advanced Trade
"WebSocket Channels" document (https://docs.cdp.coinbase.com/advanced-trade/docs/ws-channels)
and the rules Pulse states where the document is silent:
  - `sequence_num` is one counter per connection across every channel. The next number is in
    order; a larger one is a gap: every book goes stale (a gap counted on each) until its
    product's next snapshot (a resync); a number at or below the last is a message received
    twice: dropped, its book events counted as `duplicates`; 0 after a larger number is a new
    connection (every book stale, `sequence_resets`);
  - a `snapshot` event replaces the book (quantity "0" levels left out); an `update` sets each
    level's absolute quantity, "0" deleting; deleting a price the book does not hold is
    ignored and counted (`absent_deletes`); updates while stale are dropped;
  - every l2 event, trade and ticker counts as a message of its product (duplicates too);
    tickers count when their frame is not a duplicate; they are not compared with the book
    (their place in the connection's sequence names no book state).

Scales, as `pulse replay` derives them from the capture: per product, the most decimals
(trailing zeros aside) any price (book levels, trade prices, ticker price/best bid/best ask)
and any size (levels, trade sizes, ticker quantities) was sent with.

    scripts/coinbase_at_book_reference.py CAPTURE   (plain or gzip)

prints one JSON object per product (in order of first appearance) with its counts, faults and
the top five levels per side at the end, as `pulse replay --report-json` writes them.
"""
import gzip
import json
import sys
from decimal import Decimal

DEPTH = 5


def places(text):
    frac = text.split(".", 1)[1] if "." in text else ""
    return len(frac.rstrip("0"))


class Product:
    def __init__(self, symbol):
        self.symbol = symbol
        self.bids, self.asks = {}, {}
        self.synced = False
        self.pscale = self.qscale = 0
        self.n = dict(messages=0, applied=0, dropped=0, duplicates=0, gaps=0, snapshots=0,
                      resyncs=0, stale_marks=0, last_update_id=0, sequence_resets=0,
                      absent_deletes=0, trades=0, tickers=0, ticker_ok=0, ticker_mismatch=0)

    def scales(self, prices, sizes):
        for p in prices:
            if p:
                self.pscale = max(self.pscale, places(p))
        for q in sizes:
            if q:
                self.qscale = max(self.qscale, places(q))

    def stale(self):
        if self.synced:
            self.n["stale_marks"] += 1
        self.synced = False

    def book_event(self, event, seq):
        n = self.n
        if event["type"] == "snapshot":
            self.bids, self.asks = {}, {}
            for u in event["updates"]:
                q = Decimal(u["new_quantity"])
                if q > 0:
                    side = self.bids if u["side"] == "bid" else self.asks
                    side[Decimal(u["price_level"])] = q
            if n["snapshots"] > 0 and not self.synced:
                n["resyncs"] += 1
            n["snapshots"] += 1
            self.synced = True
            n["last_update_id"] = seq
            return
        if not self.synced:
            n["dropped"] += 1
            return
        for u in event["updates"]:
            side = self.bids if u["side"] == "bid" else self.asks
            p, q = Decimal(u["price_level"]), Decimal(u["new_quantity"])
            if q == 0:
                if p in side:
                    del side[p]
                else:
                    n["absent_deletes"] += 1
            else:
                side[p] = q
        n["applied"] += 1
        n["last_update_id"] = seq
        if self.bids and self.asks:
            assert max(self.bids) < min(self.asks), f"{self.symbol} crossed at {seq}"

    def ticker(self, t):
        # Counted, not compared: a ticker's place in the connection's sequence names no book
        # state (tickers are emitted per match, level2 on its own cadence).
        self.n["tickers"] += 1

    def report(self):
        def fmt(d, scale):
            return f"{d:.{scale}f}"

        def top(side, reverse):
            return [[fmt(p, self.pscale), fmt(side[p], self.qscale)]
                    for p in sorted(side, reverse=reverse)[:DEPTH]]

        n = dict(self.n)
        ticker_check = dict(ok=n.pop("ticker_ok"), mismatch=n.pop("ticker_mismatch"))
        return dict(venue="coinbase", symbol=self.symbol, **n, ticker_check=ticker_check,
                    book="live" if self.synced else "stale",
                    top=dict(bids=top(self.bids, True), asks=top(self.asks, False)))


def lines(path):
    with open(path, "rb") as f:
        head = f.read(2)
    opener = gzip.open if head == b"\x1f\x8b" else open
    with opener(path, "rb") as f:
        yield from f


def messages(path):
    for raw in lines(path):
        parts = raw.rstrip(b"\n").split(b"\t", 2)
        if len(parts) != 3 or parts[1] != b"coinbase:ws":
            continue
        try:
            msg = json.loads(parts[2])
        except ValueError:
            continue
        if isinstance(msg, dict) and "channel" in msg:
            yield msg


def named(msg):
    """The products a message names, in order."""
    for event in msg["events"]:
        if msg["channel"] == "l2_data":
            yield event["product_id"]
        for item in event.get("trades", []) + event.get("tickers", []):
            yield item["product_id"]


def main(path):
    # Every product of the capture first, as a replay's registry holds them all: a gap
    # invalidates books whose product has not spoken yet too.
    products = {}
    for msg in messages(path):
        for symbol in named(msg):
            products.setdefault(symbol, Product(symbol))
    last = None
    sequence = dict(gaps=0, duplicates=0, restarts=0)

    def product(symbol):
        return products[symbol]

    for msg in messages(path):
        seq = msg["sequence_num"]
        duplicate = False
        if last is None or seq == last + 1:
            last = seq
        elif seq == 0 and last > 0:
            sequence["restarts"] += 1
            for p in products.values():
                p.n["sequence_resets"] += 1
                p.stale()
            last = seq
        elif seq <= last:
            sequence["duplicates"] += 1
            duplicate = True
        else:
            sequence["gaps"] += 1
            for p in products.values():
                p.n["gaps"] += 1
                p.stale()
            last = seq
        channel = msg["channel"]
        for event in msg["events"]:
            if channel == "l2_data":
                p = product(event["product_id"])
                p.n["messages"] += 1
                p.scales([u["price_level"] for u in event["updates"]],
                         [u["new_quantity"] for u in event["updates"]])
                if duplicate:
                    p.n["duplicates"] += 1
                else:
                    p.book_event(event, seq)
            elif channel == "market_trades":
                for t in event["trades"]:
                    p = product(t["product_id"])
                    p.n["messages"] += 1
                    p.scales([t["price"]], [t["size"]])
                    if not duplicate:
                        p.n["trades"] += 1
            elif channel in ("ticker", "ticker_batch"):
                for t in event["tickers"]:
                    p = product(t["product_id"])
                    p.n["messages"] += 1
                    p.scales([t.get("price"), t.get("best_bid"), t.get("best_ask")],
                             [t.get("best_bid_quantity"), t.get("best_ask_quantity")])
                    if not duplicate:
                        p.ticker(t)
    for p in products.values():
        print(json.dumps(p.report()))
    print(json.dumps(dict(connection=sequence)), file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1])
