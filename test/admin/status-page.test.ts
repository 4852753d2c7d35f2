import test, { type ExecutionContext } from "ava";
import { constants } from "node:fs";
import { access, copyFile, mkdtemp, rm, stat } from "node:fs/promises";
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, type BrowserContext, type Page, chromium } from "playwright-core";
import {
  STATUS_PAGE_EVENT_TYPES,
  statusPageHandler,
} from "../../src/adapters/admin/status-page.js";
import { tcpConnectProbe } from "../../src/adapters/prober.js";
import { type ProbeResult, type ProxyEvent, createFallbackProxy } from "../../src/index.js";
import { version } from "../../src/version.js";
import { roundTrip, startBackend } from "../helpers/net.js";
import { sseBridge } from "../helpers/sse-bridge.js";

// Compile-time: every ProxyEvent type has an SSE listener on the page (EventSource has no
// wildcard). A type added to ProxyEvent and not to the page's list fails the build here.
type Unlisted = Exclude<ProxyEvent["type"], (typeof STATUS_PAGE_EVENT_TYPES)[number]>;
const everyProxyEventListed: [Unlisted] extends [never] ? true : Unlisted = true;

const CHROMIUM = "/usr/bin/chromium";
const SCREENSHOT = fileURLToPath(new URL("../../../docs/status-page.png", import.meta.url));

let browser: Browser | undefined;

test.before(async () => {
  try {
    await access(CHROMIUM, constants.X_OK);
  } catch {
    throw new Error(
      `${CHROMIUM} not found: the status page is tested in a real headless Chromium; ` +
        "install Debian's chromium package (apt-get install chromium)",
    );
  }
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    timeout: 30_000,
  });
});

test.after.always(async () => {
  await browser?.close();
});

type Handler = (req: IncomingMessage, res: ServerResponse) => boolean;

/** The page, and whatever else `handlers` serve, on a loopback HTTP server; 404 for the rest. */
const serve = async (t: ExecutionContext, ...handlers: Handler[]): Promise<string> => {
  const server: Server = createServer((req, res) => {
    if (statusPageHandler(req, res)) return;
    if (handlers.some((handle) => handle(req, res))) return;
    res.writeHead(404, { "Content-Type": "application/json" });
    res.end('{"error":"not found"}');
  });
  server.listen({ host: "127.0.0.1", port: 0 });
  await once(server, "listening");
  t.teardown(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};

interface OpenPage {
  readonly page: Page;
  /** Console errors (CSP violations among them) and uncaught exceptions. */
  readonly problems: string[];
}

/** A fresh browser context on `url`, its problems recorded; closed at teardown. */
const openPage = async (t: ExecutionContext, url: string): Promise<OpenPage> => {
  if (browser === undefined) throw new Error("Chromium did not start");
  const context: BrowserContext = await browser.newContext({
    viewport: { width: 1180, height: 480 },
  });
  t.teardown(() => context.close());
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const problems: string[] = [];
  page.on("console", (entry) => {
    if (entry.type() === "error") problems.push(entry.text());
  });
  page.on("pageerror", (error) => problems.push(error.message));
  await page.goto(url);
  // Cleared by a reload: proves the updates came without one.
  await page.evaluate("window.sameDocument = true");
  return { page, problems };
};

const row = (page: Page, id: string, state?: string) =>
  page.locator(
    `#backends tr[data-id="${id}"]${state === undefined ? "" : `[data-state="${state}"]`}`,
  );

const cellText = async (page: Page, id: string, cell: string): Promise<string> =>
  (await row(page, id).locator(`td.${cell}`).textContent()) ?? "";

/** Waits until a row's cell reads `text` (cells are re-rendered from the stream, not polled). */
const waitForCell = (page: Page, id: string, cell: string, text: string) =>
  row(page, id)
    .locator(`td.${cell}`, { hasText: new RegExp(`^${text}$`) })
    .waitFor();

test("GET / and /index.html serve the page, not cached, under a strict CSP; the rest is left to the server", async (t) => {
  t.true(everyProxyEventListed);
  const base = await serve(t);
  for (const path of ["/", "/index.html", "/?refresh=1"]) {
    const response = await fetch(base + path);
    t.is(response.status, 200, path);
    t.is(response.headers.get("content-type"), "text/html; charset=utf-8");
    t.is(response.headers.get("cache-control"), "no-store");
    t.is(response.headers.get("x-content-type-options"), "nosniff");
    const csp = response.headers.get("content-security-policy") ?? "";
    t.regex(csp, /default-src 'self'/);
    t.regex(csp, /script-src 'sha256-[A-Za-z0-9+/]+=*'(;|$)/);
    t.regex(csp, /style-src 'sha256-[A-Za-z0-9+/]+=*'(;|$)/);
    t.regex(csp, /frame-ancestors 'none'/);
    t.notRegex(csp, /unsafe-eval/);
    const html = await response.text();
    t.regex(html, /^<!doctype html>/);
    t.true(html.includes('new EventSource("events")'), "a relative URL, so a path prefix works");
    t.false(html.includes("innerHTML"));
  }
  const head = await fetch(`${base}/`, { method: "HEAD" });
  t.is(head.status, 200);
  t.is(await head.text(), "");
  // Not the page's: the handler wrote nothing, and the server answered.
  for (const [method, path] of [
    ["GET", "/status"],
    ["GET", "/index.htm"],
    ["POST", "/"],
    ["DELETE", "/index.html"],
  ] as const) {
    const response = await fetch(base + path, { method });
    t.is(response.status, 404, `${method} ${path}`);
  }
});

test("Chromium shows the primary down within 2 s of its kill and back after its restart, live, without a reload", async (t) => {
  const primary = await startBackend();
  const standby = await startBackend();
  // The "kill": the primary's checks fail (a real TCP connect otherwise), as if it had died.
  let killed = false;
  const connect = tcpConnectProbe(1_000);
  const proxy = createFallbackProxy({
    listen: "127.0.0.1:0",
    backends: [
      { address: primary.address, name: "primary" },
      { address: standby.address, name: "standby" },
    ],
    checkInterval: 100,
    probeDelay: 100,
    // So the timeline shows the streaks too: falling before down, rising before up.
    fall: 2,
    rise: 2,
    probe: (backend) =>
      backend.index === 0 && killed
        ? Promise.resolve<ProbeResult>({ ok: false, reason: "connection refused" })
        : connect(backend),
  });
  const { port } = await proxy.listening;
  const bridge = sseBridge(proxy, {
    version,
    listen: `127.0.0.1:${port}`,
    startedAt: Date.now(),
  });
  t.teardown(async () => {
    bridge.close();
    await proxy.close();
    await primary.close();
    await standby.close();
  });
  const base = await serve(t, bridge.handle);
  const { page, problems } = await openPage(t, `${base}/`);

  await page.locator("#conn", { hasText: "live" }).waitFor();
  await row(page, "primary", "up").waitFor();
  await row(page, "standby", "up").waitFor();
  await page.locator("#route", { hasText: /^New clients go to primary/ }).waitFor();
  t.is(await row(page, "primary").getAttribute("class"), "target");

  for (const word of ["one", "two", "three"]) {
    const payload = word.repeat(4096);
    t.is((await roundTrip(port, payload)).toString(), payload);
  }
  await waitForCell(page, "primary", "requests", "3");
  t.is(await cellText(page, "standby", "requests"), "0");

  killed = true;
  const killedAt = Date.now();
  await row(page, "primary", "down").waitFor({ timeout: 2_000 });
  const shownDownMs = Date.now() - killedAt;
  t.log(`primary shown down ${shownDownMs} ms after its kill`);
  t.true(shownDownMs < 2_000);
  await page
    .locator("#route", { hasText: /^New clients go to standby/ })
    .waitFor({ timeout: 2_000 });
  await page.locator('#timeline li[data-type="backend-down"]', { hasText: "primary" }).waitFor();

  for (const word of ["four", "five"]) {
    t.is((await roundTrip(port, word)).toString(), word);
  }
  await waitForCell(page, "standby", "requests", "2");

  killed = false;
  const restartedAt = Date.now();
  await row(page, "primary", "up").waitFor({ timeout: 2_000 });
  t.log(`primary shown up ${Date.now() - restartedAt} ms after its restart`);
  await page.locator("#route", { hasText: /^New clients go to primary/ }).waitFor();
  await page.locator('#timeline li[data-type="backend-up"]', { hasText: "primary" }).waitFor();
  for (const type of ["backend-falling", "backend-rising"]) {
    await page.locator(`#timeline li[data-type="${type}"]`, { hasText: "primary" }).waitFor();
  }
  t.is((await roundTrip(port, "six")).toString(), "six");
  await waitForCell(page, "primary", "requests", "4");

  t.true(await page.evaluate("window.sameDocument === true"), "the page was not reloaded");
  t.deepEqual(problems, [], "no console errors (CSP violations included)");

  // Saved for the README when asked (UPDATE_SCREENSHOT=1); a temp file otherwise.
  const dir = await mkdtemp(join(tmpdir(), "status-page-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const shot = join(dir, "status-page.png");
  await page.screenshot({ path: shot, fullPage: true });
  t.true((await stat(shot)).size > 10_000);
  if (process.env["UPDATE_SCREENSHOT"] === "1") await copyFile(shot, SCREENSHOT);
});

test("event data shows as text, never as markup; event types the page does not know go on the timeline", async (t) => {
  const streams: ServerResponse[] = [];
  let connected = (): void => undefined;
  const nextStream = async (): Promise<ServerResponse> => {
    const seen = streams.length;
    while (streams.length === seen) await new Promise<void>((resolve) => (connected = resolve));
    return streams[seen] as ServerResponse;
  };
  const first = nextStream();
  const base = await serve(t, (req, res) => {
    if (req.url !== "/events") return false;
    res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-store" });
    // Reconnect after 100 ms instead of the browser's default seconds.
    res.write("retry: 100\n\n");
    streams.push(res);
    connected();
    return true;
  });
  const { page, problems } = await openPage(t, `${base}/`);
  let res = await first;
  const send = (name: string | null, data: unknown): boolean =>
    res.write(`${name === null ? "" : `event: ${name}\n`}data: ${JSON.stringify(data)}\n\n`);

  const id = "db<b>1</b>";
  const backend = { id, label: "10.0.0.1:5432", index: 0 };
  const state = (requests: number) => ({
    version: "9.9.9",
    uptimeMs: 65_000,
    listen: "127.0.0.1:5432",
    route: [id],
    backends: [
      {
        id,
        address: "10.0.0.1:5432",
        index: 0,
        state: "up",
        since: new Date().toISOString(),
        downtimeMs: 0,
        requests,
        errors: 0,
        bytesIn: 2048,
        bytesOut: 1_500_000,
        active: 1,
      },
    ],
  });
  send("state", state(7));
  await row(page, id, "up").waitFor();
  await page.locator("#route strong", { hasText: id }).waitFor();
  t.is(await cellText(page, id, "requests"), "7");

  const now = Date.now();
  send("backend-drain", {
    type: "backend-drain",
    backend,
    by: "<script>window.pwned = 1</script>",
    at: now,
  });
  send(null, { type: "something-new", note: '<img src=x onerror="window.pwned = 2">', at: now });
  send("error", { type: "error", source: "route-policy", message: "<i>boom</i>", at: now });
  send("backend-down", { type: "backend-down", backend, reason: "<b>refused</b>", at: now });

  // No state follows: the transition is applied from the event alone.
  await row(page, id, "down").waitFor({ timeout: 2_000 });
  await page.locator("#route", { hasText: "no backend" }).waitFor();
  for (const type of ["backend-drain", "something-new", "error", "backend-down"]) {
    await page.locator(`#timeline li[data-type="${type}"]`).waitFor();
  }
  const timeline = (await page.locator("#timeline").textContent()) ?? "";
  t.true(timeline.includes("by=<script>window.pwned = 1</script>"));
  t.true(timeline.includes('note=<img src=x onerror="window.pwned = 2">'));
  t.true(timeline.includes("<i>boom</i>"));
  t.true(timeline.includes("<b>refused</b>"));
  t.is(
    await page.evaluate(
      "document.querySelectorAll('body img, body b, body i, body script').length",
    ),
    1,
    "the page's own script only",
  );
  t.is(await page.evaluate("typeof window.pwned"), "undefined");
  t.deepEqual(problems, []);

  // The stream ends: EventSource reconnects on its own, and the new state replaces the old.
  const second = nextStream();
  res.end();
  res = await second;
  send("state", state(8));
  await row(page, id, "up").waitFor();
  await waitForCell(page, id, "requests", "8");
  await page.locator("#conn", { hasText: "live" }).waitFor();
  t.true(await page.evaluate("window.sameDocument === true"));
});
