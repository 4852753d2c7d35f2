import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";

/**
 * The live status page behind `GET /`: one HTML document with its style and script inline, no
 * build step, no framework. It reads `/events` (Server-Sent Events, relative URLs so the page
 * works under a path prefix) with fetch, not EventSource, so it can send the admin token: the
 * `state` frame carries the `/status` JSON and is rendered whole; every other frame is a proxy
 * event, put on the timeline and applied to the table at once, so a transition shows without
 * waiting for anything else. Counters (requests, bytes) have no events: the page reads
 * `/status` every few seconds for them. The page itself holds no data and is served without
 * the token; it asks for it on a 401. Event data only ever reaches the DOM through
 * textContent, never as markup.
 */

const STYLE = `
:root { color-scheme: light dark; --fg: #1b1f24; --muted: #5c6670; --bg: #fff; --line: #d8dde3;
  --up: #1a7f37; --down: #c62828; --warn: #9a6700; --info: #0b5cad; --hl: #eef6ff; --badge: #f1f3f5; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6e9ed; --muted: #9aa4ae; --bg: #14171a; --line: #2d3339; --up: #4ac26b;
    --down: #ff6b6b; --warn: #e3b341; --info: #6cb6ff; --hl: #1b2633; --badge: #22272d; }
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
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
td.check { max-width: 200px; overflow: hidden; text-overflow: ellipsis; }
.c-ok { color: var(--up); }
.c-failed { color: var(--down); }
#login { display: flex; align-items: center; gap: 8px; margin: 14px 0; padding: 10px 12px;
  border: 1px solid var(--line); border-radius: 6px; }
#login input { font: inherit; padding: 3px 6px; }
#login button { font: inherit; padding: 3px 12px; }
.k-down .type { color: var(--down); }
.k-up .type { color: var(--up); }
.k-warn .type { color: var(--warn); }
.k-info .type { color: var(--info); }
`;

// Plain browser JS in a template literal: no backticks and no dollar-brace in it.
const SCRIPT = `
"use strict";
(function () {
  var HEALTH = { "backend-down": "down", "backend-up": "up", "backend-rising": "rising", "backend-falling": "falling" };
  var KIND = { "backend-down": "k-down", "no-backend": "k-down", "error": "k-down", "backend-up": "k-up",
    "backend-rising": "k-warn", "backend-falling": "k-warn", "connect-failed": "k-warn", "probe-failed": "k-warn",
    "warning": "k-warn" };
  var TOKEN_KEY = "tcp-fallback-admin-token";
  var MAX_TIMELINE = 200;
  var REFRESH_MS = 2000;
  var status = null;
  var receivedAt = 0;
  // Each backend's health (up, falling, down, rising) by id, kept apart from an operator's
  // hold (drain, maint), so "enable" shows the health at once.
  var health = {};
  // Bumped by every event: a /status answer that crossed one is stale.
  var applied = 0;
  // One per connection attempt: whatever an older one still does is dropped.
  var generation = 0;
  var attempt = 0;
  var live = false;

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
  function isObject(v) { return v !== null && typeof v === "object" && !Array.isArray(v); }
  function backendName(b) {
    if (!isObject(b)) return "";
    return String(b.id !== undefined ? b.id : b.label !== undefined ? b.label : "#" + b.index);
  }
  function find(ref) {
    if (!status || !isObject(ref)) return null;
    var list = status.backends;
    for (var i = 0; i < list.length; i++) if (list[i].id === ref.id) return list[i];
    for (var j = 0; j < list.length; j++) if (list[j].index === ref.index) return list[j];
    return null;
  }
  function isHealth(state) { return state === "up" || state === "down" || state === "rising" || state === "falling"; }
  function isDown(state) { return state === "down" || state === "rising"; }
  function routeOf(s) {
    var r = isObject(s.route) ? s.route : {};
    return { backends: Array.isArray(r.backends) ? r.backends.map(String) : [], share: r.share };
  }

  function storedToken() { try { return sessionStorage.getItem(TOKEN_KEY) || ""; } catch (e) { return ""; } }
  function storeToken(token) {
    try { if (token) sessionStorage.setItem(TOKEN_KEY, token); else sessionStorage.removeItem(TOKEN_KEY); } catch (e) { /* storage off: ask again next time */ }
  }
  function headers() {
    var token = storedToken();
    return token ? { "Authorization": "Bearer " + token } : {};
  }

  function checkCell(b) {
    var cell = el("td", "check");
    var c = b.lastCheck;
    var failure = isObject(b.lastFailure) ? b.lastFailure : null;
    if (isObject(c)) {
      var latency = typeof c.latencyMs === "number" ? ", " + Math.round(c.latencyMs) + " ms" : "";
      cell.append(el("span", c.ok ? "c-ok" : "c-failed", (c.ok ? "ok" : "failed") + latency));
      if (!c.ok && typeof c.reason === "string") cell.append(el("span", "muted", " " + c.reason));
      cell.title = [c.reason, c.at].filter(function (x) { return typeof x === "string"; }).join(" at ");
    } else if (failure) {
      cell.append(el("span", "c-failed", "failed"), el("span", "muted", " " + String(failure.reason)));
      cell.title = String(failure.reason) + (typeof failure.at === "string" ? " at " + failure.at : "");
    }
    return cell;
  }

  function render() {
    if (!status) return;
    var now = Date.now();
    var elapsed = now - receivedAt;
    byId("version").textContent = status.version ? "v" + status.version : "";
    byId("listen").textContent = status.listen ? "listening on " + status.listen : "";
    byId("uptime").textContent = typeof status.uptimeMs === "number" ? "up " + duration(status.uptimeMs + elapsed) : "";

    var route = routeOf(status);
    var ids = route.backends;
    var target = ids.length > 0 ? ids[0] : null;
    var line = byId("route");
    line.className = target === null ? "route none" : "route";
    line.textContent = "";
    if (target === null) {
      line.append("New clients: ", el("strong", "", "no backend"), " (refused until one is up)");
    } else {
      var share = typeof route.share === "number" && route.share < 1 ? route.share : 1;
      line.append("New clients go to ", el("strong", "", target));
      if (share < 1) line.append(" (" + Math.round(share * 100) + "% of them; the rest to " + (ids[1] || "none") + ")");
      if (ids.length > 1) line.append(el("span", "muted", "; fallback: " + ids.slice(1).join(", ")));
    }

    var body = byId("backends");
    var rows = [];
    status.backends.forEach(function (b) {
      var id = String(b.id);
      var state = String(b.state || "unknown");
      var tr = el("tr", id === target ? "target" : "");
      tr.dataset.id = id;
      tr.dataset.state = state;
      tr.append(el("td", "num", b.index));
      var name = el("td", "id", id);
      if (id === target) name.append(el("span", "tag", "new clients"));
      tr.append(name);
      tr.append(el("td", "muted", b.address));
      var cell = el("td");
      cell.append(el("span", "state s-" + state.replace(/[^a-z]/g, ""), state));
      tr.append(cell);
      var since = Date.parse(b.since);
      var sinceCell = el("td", "muted", isNaN(since) ? "" : duration(now - since) + " ago");
      if (!isNaN(since)) sinceCell.title = new Date(since).toISOString();
      tr.append(sinceCell);
      tr.append(el("td", "num", duration(num(b.downtimeMs) + (isDown(health[id]) ? elapsed : 0))));
      tr.append(checkCell(b));
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
    if (typeof ev.action === "string") parts.push(ev.action);
    if (typeof ev.reason === "string") parts.push(ev.reason);
    if (typeof ev.message === "string") parts.push(ev.message);
    if (isObject(ev.to)) parts.push("to " + backendName(ev.to));
    if (ev.type === "backend-up" && typeof ev.downtimeMs === "number") parts.push("after " + duration(ev.downtimeMs) + " down");
    if (typeof ev.passed === "number" && typeof ev.rise === "number") parts.push("check " + ev.passed + " of " + ev.rise + " passed");
    if (typeof ev.failed === "number" && typeof ev.fall === "number") parts.push("failure " + ev.failed + " of " + ev.fall);
    if (ev.type === "route" && Array.isArray(ev.backends)) {
      parts.push(ev.backends.length === 0 ? "no backend" : "new clients to " + ev.backends.join(", then "));
      if (typeof ev.share === "number") parts.push(Math.round(ev.share * 100) + "% to the first");
    }
    var shown = { type: 1, backend: 1, at: 1, action: 1, reason: 1, message: 1, to: 1, passed: 1, rise: 1, failed: 1, fall: 1 };
    if (ev.type === "backend-up") shown.downtimeMs = 1;
    if (ev.type === "route") { shown.backends = 1; shown.share = 1; }
    Object.keys(ev).forEach(function (key) {
      if (shown[key] === 1) return;
      var value = ev[key];
      var text = typeof value === "string" ? value : JSON.stringify(value);
      parts.push(key + "=" + (text && text.length > 120 ? text.slice(0, 117) + "..." : text));
    });
    return parts.join("; ");
  }

  function addToTimeline(type, ev) {
    var list = byId("timeline");
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

  // Applies an event to the table at once; the next state or /status answer has the last word.
  function apply(type, ev) {
    if (!status) return;
    // A reload changes the list itself: read it whole (after the events already applied).
    if (type === "config-reloaded") return setTimeout(refresh, 0);
    if (type === "route") {
      status.route = { backends: Array.isArray(ev.backends) ? ev.backends : [], share: ev.share };
      return render();
    }
    var b = find(ev.backend);
    if (!b) return;
    var id = String(b.id);
    var at = typeof ev.at === "number" ? new Date(ev.at).toISOString() : null;
    var next = HEALTH[type];
    if (next) {
      // A new up period or outage starts; rising and falling are still inside one.
      if ((next === "up" || next === "down") && at) b.since = at;
      if (next === "down") b.up = false;
      if (next === "up") b.lastFailure = null;
      health[id] = next;
      if (isHealth(b.state)) b.state = next;
    }
    if ((type === "probe-failed" || type === "connect-failed" || type === "backend-down") && typeof ev.reason === "string") {
      b.lastFailure = { reason: ev.reason, at: at };
    }
    if (type === "backend-admin") {
      if (ev.action === "drain" || ev.action === "maint") b.state = ev.action;
      else if (ev.action === "enable") b.state = health[id] || "up";
    }
    render();
  }

  function setStatus(s) {
    status = s;
    receivedAt = Date.now();
    status.backends.forEach(function (b) {
      var id = String(b.id);
      if (isHealth(b.state)) health[id] = b.state;
      // Held: the health is not in the state; keep what the events said, else guess from the
      // last failure (the next answer corrects a wrong guess).
      else if (!health[id]) health[id] = b.up || !b.lastFailure ? "up" : "down";
    });
    render();
  }

  function connection(text, cls) {
    var c = byId("conn");
    c.textContent = text;
    c.className = "conn " + cls;
  }

  function onFrame(type, data) {
    var value = parse(data);
    if (type === "state") {
      if (!isObject(value) || !Array.isArray(value.backends)) return addToTimeline("bad-state", { data: data });
      attempt = 0;
      live = true;
      connection("live", "live");
      applied++;
      return setStatus(value);
    }
    var ev = isObject(value) ? value : { data: data };
    if (type === "message" && typeof ev.type === "string") type = ev.type;
    applied++;
    addToTimeline(type, ev);
    apply(type, ev);
  }

  // Server-Sent Events framing: "field: value" lines, a blank line ends a frame, ":" a comment.
  function frameReader(onFrameParsed) {
    var buffer = "";
    var type = "";
    var data = [];
    return function (text) {
      buffer += text;
      var end;
      while ((end = buffer.indexOf("\\n")) >= 0) {
        var line = buffer.slice(0, end);
        buffer = buffer.slice(end + 1);
        if (line.slice(-1) === "\\r") line = line.slice(0, -1);
        if (line === "") {
          if (data.length > 0) onFrameParsed(type || "message", data.join("\\n"));
          type = "";
          data = [];
          continue;
        }
        if (line.charAt(0) === ":") continue;
        var colon = line.indexOf(":");
        var field = colon < 0 ? line : line.slice(0, colon);
        var value = colon < 0 ? "" : line.slice(colon + 1);
        if (value.charAt(0) === " ") value = value.slice(1);
        if (field === "event") type = value;
        else if (field === "data") data.push(value);
      }
    };
  }

  function askForToken(refused) {
    live = false;
    connection("token needed", "lost");
    byId("login-note").textContent = refused ? "That token was refused." : "This proxy's admin API needs its token.";
    byId("login").hidden = false;
    byId("token").focus();
  }

  function reconnect(gen) {
    if (gen !== generation) return;
    live = false;
    connection("reconnecting...", "lost");
    var delay = Math.min(5000, 1000 * Math.pow(2, attempt));
    attempt++;
    setTimeout(function () { if (gen === generation) connect(); }, delay);
  }

  function connect() {
    var gen = ++generation;
    var sent = storedToken();
    fetch("events", { headers: headers(), cache: "no-store" }).then(function (res) {
      if (gen !== generation) { if (res.body) res.body.cancel(); return "stale"; }
      if (res.status === 401) {
        storeToken("");
        askForToken(sent !== "");
        return "token";
      }
      if (!res.ok || !res.body) throw new Error("HTTP " + res.status);
      byId("login").hidden = true;
      var reader = res.body.getReader();
      var decoder = new TextDecoder();
      var feed = frameReader(function (type, data) { if (gen === generation) onFrame(type, data); });
      function pump() {
        return reader.read().then(function (chunk) {
          if (chunk.done || gen !== generation) return "ended";
          feed(decoder.decode(chunk.value, { stream: true }));
          return pump();
        });
      }
      return pump();
    }).then(function (outcome) {
      if (outcome === "ended") reconnect(gen);
    }, function () { reconnect(gen); });
  }

  // Counters have no events: read them from /status while the stream is live.
  function refresh() {
    if (!live || !status) return;
    var gen = generation;
    var seen = applied;
    fetch("status", { headers: headers(), cache: "no-store" }).then(function (res) {
      return res.ok ? res.json() : null;
    }).then(function (s) {
      if (gen === generation && seen === applied && live && isObject(s) && Array.isArray(s.backends)) setStatus(s);
    }, function () { /* the stream's own failure reconnects */ });
  }

  byId("login").addEventListener("submit", function (e) {
    e.preventDefault();
    var input = byId("token");
    storeToken(input.value);
    input.value = "";
    byId("login-note").textContent = "";
    connection("connecting...", "");
    connect();
  });
  connect();
  setInterval(render, 1000);
  setInterval(refresh, REFRESH_MS);
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
<form id="login" hidden>
  <label for="token">Admin token</label>
  <input id="token" type="password" autocomplete="current-password" required>
  <button type="submit">Connect</button>
  <span id="login-note" class="muted"></span>
</form>
<p id="route" class="route" aria-live="polite">Waiting for the proxy's state...</p>
<table>
  <thead>
    <tr><th class="num">#</th><th>Backend</th><th>Address</th><th>State</th><th>Since</th>
      <th class="num">Downtime</th><th>Last check</th><th class="num">Requests</th><th class="num">Errors</th>
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
