import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";

/**
 * The live status page behind `GET /`: one HTML document with its style and script inline, no
 * build step, no framework. It reads `/events` (Server-Sent Events, a relative URL so the page
 * works under a path prefix): an `event: state` carries the `/status` JSON and is re-rendered
 * whole; every other message is a proxy event, put on the timeline and applied to the table at
 * once, so a transition shows without waiting for the next state. Event data only ever reaches
 * the DOM through textContent, never as markup.
 */

/**
 * The SSE event names the page listens for. EventSource delivers a named event only to a
 * listener of that name (there is no wildcard), so a type missing here is not seen; unnamed
 * messages are shown too. Types the page has no special rendering for go on the timeline as
 * their fields. The list holds every ProxyEvent type (a test checks it at compile time) and the
 * names the admin actions are likely to get.
 */
export const STATUS_PAGE_EVENT_TYPES = [
  "backend-down",
  "backend-up",
  "backend-rising",
  "backend-falling",
  "connect-failed",
  "probe-failed",
  "sessions-closed",
  "no-backend",
  "error",
  "warning",
  "route",
  "route-changed",
  "route-override",
  "route-override-cleared",
  "route-cleared",
  "failback",
  "manual-failback",
  "backend-admin",
  "backend-drain",
  "backend-drained",
  "backend-maint",
  "backend-enabled",
  "backend-enable",
  "close-sessions",
  "check-failed",
  "check-passed",
] as const;

const STYLE = `
:root { color-scheme: light dark; --fg: #1b1f24; --muted: #5c6670; --bg: #fff; --line: #d8dde3;
  --up: #1a7f37; --down: #c62828; --warn: #9a6700; --info: #0b5cad; --hl: #eef6ff; --badge: #f1f3f5; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6e9ed; --muted: #9aa4ae; --bg: #14171a; --line: #2d3339; --up: #4ac26b;
    --down: #ff6b6b; --warn: #e3b341; --info: #6cb6ff; --hl: #1b2633; --badge: #22272d; }
}
* { box-sizing: border-box; }
body { margin: 0; padding: 20px 28px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif;
  color: var(--fg); background: var(--bg); }
header { display: flex; align-items: baseline; gap: 12px; flex-wrap: wrap; }
h1 { font-size: 20px; margin: 0; }
h2 { font-size: 15px; margin: 22px 0 8px; }
.muted { color: var(--muted); }
.conn { margin-left: auto; font-size: 12px; padding: 2px 8px; border-radius: 10px; background: var(--badge); }
.conn.live { color: var(--up); }
.conn.lost { color: var(--down); }
.route { margin: 14px 0 4px; font-size: 16px; }
.route strong { font-size: 17px; }
.route.none strong { color: var(--down); }
table { border-collapse: collapse; width: 100%; margin-top: 8px; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { font-size: 12px; font-weight: 600; color: var(--muted); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.target { background: var(--hl); }
.tag { font-size: 11px; color: var(--info); margin-left: 6px; }
.state { display: inline-block; min-width: 64px; text-align: center; font-size: 12px; font-weight: 600;
  padding: 1px 8px; border-radius: 10px; background: var(--badge); }
.s-up { color: var(--up); }
.s-down { color: var(--down); }
.s-rising, .s-falling, .s-drain { color: var(--warn); }
.s-maint { color: var(--info); }
ol { list-style: none; padding: 0; margin: 0; max-height: 420px; overflow-y: auto; }
li { display: flex; gap: 12px; padding: 4px 0; border-bottom: 1px solid var(--line); }
li .at { color: var(--muted); font-variant-numeric: tabular-nums; min-width: 92px; }
li .type { font-weight: 600; min-width: 130px; }
li .who { min-width: 140px; }
li .detail { color: var(--muted); overflow-wrap: anywhere; }
li .times { color: var(--muted); font-size: 12px; }
.k-down .type { color: var(--down); }
.k-up .type { color: var(--up); }
.k-warn .type { color: var(--warn); }
.k-info .type { color: var(--info); }
`;

// Plain browser JS in a template literal: no backticks in it, and no dollar-brace but the TYPES one.
const SCRIPT = `
"use strict";
(function () {
  var TYPES = ${JSON.stringify(STATUS_PAGE_EVENT_TYPES)};
  var STATES = { "backend-down": "down", "backend-up": "up", "backend-rising": "rising", "backend-falling": "falling" };
  var KIND = { "backend-down": "k-down", "no-backend": "k-down", "error": "k-down", "backend-up": "k-up",
    "backend-rising": "k-warn", "backend-falling": "k-warn", "connect-failed": "k-warn", "probe-failed": "k-warn",
    "warning": "k-warn" };
  var MAX_TIMELINE = 200;
  var status = null;
  var receivedAt = 0;

  function byId(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function num(n) { return typeof n === "number" && isFinite(n) ? n : 0; }
  function duration(ms) {
    ms = Math.max(0, num(ms));
    if (ms < 1000) return Math.round(ms) + "ms";
    var s = Math.floor(ms / 1000);
    if (s < 60) return (ms / 1000).toFixed(1).replace(/\\.0$/, "") + "s";
    var d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60;
    s = s % 60;
    if (d > 0) return d + "d" + h + "h" + m + "m";
    if (h > 0) return h + "h" + m + "m" + s + "s";
    return m + "m" + s + "s";
  }
  function bytes(n) {
    n = num(n);
    var units = ["B", "KiB", "MiB", "GiB", "TiB"];
    var i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i === 0 ? String(n) : n.toFixed(n < 10 ? 1 : 0)) + " " + units[i];
  }
  function pad(n, w) { return String(n).padStart(w || 2, "0"); }
  function clock(ms) {
    var d = new Date(num(ms) || Date.now());
    return pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()) + "." + pad(d.getMilliseconds(), 3);
  }
  function parse(text) { try { return JSON.parse(text); } catch (e) { return null; } }
  function backendName(b) {
    if (!b || typeof b !== "object") return "";
    return String(b.id !== undefined ? b.id : b.label !== undefined ? b.label : "#" + b.index);
  }
  function find(ref) {
    if (!status || !ref) return null;
    var list = status.backends;
    for (var i = 0; i < list.length; i++) if (list[i].id === ref.id) return list[i];
    for (var j = 0; j < list.length; j++) if (list[j].index === ref.index) return list[j];
    return null;
  }
  function isDown(state) { return state === "down" || state === "rising"; }

  function render() {
    if (!status) return;
    var now = Date.now();
    var elapsed = now - receivedAt;
    byId("version").textContent = status.version ? "v" + status.version : "";
    byId("listen").textContent = status.listen ? "listening on " + status.listen : "";
    byId("uptime").textContent = typeof status.uptimeMs === "number" ? "up " + duration(status.uptimeMs + elapsed) : "";

    var route = Array.isArray(status.route) ? status.route.map(String) : [];
    var target = route.length > 0 ? route[0] : null;
    var line = byId("route");
    line.className = target === null ? "route none" : "route";
    line.textContent = "";
    if (target === null) {
      line.append("New clients: ", el("strong", "", "no backend"), " (refused until one is up)");
    } else {
      var share = typeof status.share === "number" && status.share < 1 ? status.share : 1;
      line.append("New clients go to ", el("strong", "", target));
      if (share < 1) line.append(" (" + Math.round(share * 100) + "% of them; the rest to " + (route[1] || "none") + ")");
      if (route.length > 1) line.append(el("span", "muted", "; fallback: " + route.slice(1).join(", ")));
    }

    var body = byId("backends");
    var rows = [];
    status.backends.forEach(function (b) {
      var state = String(b.state || "unknown");
      var tr = el("tr", String(b.id) === target ? "target" : "");
      tr.dataset.id = String(b.id);
      tr.dataset.state = state;
      tr.append(el("td", "num", b.index));
      var name = el("td", "id", b.id);
      if (String(b.id) === target) name.append(el("span", "tag", "new clients"));
      tr.append(name);
      tr.append(el("td", "muted", b.address));
      var cell = el("td");
      cell.append(el("span", "state s-" + state.replace(/[^a-z]/g, ""), state));
      tr.append(cell);
      var since = Date.parse(b.since);
      var sinceCell = el("td", "muted", isNaN(since) ? "" : duration(now - since) + " ago");
      if (!isNaN(since)) sinceCell.title = new Date(since).toISOString();
      tr.append(sinceCell);
      tr.append(el("td", "num", duration(num(b.downtimeMs) + (isDown(state) ? elapsed : 0))));
      tr.append(el("td", "num requests", num(b.requests)));
      tr.append(el("td", "num errors", num(b.errors)));
      var bin = el("td", "num", bytes(b.bytesIn));
      bin.title = num(b.bytesIn) + " bytes";
      tr.append(bin);
      var bout = el("td", "num", bytes(b.bytesOut));
      bout.title = num(b.bytesOut) + " bytes";
      tr.append(bout);
      tr.append(el("td", "num active", num(b.active)));
      rows.push(tr);
    });
    body.replaceChildren.apply(body, rows);
  }

  function detailOf(ev) {
    var parts = [];
    if (typeof ev.reason === "string") parts.push(ev.reason);
    if (typeof ev.message === "string") parts.push(ev.message);
    if (ev.type === "backend-up" && typeof ev.downtimeMs === "number") parts.push("after " + duration(ev.downtimeMs) + " down");
    if (typeof ev.passed === "number" && typeof ev.rise === "number") parts.push("check " + ev.passed + " of " + ev.rise + " passed");
    if (typeof ev.failed === "number" && typeof ev.fall === "number") parts.push("failure " + ev.failed + " of " + ev.fall);
    var shown = { type: 1, backend: 1, at: 1, reason: 1, message: 1, downtimeMs: ev.type === "backend-up", passed: 1, rise: 1, failed: 1, fall: 1 };
    Object.keys(ev).forEach(function (key) {
      if (shown[key] === 1 || shown[key] === true) return;
      var value = ev[key];
      var text = typeof value === "string" ? value : JSON.stringify(value);
      parts.push(key + "=" + (text && text.length > 120 ? text.slice(0, 117) + "..." : text));
    });
    return parts.join("; ");
  }

  function addToTimeline(name, ev) {
    var list = byId("timeline");
    var type = name === "message" && typeof ev.type === "string" ? ev.type : name;
    var who = backendName(ev.backend);
    var detail = detailOf(ev);
    var key = type + "\\u0000" + who + "\\u0000" + detail;
    var first = list.firstElementChild;
    // Repeats (a down backend's probe failing every few seconds) fold into one line.
    if (first && first.dataset.key === key) {
      var count = Number(first.dataset.count) + 1;
      first.dataset.count = String(count);
      first.querySelector(".at").textContent = clock(ev.at);
      first.querySelector(".times").textContent = "x" + count;
      return;
    }
    var li = el("li", KIND[type] || "k-info");
    li.dataset.key = key;
    li.dataset.count = "1";
    li.dataset.type = type;
    li.append(el("span", "at", clock(ev.at)), el("span", "type", type), el("span", "who", who),
      el("span", "detail", detail), el("span", "times", ""));
    list.prepend(li);
    while (list.children.length > MAX_TIMELINE) list.lastElementChild.remove();
    byId("empty").hidden = true;
  }

  // Apply a transition at once; the next state message (if any) has the last word.
  function apply(ev) {
    var b = find(ev.backend);
    var next = STATES[ev.type];
    if (!b || !next) return;
    b.state = next;
    if (typeof ev.at === "number") b.since = new Date(ev.at).toISOString();
    // A backend that is down takes no new clients, whatever the policy.
    if (next === "down" && Array.isArray(status.route)) {
      status.route = status.route.filter(function (id) { return String(id) !== String(b.id); });
    }
    render();
  }

  function onState(e) {
    var s = parse(e.data);
    if (!s || !Array.isArray(s.backends)) return addToTimeline("bad-state", { data: String(e.data) });
    status = s;
    receivedAt = Date.now();
    render();
  }

  function onEvent(e) {
    var ev = parse(e.data);
    if (!ev || typeof ev !== "object" || Array.isArray(ev)) ev = { data: String(e.data) };
    addToTimeline(e.type, ev);
    apply(ev);
  }

  function connection(text, cls) {
    var c = byId("conn");
    c.textContent = text;
    c.className = "conn " + cls;
  }

  var source = new EventSource("events");
  source.addEventListener("open", function () { connection("live", "live"); });
  source.addEventListener("state", onState);
  TYPES.forEach(function (type) { if (type !== "error") source.addEventListener(type, onEvent); });
  source.addEventListener("message", onEvent);
  // A proxy event named "error" carries data; the connection's own errors do not.
  source.addEventListener("error", function (e) {
    if (typeof e.data === "string") return onEvent(e);
    if (source.readyState === EventSource.CLOSED) connection("disconnected", "lost");
    else connection("reconnecting...", "lost");
  });
  setInterval(render, 1000);
})();
`;

// Inline, so a browser does not ask the admin server for /favicon.ico.
const FAVICON =
  "data:image/svg+xml," +
  encodeURIComponent(
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7" fill="#1a7f37"/></svg>',
  );

const BODY = `
<header>
  <h1>tcp-fallback</h1>
  <span id="version" class="muted"></span>
  <span id="listen" class="muted"></span>
  <span id="uptime" class="muted"></span>
  <span id="conn" class="conn">connecting...</span>
</header>
<p id="route" class="route" aria-live="polite">Waiting for the proxy's state...</p>
<table>
  <thead>
    <tr><th class="num">#</th><th>Backend</th><th>Address</th><th>State</th><th>Since</th>
      <th class="num">Downtime</th><th class="num">Requests</th><th class="num">Errors</th>
      <th class="num">Bytes in</th><th class="num">Bytes out</th><th class="num">Active</th></tr>
  </thead>
  <tbody id="backends"></tbody>
</table>
<h2>Timeline</h2>
<p id="empty" class="muted">No events since this page opened.</p>
<ol id="timeline" aria-live="polite"></ol>
<noscript><p>This page needs JavaScript; the same figures are at <a href="status">status</a>.</p></noscript>
`;

export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tcp-fallback status</title>
<link rel="icon" href="${FAVICON}">
<style>${STYLE}</style>
</head>
<body>${BODY}<script>${SCRIPT}</script>
</body>
</html>
`;

const sha256 = (text: string): string =>
  `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;

/**
 * Only this page's own script and style run (by hash), it talks only to its own origin, and
 * nothing may frame it. Trusted Types forbid string-to-markup sinks such as innerHTML.
 */
export const STATUS_PAGE_CSP = [
  "default-src 'self'",
  `script-src ${sha256(SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
  "img-src data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join("; ");

const HEADERS = {
  "Content-Type": "text/html; charset=utf-8",
  "Content-Length": String(Buffer.byteLength(STATUS_PAGE_HTML)),
  "Cache-Control": "no-store",
  "Content-Security-Policy": STATUS_PAGE_CSP,
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
} as const;

const PAGE_PATHS: ReadonlySet<string> = new Set(["/", "/index.html"]);

/**
 * Serves the page for `GET` (and `HEAD`) of `/` and `/index.html`, query strings ignored, and
 * returns true; returns false, having written nothing, for anything else (other paths, other
 * methods), so the admin server answers those.
 */
export const statusPageHandler = (req: IncomingMessage, res: ServerResponse): boolean => {
  if (req.method !== "GET" && req.method !== "HEAD") return false;
  const url = req.url ?? "";
  const query = url.indexOf("?");
  if (!PAGE_PATHS.has(query === -1 ? url : url.slice(0, query))) return false;
  res.writeHead(200, HEADERS);
  res.end(req.method === "HEAD" ? undefined : STATUS_PAGE_HTML);
  return true;
};
