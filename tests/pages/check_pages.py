#!/usr/bin/env python3
"""The report page in a real browser: headless Chromium, driven over the DevTools protocol on
a pipe (standard library only).

1. Speaks MCP to `scale-advisor serve` as an MCP Apps host would: `initialize` with the
   io.modelcontextprotocol/ui capability, `tools/list` (each page tool's `_meta.ui.resourceUri`),
   `resources/read` of that ui:// resource, `tools/call`; then renders the served view in a
   host page (host.html) that answers `ui/initialize` and sends the result as
   `ui/notifications/tool-result`.
2. Writes pages with `scale-advisor call ... --html FILE` and opens them as files.

For each page, at 1280x800 and at a phone's width, in the light and the dark scheme: the DOM
holds what the result says (the seven sections, the diagram's boxes, the findings by severity,
a line per resource and a mark per crossing), nothing overflows the viewport, the page made no
network request and broke no Content-Security-Policy rule, and the screenshot is the viewport's
size, not blank, and dark or light as asked.

Usage: check_pages.py BINARY OUT_DIR [--docs DOCS_DIR]
"""

import base64
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
UI_EXTENSION = "io.modelcontextprotocol/ui"
MIME = "text/html;profile=mcp-app"
TITLES = [
    "Current Architecture Analysis",
    "Bottlenecks Identified",
    "Recommended Architecture",
    "Components to Add",
    "Migration Plan",
    "Cost Impact",
    "Risk Mitigation",
]
DESKTOP = (1280, 800)
PHONE = (390, 844)

failures = []
passed = 0


def check(condition, what):
    global passed
    if condition:
        passed += 1
    else:
        failures.append(what)
        print(f"FAIL {what}", flush=True)


# ------------------------------------------------------------------------------- MCP over stdio
class Server:
    def __init__(self, binary):
        self.proc = subprocess.Popen(
            [binary, "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True)
        self.next_id = 1

    def request(self, method, params):
        ident = self.next_id
        self.next_id += 1
        self.proc.stdin.write(json.dumps({"jsonrpc": "2.0", "id": ident, "method": method, "params": params}) + "\n")
        self.proc.stdin.flush()
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"the server closed stdout during {method}")
            message = json.loads(line)
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]

    def notify(self, method, params):
        self.proc.stdin.write(json.dumps({"jsonrpc": "2.0", "method": method, "params": params}) + "\n")
        self.proc.stdin.flush()

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


# ------------------------------------------------------------------------ DevTools over a pipe
class Browser:
    """Chromium with --remote-debugging-pipe: commands on fd 3, answers and events on fd 4,
    each message a JSON text ended by a NUL byte."""

    def __init__(self, executable, profile):
        to_browser_r, self.to_browser = os.pipe()
        self.from_browser, from_browser_w = os.pipe()
        flags = ["--headless", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu",
                 "--hide-scrollbars", "--no-first-run", "--no-default-browser-check",
                 "--disable-extensions", "--disable-background-networking", "--disable-sync",
                 "--disable-component-update", "--disable-default-apps", "--mute-audio",
                 "--allow-file-access-from-files", f"--user-data-dir={profile}", "about:blank"]
        script = f'exec "$0" "$@" 3<&{to_browser_r} 4>&{from_browser_w}'
        self.proc = subprocess.Popen(
            ["bash", "-c", script, executable, *flags], pass_fds=(to_browser_r, from_browser_w),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self.buffer = b""
        self.next_id = 1
        self.events = []

    def _read_message(self, deadline):
        while b"\0" not in self.buffer:
            if time.monotonic() > deadline:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self.from_browser, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed its pipe")
            self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(raw)

    def send(self, method, params=None, session=None, timeout=20):
        ident = self.next_id
        self.next_id += 1
        message = {"id": ident, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            answer = self._read_message(deadline)
            if answer.get("id") == ident:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            self.events.append(answer)

    def wait_event(self, method, session, timeout=20):
        deadline = time.monotonic() + timeout
        while True:
            for i, event in enumerate(self.events):
                if event.get("method") == method and event.get("sessionId") == session:
                    return self.events.pop(i)
            self.events.append(self._read_message(deadline))

    def close(self):
        try:
            self.send("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class Tab:
    def __init__(self, browser, width, height, scheme):
        self.browser = browser
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.target = target
        self.session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ["Page", "Runtime", "Network", "Log"]:
            self.send(f"{domain}.enable")
        self.send("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})
        self.send("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": scheme}]})
        # Any CSP violation in any frame of the page is recorded where the test can read it.
        self.send("Page.addScriptToEvaluateOnNewDocument", {"source":
            "window.__violations = [];"
            "document.addEventListener('securitypolicyviolation', e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"})
        self.width, self.height = width, height

    def send(self, method, params=None):
        return self.browser.send(method, params, session=self.session)

    def open(self, url):
        self.send("Page.navigate", {"url": url})
        self.browser.wait_event("Page.loadEventFired", self.session)

    def evaluate(self, expression):
        answer = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in answer:
            raise RuntimeError(f"{expression[:80]}: {answer['exceptionDetails']}")
        return answer["result"].get("value")

    def requests(self):
        """Every URL the page asked the network for, and every console or security error."""
        urls, errors = [], []
        keep = []
        for event in self.browser.events:
            if event.get("sessionId") != self.session:
                keep.append(event)
            elif event.get("method") == "Network.requestWillBeSent":
                urls.append(event["params"]["request"]["url"])
            elif event.get("method") == "Log.entryAdded" and event["params"]["entry"]["level"] == "error":
                errors.append(event["params"]["entry"]["text"])
            elif event.get("method") == "Runtime.exceptionThrown":
                errors.append(json.dumps(event["params"]["exceptionDetails"])[:300])
        self.browser.events = keep
        return urls, errors

    def screenshot(self, path):
        data = base64.b64decode(self.send("Page.captureScreenshot", {"format": "png"})["data"])
        path.write_bytes(data)
        return data

    def close(self):
        self.browser.send("Target.closeTarget", {"targetId": self.target})


# ----------------------------------------------------------------------------- PNG, measured
def png_size(data):
    """Width and height from a PNG's header."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


MEASURE = """
(async (png) => {
  const image = new Image();
  image.src = "data:image/png;base64," + png;
  await image.decode();
  const canvas = document.createElement("canvas");
  canvas.width = image.width; canvas.height = image.height;
  const context = canvas.getContext("2d");
  context.drawImage(image, 0, 0);
  const pixels = context.getImageData(0, 0, image.width, image.height).data;
  let total = 0, count = 0;
  const levels = new Set();
  for (let i = 0; i < pixels.length; i += 16) {
    const grey = Math.round(0.299 * pixels[i] + 0.587 * pixels[i + 1] + 0.114 * pixels[i + 2]);
    total += grey; count++; levels.add(grey);
  }
  return [total / count, levels.size];
})
"""


# ------------------------------------------------------------------------- what the DOM holds
INSPECT = """
(doc => {
  const root = doc.documentElement;
  const q = (s) => Array.from(doc.querySelectorAll(s));
  return {
    rendered: root.getAttribute("data-rendered"),
    theme: root.getAttribute("data-theme"),
    background: doc.defaultView.getComputedStyle(doc.body).backgroundColor,
    sections: q(".report-section > h2").map((h) => h.textContent),
    todayBoxes: q("#architecture-today .arch-box").length,
    targetBoxes: q("#architecture-target .arch-box").length,
    newBoxes: q("#architecture-target .arch-box[data-mark=new]").length,
    critical: q(".severity-group[data-severity=critical] .finding").length,
    warning: q(".severity-group[data-severity=warning] .finding").length,
    lines: q("#forecast-chart polyline.resource-line").map((l) => l.getAttribute("data-resource")),
    lineLabels: q("#forecast-chart .resource-panel > text:first-of-type").map((t) => t.textContent),
    crossings: q("#forecast-chart .crossing").map((c) => c.getAttribute("data-resource") + ":" + c.getAttribute("data-threshold")),
    thresholds: q("#forecast-chart line.threshold").length,
    roadmapBars: q("#roadmap-chart rect.roadmap-bar").length,
    lateBars: q("#roadmap-chart rect.roadmap-bar.late").length,
    lateStroke: q("#roadmap-chart rect.roadmap-bar.late").map((b) => doc.defaultView.getComputedStyle(b).stroke),
    warningColour: doc.defaultView.getComputedStyle(doc.documentElement).getPropertyValue("--warning").trim(),
    roadmapMarks: q("#roadmap-chart .roadmap-crossing").length,
    roadmapRows: q("#roadmap-table tr[data-step]").length,
    roadmapWidth: (doc.getElementById("roadmap-chart") || {getBoundingClientRect: () => ({width: 0})}).getBoundingClientRect().width,
    chartWidth: (doc.getElementById("forecast-chart") || {getBoundingClientRect: () => ({width: 0})}).getBoundingClientRect().width,
    scrollWidth: root.scrollWidth,
    innerWidth: doc.defaultView.innerWidth,
    violations: (doc.defaultView.__violations || []).concat(window.__violations || []),
  };
})
"""


def expected_crossings(forecast):
    horizon = forecast["horizon_months"]
    marks = []
    for r in forecast["resources"]:
        for kind in ["warning", "critical"]:
            month = r.get(f"months_to_{kind}")
            if isinstance(month, (int, float)) and month <= horizon and r.get(kind) is not None:
                marks.append(f"{r['name']}:{kind}")
    return sorted(marks)


def check_dom(name, dom, result, width):
    structured = result["structuredContent"]
    check(dom["violations"] == [], f"{name}: no Content-Security-Policy violation ({dom['violations']})")
    check(dom["innerWidth"] <= width, f"{name}: laid out at the viewport's width ({dom['innerWidth']}px for {width}px)")
    check(dom["scrollWidth"] <= dom["innerWidth"] + 1,
          f"{name}: nothing wider than the {width}px viewport (page is {dom['scrollWidth']}px)")
    if "sections" in structured:
        check(dom["rendered"] == "report", f"{name}: drawn as a report ({dom['rendered']})")
        check(dom["sections"] == TITLES, f"{name}: the seven sections in order ({dom['sections']})")
        boxes = structured["architecture"]["boxes"]
        check(dom["targetBoxes"] == len(boxes), f"{name}: every target box drawn ({dom['targetBoxes']} of {len(boxes)})")
        existing = [b for b in boxes if b["mark"] == "existing"]
        check(dom["todayBoxes"] == len(existing), f"{name}: today's boxes are the existing ones ({dom['todayBoxes']} of {len(existing)})")
        check(dom["newBoxes"] == len([b for b in boxes if b["mark"] == "new"]), f"{name}: new boxes marked")
        findings = structured["diagnosis"]["findings"]
        for severity in ["critical", "warning"]:
            count = len([f for f in findings if f["severity"] == severity])
            check(dom[severity] == count, f"{name}: {count} {severity} findings shown ({dom[severity]})")
    steps = structured.get("roadmap")
    if isinstance(steps, list):
        late = [s for s in steps if s["late"]]
        crossings = {(c["subject"], c["month"]) for s in steps for c in s["pre_empts"]}
        check(dom["roadmapBars"] == len(steps), f"{name}: one bar per roadmap step ({dom['roadmapBars']} of {len(steps)})")
        check(dom["roadmapRows"] == len(steps), f"{name}: one table row per roadmap step ({dom['roadmapRows']})")
        check(dom["lateBars"] == len(late), f"{name}: the late steps marked late ({dom['lateBars']} of {len(late)})")
        check(all(stroke != "none" and stroke != "" for stroke in dom["lateStroke"]), f"{name}: late bars drawn in the warning colour ({dom['lateStroke']}, {dom['warningColour']})")
        check(dom["roadmapMarks"] == len(crossings), f"{name}: one mark per crossing the steps pre-empt ({dom['roadmapMarks']} of {len(crossings)})")
        if steps:
            check(0 < dom["roadmapWidth"] <= width, f"{name}: the roadmap fits the viewport ({dom['roadmapWidth']}px)")
    forecast = structured.get("forecast") if "sections" in structured else structured
    if forecast:
        if "sections" not in structured:
            check(dom["rendered"] == "forecast", f"{name}: drawn as a forecast ({dom['rendered']})")
        names = [r["name"] for r in forecast["resources"]]
        check(dom["lines"] == names, f"{name}: one line per resource ({dom['lines']} for {names})")
        check(dom["lineLabels"] == names, f"{name}: each line labelled with its resource ({dom['lineLabels']})")
        crossings = expected_crossings(forecast)
        check(sorted(dom["crossings"]) == crossings,
              f"{name}: one mark per crossing within the horizon ({sorted(dom['crossings'])} for {crossings})")
        wanted_lines = sum(1 for r in forecast["resources"] for k in ["warning", "critical"] if r.get(k) is not None)
        check(dom["thresholds"] == wanted_lines, f"{name}: a warning and a critical line per resource that has them")
        check(0 < dom["chartWidth"] <= width, f"{name}: the chart fits the viewport ({dom['chartWidth']}px)")


def check_screenshot(name, data, width, height, scheme, measure):
    w, h = png_size(data)
    luminance, levels = measure.evaluate(f"{MEASURE}({json.dumps(base64.b64encode(data).decode())})")
    check((w, h) == (width, height), f"{name}: screenshot is {width}x{height} ({w}x{h})")
    check(levels >= 8, f"{name}: screenshot is not blank ({levels} grey levels)")
    if scheme == "dark":
        check(luminance < 110, f"{name}: the dark scheme is dark (mean luminance {luminance:.0f})")
    else:
        check(luminance > 160, f"{name}: the light scheme is light (mean luminance {luminance:.0f})")


def render(browser, name, url, result, width, height, scheme, out, host=None):
    """Opens `url` (a page file, or the host page that is then given the view), waits for the
    drawing, checks DOM, network and screenshot."""
    started = time.monotonic()
    tab = Tab(browser, width, height, scheme)
    tab.open(url)
    if host:
        view_html, arguments, host_theme = host
        log = tab.evaluate(f"runHost({json.dumps(view_html)}, {json.dumps(arguments)}, {json.dumps(result)}, {json.dumps(host_theme)})")
        check(log[:2] == ["ui/initialize", "ui/notifications/initialized"],
              f"{name}: the view opens with ui/initialize, then ui/notifications/initialized ({log[:3]})")
        document = "document.querySelector('iframe').contentDocument"
    else:
        document = "document"
    for _ in range(100):
        if tab.evaluate(f"{document}.documentElement.getAttribute('data-rendered')"):
            break
        time.sleep(0.05)
    dom = tab.evaluate(f"{INSPECT}({document})")
    if host:
        check(dom["theme"] == host[2], f"{name}: the host's theme applied ({dom['theme']})")
        # The host sizes the frame from the view's size-changed notifications; shoot the top.
        tab.evaluate("window.scrollTo(0, 0)")
    check_dom(name, dom, result, width)
    shot = tab.screenshot(out / f"{name}.png")
    check_screenshot(name, shot, width, height, host[2] if host else scheme, browser.measure)
    urls, errors = tab.requests()
    outside = [u for u in urls if u != url]
    check(outside == [], f"{name}: no network request beyond the page itself ({outside})")
    check(errors == [], f"{name}: no console error ({errors})")
    tab.close()
    print(f"ok   {name} ({time.monotonic() - started:.1f} s)", flush=True)
    return out / f"{name}.png"


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    binary, out = sys.argv[1], Path(sys.argv[2])
    docs = Path(sys.argv[sys.argv.index("--docs") + 1]) if "--docs" in sys.argv else None
    out.mkdir(parents=True, exist_ok=True)
    scenarios = sorted((HERE / "scenarios").glob("report-*.json"))
    if len(scenarios) < 3:
        sys.exit(f"expected three report scenarios in {HERE / 'scenarios'}, found {len(scenarios)}")

    # -- 1. the host's side of the extension, over MCP
    server = Server(binary)
    init = server.request("initialize", {
        "protocolVersion": "2025-11-25",
        "capabilities": {"extensions": {UI_EXTENSION: {"mimeTypes": [MIME]}}},
        "clientInfo": {"name": "page-test-host", "version": "1"}})
    server.notify("notifications/initialized", {})
    declared = init["capabilities"].get("extensions", {}).get(UI_EXTENSION, {})
    check(MIME in declared.get("mimeTypes", []), f"the server declares {UI_EXTENSION} with {MIME} ({declared})")
    tools = {t["name"]: t for t in server.request("tools/list", {})["tools"]}
    page_tools = [n for n, t in tools.items() if t.get("_meta", {}).get("ui", {}).get("resourceUri")]
    check("scaling_report" in page_tools, f"scaling_report links a view ({page_tools})")
    uri = tools["scaling_report"]["_meta"]["ui"]["resourceUri"]
    check(uri.startswith("ui://"), f"the view is a ui:// resource ({uri})")
    for name in page_tools:
        check(tools[name]["_meta"]["ui"]["resourceUri"] == uri, f"{name} links the same view")
    listed = [r for r in server.request("resources/list", {})["resources"] if r["uri"] == uri]
    check(len(listed) == 1 and listed[0].get("mimeType") == MIME, f"{uri} is listed as {MIME}")
    contents = server.request("resources/read", {"uri": uri})["contents"][0]
    check(contents["mimeType"] == MIME, f"resources/read gives {MIME} ({contents['mimeType']})")
    view_html = contents["text"]
    check(view_html.startswith("<!DOCTYPE html>"), "the view is an HTML5 document")

    calls = []  # (name, tool, arguments file, result)
    for path in scenarios:
        arguments = json.loads(path.read_text())
        result = server.request("tools/call", {"name": "scaling_report", "arguments": arguments})
        check(not result.get("isError"), f"{path.name}: scaling_report answers ({result.get('content')})")
        calls.append((path.stem, "scaling_report", path, result))
    # A report that carries a forecast (scaling_report's `growth`), once the tool takes it.
    if "growth" in tools["scaling_report"]["inputSchema"].get("properties", {}):
        path = HERE / "scenarios" / "growth-report.json"
        result = server.request("tools/call", {"name": "scaling_report", "arguments": json.loads(path.read_text())})
        check(not result.get("isError"), f"{path.name}: scaling_report with growth answers ({result.get('content')})")
        check(isinstance(result.get("structuredContent", {}).get("forecast"), dict), f"{path.name}: the report holds its forecast")
        calls.append((path.stem, "scaling_report", path, result))
        # A roadmap of four steps, one of them late: a bar each, the late one in the warning colour.
        path = HERE / "scenarios" / "roadmap-four-steps.json"
        result = server.request("tools/call", {"name": "scaling_report", "arguments": json.loads(path.read_text())})
        steps = result.get("structuredContent", {}).get("roadmap") or []
        check(len(steps) == 4 and sum(1 for s in steps if s["late"]) == 1,
              f"{path.name}: four steps, one late ({[(s['adds'], s['late']) for s in steps]})")
        calls.append((path.stem, "scaling_report", path, result))
    forecast_args = HERE / "scenarios" / "forecast-three-resources.json"
    if "forecast_growth" in tools:
        check("forecast_growth" in page_tools, "forecast_growth links the view")
        result = server.request("tools/call", {"name": "forecast_growth", "arguments": json.loads(forecast_args.read_text())})
        check(not result.get("isError"), f"forecast_growth answers ({result.get('content')})")
        calls.append(("forecast", "forecast_growth", forecast_args, result))
    else:
        print("note forecast_growth is not in this build: the forecast pages use the hand-written fixture of contract 5.9")
    fixture = json.loads((HERE / "fixtures" / "forecast_growth.json").read_text())
    fixture_result = {"content": [{"type": "text", "text": fixture["summary"]}], "structuredContent": fixture, "isError": False}
    server.close()

    profile = tempfile.mkdtemp(prefix="scale-advisor-pages-")
    browser = Browser(os.environ.get("CHROMIUM", "chromium"), profile)
    try:
        # A blank tab of its own measures the screenshots (mean luminance, grey levels).
        browser.measure = Tab(browser, 200, 200, "light")
        host_url = (HERE / "host.html").as_uri()
        # -- 1b. the view in a host, fed over the extension's messages
        first = next(c for c in calls if c[0] == "report-read-heavy")
        render(browser, f"host-{first[0]}-desktop", host_url, first[3], *DESKTOP, "light", out,
               host=(view_html, json.loads(first[2].read_text()), "dark"))
        render(browser, "host-forecast-fixture-desktop", host_url, fixture_result, *DESKTOP, "light", out,
               host=(view_html, {}, "dark"))
        render(browser, "host-forecast-fixture-phone", host_url, fixture_result, *PHONE, "dark", out,
               host=(view_html, {}, "light"))

        # -- 2. pages written by the CLI, opened as files: every call at two widths
        shots = {}
        for name, tool, arguments, result in calls:
            page = out / f"{name}.html"
            written = subprocess.run([binary, "call", tool, f"@{arguments}", "--html", str(page)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            check(written.returncode == 0 and page.exists(), f"{name}: call --html writes the page ({written.stderr})")
            # Reports on a light desktop and a dark phone; the forecast the other way round.
            light, dark = ("dark", "light") if tool == "forecast_growth" else ("light", "dark")
            for label, (width, height), scheme in [("desktop", DESKTOP, light), ("phone", PHONE, dark)]:
                shots[(name, label)] = render(browser, f"{name}-{label}", page.as_uri(), result, width, height, scheme, out)
            if name.endswith("going-global"):
                shots[(name, "desktop-dark")] = render(browser, f"{name}-desktop-dark", page.as_uri(), result, *DESKTOP, "dark", out)
        if docs:
            docs.mkdir(parents=True, exist_ok=True)
            report_shot = shots[("report-read-heavy", "desktop")]
            (docs / "report-page.png").write_bytes(report_shot.read_bytes())
            forecast_shot = (shots.get(("forecast", "desktop")) or out / "host-forecast-fixture-desktop.png")
            (docs / "forecast-page.png").write_bytes(forecast_shot.read_bytes())
            print(f"wrote {docs / 'report-page.png'} and {docs / 'forecast-page.png'}")
    finally:
        browser.close()

    print(f"{passed} passed, {len(failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
