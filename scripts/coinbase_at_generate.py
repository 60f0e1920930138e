#!/usr/bin/env python3
"""Writes data/coinbase_at_generated.cap.gz: one Coinbase Advanced Trade market data session
(wss://advanced-trade-ws.coinbase.com) with known answers, for `pulse replay` and its tests (no
real Advanced Trade recording is bundled). Deterministic: the same capture every run (seeded),
stdlib only; gzip with no timestamp or name in its header.

The file is what a client recording one connection would write: its `subscribe` and
`unsubscribe` messages as `coinbase:send` lines and every received message as `coinbase:ws`.
Every message carries the connection's `sequence_num`, one counter across all channels. The
script keeps the venue's book of each product (plain dicts, never crossed) and sends what the
docs (https://docs.cdp.coinbase.com/advanced-trade/docs/ws-channels) say the venue sends:

  - the documented examples: the subscriptions reply, a heartbeat, the BTC-USD ticker (before
    BTC-USD's book arrives, so it is counted but not held to a book), the `l2_data` snapshot's
    two BTC-USD bids (inside the generated whole book) and the ETH-USD `market_trades` snapshot;
  - BTC-USD's snapshot is the whole book: 46,000 levels from 0.01 to 1,000,000 (dense near the
    touch, sparse far from it), a frame of about 4.9 MB; ETH-USD and SOL-USD are smaller;
  - updates with absolute quantities, "0" deleting, near the touch; tickers whose best bid and
    ask are the venue's book at that point of the sequence; trades; heartbeats;
  - deletes of prices the book does not hold (one per product: ignored, counted);
  - a sequence gap: an ETH-USD update is lost; the next message shows the gap, so every book
    is stale; the client resubscribes `level2` for each product (`unsubscribe`, `subscribe`),
    messages in flight meanwhile are dropped, then each product's new snapshot resyncs it;
  - a message received twice (same `sequence_num`): dropped and counted.

scripts/coinbase_at_book_reference.py rebuilds the books from this file independently.

    scripts/coinbase_at_generate.py [OUTDIR]   (default data)
"""
import gzip
import json
import os
import random
import sys
from decimal import Decimal as D

T0 = 1733475600000000000  # 2024-12-06T09:00:00Z, nanoseconds
STEPS = 260
GAP_AT = 110
DUP_AT = 190
PRODUCTS = ("BTC-USD", "ETH-USD", "SOL-USD")
CENT = D("0.01")


def js(obj):
    return json.dumps(obj, separators=(",", ":"))


def num(d):
    """A decimal as the venue writes it: no exponent, no trailing zeros."""
    return format(d.normalize(), "f")


def iso(ns):
    secs, frac = divmod(ns, 1_000_000_000)
    days, rem = divmod(secs, 86_400)
    h, rem = divmod(rem, 3_600)
    m, s = divmod(rem, 60)
    # T0 is 2024-12-06; the session lasts minutes.
    return f"2024-12-{6 + days - 20_063:02d}T{h:02d}:{m:02d}:{s:02d}.{frac:09d}Z"


class Session:
    def __init__(self, rng):
        self.rng = rng
        self.ns = T0
        self.seq = 0
        self.lines = []
        self.last_ws = None

    def tick(self):
        self.ns += self.rng.randrange(300_000, 3_000_000)

    def send(self, obj):
        self.tick()
        self.lines.append(f"{self.ns}\tcoinbase:send\t{js(obj)}")

    def ws(self, channel, events, lost=False):
        """One message numbered with the connection's next `sequence_num`; a lost one only
        uses up its number."""
        self.tick()
        msg = {"channel": channel, "client_id": "", "timestamp": iso(self.ns),
               "sequence_num": self.seq, "events": events}
        self.seq += 1
        if not lost:
            line = js(msg)
            self.lines.append(f"{self.ns}\tcoinbase:ws\t{line}")
            self.last_ws = line

    def again(self):
        """The last message received once more (a duplicate)."""
        self.tick()
        self.lines.append(f"{self.ns}\tcoinbase:ws\t{self.last_ws}")


class Book:
    """The venue's book of one product (prices and quantities as Decimal)."""

    def __init__(self, product, bids, asks, qd, rng):
        self.product, self.qd, self.rng = product, qd, rng
        self.bids, self.asks = bids, asks
        self.absent_deleted = False

    def qty(self):
        return D(self.rng.randrange(1, 10 ** (self.qd + 1))).scaleb(-self.qd)

    def best_bid(self):
        return max(self.bids)

    def best_ask(self):
        return min(self.asks)

    def snapshot_event(self, t):
        # Bids best first, then offers best first, as the venue lists them.
        updates = [{"side": "bid", "event_time": t, "price_level": num(p),
                    "new_quantity": num(self.bids[p])} for p in sorted(self.bids, reverse=True)]
        updates += [{"side": "offer", "event_time": t, "price_level": num(p),
                     "new_quantity": num(self.asks[p])} for p in sorted(self.asks)]
        return {"type": "snapshot", "product_id": self.product, "updates": updates}

    def update_event(self, t):
        rng, changes = self.rng, []
        for _ in range(rng.randrange(1, 6)):
            is_bid = rng.random() < 0.5
            side = self.bids if is_bid else self.asks
            near = sorted(side, reverse=is_bid)[:20]
            roll = rng.random()
            if roll < 0.45:
                p = rng.choice(near)
                side[p] = self.qty()
                q = side[p]
            elif roll < 0.75 and len(side) > 30:
                p = rng.choice(near)
                del side[p]
                q = D(0)
            else:
                # A new level near the touch, on the book's side of the spread.
                inner = self.best_bid() + CENT if not is_bid else self.best_ask() - CENT
                step = CENT * rng.randrange(0, 25)
                p = inner - step if is_bid else inner + step
                if (is_bid and p >= self.best_ask()) or (not is_bid and p <= self.best_bid()):
                    continue
                side[p] = self.qty()
                q = side[p]
            changes.append({"side": "bid" if is_bid else "offer", "event_time": t,
                            "price_level": num(p), "new_quantity": num(q)})
        if not self.absent_deleted and rng.random() < 0.08:
            # The first tick below the touch the book does not hold.
            self.absent_deleted = True
            p = self.best_bid() - CENT
            while p in self.bids:
                p -= CENT
            changes.append({"side": "bid", "event_time": t, "price_level": num(p),
                            "new_quantity": "0"})
        assert self.best_bid() < self.best_ask(), self.product
        return {"type": "update", "product_id": self.product, "updates": changes}

    def ticker(self, last):
        bb, ba = self.best_bid(), self.best_ask()
        return {"type": "ticker", "product_id": self.product, "price": num(last),
                "volume_24_h": "16038.28770938", "low_24_h": num(bb - 10),
                "high_24_h": num(ba + 10), "low_52_w": "15460", "high_52_w": "48240",
                "price_percent_chg_24_h": "-4.15775596190603",
                "best_bid": num(bb), "best_bid_quantity": f"{self.bids[bb]:.8f}",
                "best_ask": num(ba), "best_ask_quantity": f"{self.asks[ba]:.8f}"}


def btc_book(rng):
    """The whole BTC-USD book: 23,000 levels a side, every tick near the touch, then sparse
    from 0.01 up (bids) and out to 1,000,000 (asks)."""
    bids, asks = {}, {}
    qty = lambda: D(rng.randrange(1, 10 ** 9)).scaleb(-8)
    touch_bid, touch_ask = 2192173, 2192201  # cents
    dense = [c for c in range(touch_bid - 2999, touch_bid + 1) if rng.random() < 0.8]
    for c in dense:
        bids[D(c).scaleb(-2)] = qty()
    far = rng.sample(range(3, touch_bid - 3000), 23_000 - len(dense) - 2)
    for c in far + [1, 2]:
        bids[D(c).scaleb(-2)] = qty()
    # The documented snapshot's two bids.
    bids[D("21921.73")] = D("0.06317902")
    bids[D("21921.30")] = D("0.02")
    dense = [c for c in range(touch_ask, touch_ask + 3000) if rng.random() < 0.8]
    dense[0] = touch_ask
    for c in dense:
        asks[D(c).scaleb(-2)] = qty()
    far = rng.sample(range(touch_ask + 3000, 100_000_000), 23_000 - len(dense) - 1)
    for c in far + [100_000_000]:
        asks[D(c).scaleb(-2)] = qty()
    assert len(bids) + len(asks) == 46_000, len(bids) + len(asks)
    return bids, asks


def small_book(rng, touch_bid, spread, levels, qd):
    """A book of `levels` ticks a side around a touch (in cents), most ticks present."""
    bids, asks = {}, {}
    qty = lambda: D(rng.randrange(1, 10 ** (qd + 2))).scaleb(-qd)
    for i in range(levels):
        if i == 0 or rng.random() < 0.85:
            bids[D(touch_bid - i).scaleb(-2)] = qty()
            asks[D(touch_bid + spread + i).scaleb(-2)] = qty()
    return bids, asks


def main(outdir):
    rng = random.Random(20241206)
    s = Session(rng)
    books = {
        "BTC-USD": Book("BTC-USD", *btc_book(rng), 8, rng),
        "ETH-USD": Book("ETH-USD", *small_book(rng, 126_001, 3, 600, 8), 8, rng),
        "SOL-USD": Book("SOL-USD", *small_book(rng, 2_345, 2, 200, 3), 3, rng),
    }
    products = list(PRODUCTS)
    s.send({"type": "subscribe", "channel": "heartbeats"})
    for channel in ("level2", "market_trades", "ticker"):
        s.send({"type": "subscribe", "product_ids": products, "channel": channel})
    s.ws("subscriptions", [{"subscriptions": {"heartbeats": ["heartbeats"], "level2": products,
                                              "market_trades": products, "ticker": products}}])
    # The documented heartbeat, ticker and trade examples.
    s.ws("heartbeats", [{"current_time": "2023-06-23 20:31:56.121961769 +0000 UTC "
                         "m=+91717.525857105", "heartbeat_counter": "3049"}])
    s.ws("ticker", [{"type": "snapshot", "tickers": [{
        "type": "ticker", "product_id": "BTC-USD", "price": "21932.98",
        "volume_24_h": "16038.28770938", "low_24_h": "21835.29", "high_24_h": "23011.18",
        "low_52_w": "15460", "high_52_w": "48240", "price_percent_chg_24_h": "-4.15775596190603",
        "best_bid": "21931.98", "best_bid_quantity": "8000.21000000", "best_ask": "21933.98",
        "best_ask_quantity": "8038.07770938"}]}])
    for p in products:
        s.ws("l2_data", [books[p].snapshot_event("1970-01-01T00:00:00Z")])
    s.ws("market_trades", [{"type": "snapshot", "trades": [{
        "trade_id": "000000000", "product_id": "ETH-USD", "price": "1260.01", "size": "0.3",
        "side": "BUY", "time": "2019-08-14T20:42:27.265Z"}]}])
    beat, trade_id = 3050, 1000
    for step in range(STEPS):
        p = rng.choice(products)
        book = books[p]
        roll = rng.random()
        if step == GAP_AT:
            # An ETH-USD update the client never receives: its number is used up.
            s.ws("l2_data", [books["ETH-USD"].update_event(iso(s.ns))], lost=True)
            s.ws("l2_data", [book.update_event(iso(s.ns))])
            for q in products:
                s.send({"type": "unsubscribe", "product_ids": [q], "channel": "level2"})
                s.send({"type": "subscribe", "product_ids": [q], "channel": "level2"})
            # In flight while the resubscriptions travel: dropped, not held to a book.
            s.ws("l2_data", [books["SOL-USD"].update_event(iso(s.ns))])
            s.ws("ticker", [{"type": "update", "tickers": [books["ETH-USD"].ticker(
                books["ETH-USD"].best_bid())]}])
            for q in products:
                s.ws("subscriptions", [{"subscriptions": {"level2": [x for x in products
                                                                     if x != q]}}])
                s.ws("subscriptions", [{"subscriptions": {"level2": products}}])
                s.ws("l2_data", [books[q].snapshot_event(iso(s.ns))])
            continue
        if step == DUP_AT:
            s.ws("l2_data", [book.update_event(iso(s.ns))])
            s.again()
            continue
        if roll < 0.6:
            s.ws("l2_data", [book.update_event(iso(s.ns))])
        elif roll < 0.75:
            s.ws("ticker", [{"type": "update", "tickers": [book.ticker(book.best_ask())]}])
        elif roll < 0.9:
            trades = []
            for _ in range(rng.randrange(1, 4)):
                buy_maker = rng.random() < 0.5
                px = book.best_bid() if buy_maker else book.best_ask()
                trade_id += 1
                trades.append({"trade_id": str(trade_id), "product_id": p, "price": num(px),
                               "size": num(book.qty()), "side": "BUY" if buy_maker else "SELL",
                               "time": iso(s.ns)})
            s.ws("market_trades", [{"type": "update", "trades": trades}])
        else:
            s.ws("heartbeats", [{"current_time": iso(s.ns), "heartbeat_counter": str(beat)}])
            beat += 1
    # Each product's closing ticker: its book is held to it.
    for p in products:
        s.ws("ticker", [{"type": "update", "tickers": [books[p].ticker(books[p].best_bid())]}])
    data = ("\n".join(s.lines) + "\n").encode()
    path = os.path.join(outdir, "coinbase_at_generated.cap.gz")
    with open(path, "wb") as f:
        f.write(gzip.compress(data, compresslevel=9, mtime=0))
    print(f"{path}: {len(s.lines)} lines, {len(data)} bytes before gzip", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "data")
