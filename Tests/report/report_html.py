#!/usr/bin/env python3
"""report.html in a real browser: the muon_recal build and its AXI4-Stream build (stream.yaml)
rendered by headless Chromium to PNG (exit 0, a PNG that is not blank) and their DOM
(chromium --dump-dom) checked against report.json / stream.json: the stage timeline (one bar per
stage, the clock and budget lines), the layer table (one row per layer, its name in a cell), the
wrapper's latency, FIFO depth and throughput; no script, no network reference; the same build
twice gives the same bytes.

    python3 Tests/report/report_html.py --rtlgen .build/release/rtlgen [--work .sim/report-html]
"""
import argparse
import html as html_lib
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def fail(msg):
    print(f"report-html: FAILED: {msg}", file=sys.stderr)
    sys.exit(1)


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        p = shutil.which(name)
        if p:
            return p
    fail("chromium not found (Debian: apt-get install chromium; make report-html installs it as root)")


def browser(args, url):
    cmd = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           "--no-first-run", "--disable-extensions", *args, url]
    p = subprocess.run(cmd, capture_output=True, timeout=120)
    if p.returncode != 0:
        fail(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr.decode(errors='replace')[-800:]}")
    return p.stdout.decode("utf-8")


def png_check(path):
    """A valid PNG of the window's size whose pixels are not all one colour."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail(f"{path}: not a PNG")
    w, h = struct.unpack(">II", data[16:24])
    pos, idat = 8, b""
    while pos < len(data):
        n = struct.unpack(">I", data[pos:pos + 4])[0]
        kind = data[pos + 4:pos + 8]
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + n]
        pos += 12 + n
    raw = zlib.decompress(idat)
    distinct = len(set(raw[::7]))
    if w < 800 or h < 600 or distinct < 32:
        fail(f"{path}: {w}x{h}, {distinct} distinct byte values: blank or truncated page")
    return w, h


def check_dom(dom, report, stream, what):
    if not re.search(r'<svg[^>]*id="stage-timeline"', dom):
        fail(f"{what}: no stage timeline (svg#stage-timeline)")
    timeline = dom[dom.index('id="stage-timeline"'):]
    timeline = timeline[:timeline.index("</svg>")]
    stages = report["stage_delays_ns"]
    bars = re.findall(r"<title>stage (\d+): ([0-9.]+) ns</title>", timeline)
    if [int(k) for k, _ in bars] != list(range(len(stages))):
        fail(f"{what}: timeline has stage bars {[k for k, _ in bars]}, report.json has {len(stages)} stages")
    for (k, d), want in zip(bars, stages):
        if abs(float(d) - want) > 0.005:
            fail(f"{what}: stage {k} drawn at {d} ns, report.json says {want}")
    for needle in (f"clock period {report['clock_period_ns']} ns", f"stage budget {report['stage_budget_ns']} ns"):
        if needle not in timeline:
            fail(f"{what}: timeline lacks '{needle}'")
    m = re.search(r'<table id="layer-table">(.*?)</table>', dom, re.S)
    if not m:
        fail(f"{what}: no layer table (table#layer-table)")
    rows = re.findall(r"<tr>(.*?)</tr>", m.group(1), re.S)
    names = [re.sub(r"<[^>]+>", "", re.search(r'<td class="l name">(.*?)</td>', r, re.S).group(1)).strip()
             for r in rows if 'class="l name"' in r]
    want = [l["name"] for l in report["layers"]]
    if names != want:
        fail(f"{what}: layer table rows {names}, report.json layers {want}")
    for l, r in zip(report["layers"], [r for r in rows if 'class="l name"' in r]):
        cells = [html_lib.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)]
        if l["op"] not in cells or l["output_type"] not in cells or f"{l['adders']:,}" not in cells:
            fail(f"{what}: row of {l['name']} lacks its op / output type / adders: {cells}")
    if stream is not None:
        if 'id="stream"' not in dom:
            fail(f"{what}: no stream section")
        sec = dom[dom.index('id="stream"'):dom.index('id="timeline"')]
        text = re.sub(r"<[^>]+>", " ", sec)
        for needle in (f"{stream['latency_cycles']} cycles", f"{stream['fifo_depth']} entries",
                       f"{stream['throughput_beats_per_cycle']} beat / cycle"):
            if needle not in text:
                fail(f"{what}: stream section lacks '{needle}'")
    elif 'id="stream"' in dom:
        fail(f"{what}: a stream section in a build without a stream")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rtlgen", required=True)
    ap.add_argument("--work", default=os.path.join(ROOT, ".sim", "report-html"))
    a = ap.parse_args()
    rtlgen = os.path.abspath(a.rtlgen)
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    model = os.path.join(ROOT, "examples", "muon_recal", "model.json")
    builds = [("muon_recal", []), ("stream", ["--config", os.path.join(ROOT, "examples", "muon_recal", "stream.yaml")])]
    for name, extra in builds:
        out = os.path.join(a.work, name)
        for suffix in ("", "-again"):
            subprocess.run([rtlgen, "build", model, *extra, "--out", out + suffix], check=True, stdout=subprocess.DEVNULL)
        html = open(os.path.join(out, "report.html"), "rb").read()
        if html != open(os.path.join(out + "-again", "report.html"), "rb").read():
            fail(f"{name}: two builds of the same model give different report.html")
        text = html.decode("utf-8")
        if "<script" in text.lower() or re.search(r"(src|href)=\"(https?:)?//", text):
            fail(f"{name}: report.html has a script or a network reference")
        if set(re.findall(r"https?://[^\"' )]+", text)) - {"http://www.w3.org/2000/svg"}:
            fail(f"{name}: report.html names a network address")
        report = json.load(open(os.path.join(out, "report.json")))
        stream = json.load(open(os.path.join(out, "stream.json"))) if extra else None
        url = "file://" + os.path.abspath(os.path.join(out, "report.html"))
        png = os.path.join(a.work, f"{name}.png")
        browser(["--window-size=1400,1800", f"--screenshot={png}"], url)
        w, h = png_check(png)
        check_dom(browser(["--dump-dom"], url), report, stream, name)
        print(f"report-html {name}: {len(html):,} bytes, deterministic, rendered by Chromium to {png} ({w}x{h}); "
              f"DOM: {len(report['stage_delays_ns'])} stage bars, {len(report['layers'])} layer rows"
              + (f", stream latency {stream['latency_cycles']} cycles, FIFO {stream['fifo_depth']}" if stream else ""))


if __name__ == "__main__":
    main()
