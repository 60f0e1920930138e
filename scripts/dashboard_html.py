#!/usr/bin/env python3
"""A static HTML view of the Grafana dashboard: every panel of configs/grafana/pulse-dashboard.json
at its grid position, its queries run against a Prometheus over a time window, drawn as plain
SVG (time series and state timelines as lines, heat maps as cells, stats and bar gauges as
their last values). Not Grafana: a picture of what the panels show, for the README.

    scripts/dashboard_html.py DASHBOARD.json http://127.0.0.1:9090 START END > page.html

START and END are seconds since the epoch. Standard library only.
"""
import html
import json
import math
import sys
import urllib.parse
import urllib.request

ROW_PX = 30  # one grid unit of height
COLOURS = ["#7eb26d", "#eab839", "#6ed0e0", "#ef843c", "#e24d42", "#1f78c1", "#ba43a9",
           "#705da0", "#508642", "#cca300", "#447ebc", "#c15c17"]


def substitute(expr, start, end):
    span = max(int(end - start), 1)
    return (expr.replace("${instance}", ".*").replace("$instance", ".*")
            .replace("$__rate_interval", "10s").replace("$__interval", "1s")
            .replace("$__range", f"{span}s"))


def query_range(prom, expr, start, end):
    args = urllib.parse.urlencode({"query": expr, "start": start, "end": end, "step": 1})
    with urllib.request.urlopen(f"{prom}/api/v1/query_range?{args}", timeout=30) as r:
        answer = json.load(r)
    if answer.get("status") != "success":
        return []
    return answer["data"]["result"]


def legend(fmt, metric):
    if not fmt:
        return ",".join(f"{k}={v}" for k, v in metric.items() if k not in ("job", "instance"))
    out = fmt.replace("{{instance}}", "")  # the page shows one engine
    for k, v in metric.items():
        out = out.replace("{{" + k + "}}", v)
    # Labels the series lacks.
    while "{{" in out:
        a = out.index("{{")
        b = out.find("}}", a)
        out = out[:a] + out[b + 2:] if b >= 0 else out[:a]
    return " ".join(out.split()) or "value"


def series_of(panel, prom, start, end):
    out = []
    for t in panel.get("targets", []):
        if "expr" not in t:
            continue
        for r in query_range(prom, substitute(t["expr"], start, end), start, end):
            points = [(float(ts), float(v)) for ts, v in r["values"] if v not in ("NaN", "+Inf", "-Inf")]
            out.append((legend(t.get("legendFormat", ""), r["metric"]), points))
    return out


def fmt_value(v):
    a = abs(v)
    if a >= 1e9:
        return f"{v / 1e9:.2f}G"
    if a >= 1e6:
        return f"{v / 1e6:.2f}M"
    if a >= 1e4:
        return f"{v / 1e3:.1f}k"
    if a >= 100 or v == int(v):
        return f"{v:.0f}"
    return f"{v:.3g}"


def lines_svg(series, w, h, start, end):
    pts = [v for _, p in series for _, v in p]
    if not pts:
        return no_data(w, h)
    lo, hi = min(pts), max(pts)
    if hi == lo:
        lo, hi = lo - 1, hi + 1
    left, bottom = 52, 16
    pw, ph = w - left - 6, h - bottom - 4

    def xy(t, v):
        return left + (t - start) / max(end - start, 1) * pw, 4 + (hi - v) / (hi - lo) * ph

    parts = [f'<svg width="{w}" height="{h}">']
    for frac in (0, 0.5, 1):
        v = hi - frac * (hi - lo)
        y = 4 + frac * ph
        parts.append(f'<line x1="{left}" x2="{w - 6}" y1="{y:.1f}" y2="{y:.1f}" stroke="#333"/>'
                     f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{fmt_value(v)}</text>')
    for i, (_, p) in enumerate(series):
        if not p:
            continue
        d = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(t, v) for t, v in p))
        parts.append(f'<polyline fill="none" stroke="{COLOURS[i % len(COLOURS)]}" stroke-width="1.5" points="{d}"/>')
    parts.append(f'<text x="{left}" y="{h - 2}">{int(end - start)} s</text></svg>')
    return "".join(parts)


def heatmap_svg(series, w, h, start, end):
    rows = [(n, p) for n, p in series if p]
    if not rows:
        return no_data(w, h)
    vals = [v for _, p in rows for _, v in p if v > 0]
    lo, hi = (min(vals), max(vals)) if vals else (1, 1)
    span = math.log(hi / lo) or 1
    left = 70
    rh = (h - 4) / len(rows)
    cw = (w - left - 6) / max(end - start, 1)
    parts = [f'<svg width="{w}" height="{h}">']
    for r, (name, p) in enumerate(rows):
        y = 2 + r * rh
        parts.append(f'<text x="{left - 4}" y="{y + rh / 2 + 4:.1f}" text-anchor="end">{html.escape(name)}</text>')
        for t, v in p:
            shade = math.log(max(v, lo) / lo) / span  # log scale: latencies span decades
            colour = f"rgb({int(40 + 215 * shade)},{int(40 + 100 * shade)},{int(40 * (1 - shade))})"
            x = left + (t - start) * cw
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{cw + 0.5:.1f}" height="{rh - 1:.1f}" fill="{colour}"/>')
    parts.append("</svg>")
    return "".join(parts)


def last_values(series, panel):
    unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit", "")
    suffix = "%" if unit == "percent" else ""
    cells = []
    for i, (name, p) in enumerate(series):
        if p:
            cells.append(f'<div class="stat"><b style="color:{COLOURS[i % len(COLOURS)]}">'
                         f'{fmt_value(p[-1][1])}{suffix}</b> {html.escape(name)}</div>')
    return "".join(cells) or '<div class="nodata">no data</div>'


def no_data(w, h):
    return f'<svg width="{w}" height="{h}"><text x="{w / 2}" y="{h / 2}" text-anchor="middle">no data</text></svg>'


def panel_html(panel, prom, start, end, width_px):
    g = panel["gridPos"]
    style = f"grid-column:{g['x'] + 1}/span {g['w']};grid-row:{g['y'] + 1}/span {g['h']}"
    title = html.escape(panel.get("title", ""))
    if panel["type"] == "row":
        return f'<div class="row" style="{style}">{title}</div>'
    w = int(width_px * g["w"] / 24) - 12
    h = g["h"] * ROW_PX - 60
    series = series_of(panel, prom, start, end)
    kind = panel["type"]
    if kind in ("timeseries", "state-timeline"):
        body = lines_svg(series, w, h, start, end)
        keys = "".join(f'<span style="color:{COLOURS[i % len(COLOURS)]}">&#9632; {html.escape(n)}</span> '
                       for i, (n, _) in enumerate(series[:10]))
        more = f" +{len(series) - 10} more" if len(series) > 10 else ""
        body += f'<div class="keys">{keys}{more}</div>'
    elif kind == "heatmap":
        body = heatmap_svg(series, w, h + 14, start, end)
    else:
        body = last_values(series, panel)
    return f'<div class="panel" style="{style}"><div class="title">{title}</div>{body}</div>'


def main():
    dashboard, prom, start, end = sys.argv[1], sys.argv[2].rstrip("/"), float(sys.argv[3]), float(sys.argv[4])
    d = json.load(open(dashboard))
    width = 1800
    panels = "".join(panel_html(p, prom, start, end, width) for p in d["panels"])
    print(f"""<!doctype html><html><head><meta charset="utf-8"><style>
body{{background:#111217;color:#ccccdc;font:12px sans-serif;margin:8px;width:{width}px}}
h1{{font-size:18px;margin:4px 0 8px}}
.grid{{display:grid;grid-template-columns:repeat(24,1fr);grid-auto-rows:{ROW_PX}px;gap:4px}}
.panel{{background:#181b1f;border:1px solid #2c3235;border-radius:2px;padding:4px;overflow:hidden}}
.title{{font-weight:bold;margin-bottom:2px}} .row{{font-size:15px;font-weight:bold;align-self:end}}
svg text{{fill:#9fa7b3;font-size:10px}} .keys{{font-size:10px;line-height:12px}}
.stat{{font-size:13px;margin:2px}} .stat b{{font-size:18px}} .nodata{{color:#777}}
</style></head><body><h1>{html.escape(d.get("title", ""))}: configs/portfolio.toml replayed at recorded pace</h1>
<div class="grid">{panels}</div></body></html>""")


if __name__ == "__main__":
    main()
