import test, { type ExecutionContext } from "ava";
import { constants } from "node:fs";
import { access, copyFile, mkdtemp, rm, stat } from "node:fs/promises";
import { type Server, createServer } from "node:http";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, type BrowserContext, type Page, chromium } from "playwright-core";
import { map } from "rxjs";
import { statusPageHandler } from "../../src/adapters/admin/status-page.js";
import {
  type FallbackProxy,
  createFallbackProxy,
  decodeProxySettings,
  firstHealthy,
} from "../../src/index.js";
import { type TestBackend, roundTrip, startBackend } from "../helpers/net.js";
import { call } from "./helpers.js";

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

interface OpenPage {
  readonly page: Page;
  /** Console errors (CSP violations among them) and uncaught exceptions. */
  readonly problems: string[];
}

/**
 * A fresh browser context on `url`, its problems recorded; closed at teardown. With
 * `frozenClock` the page's timers run only when the test advances them.
 */
const openPage = async (
  t: ExecutionContext,
  url: string,
  frozenClock = false,
): Promise<OpenPage> => {
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
  if (frozenClock) await page.clock.install();
  await page.goto(url);
  // Cleared by a reload: proves the updates came without one.
  await page.evaluate("window.sameDocument = true");
  return { page, problems };
};

const row = (page: Page, id: string, state?: string) =>
  page.locator(
    `#backends tr[data-id="${id}"]${state === undefined ? "" : `[data-state="${state}"]`}`,
  );

/** Waits until a row's cell reads `text` (counters come from the page's /status refresh). */
const waitForCell = (page: Page, id: string, cell: string, text: string) =>
  row(page, id)
    .locator(`td.${cell}`, { hasText: new RegExp(`^${text}$`) })
    .waitFor();

/** The row that has the "new clients" highlight. */
const highlighted = (page: Page, id: string) =>
  page.locator(`#backends tr.target[data-id="${id}"] .tag`, { hasText: "new clients" });

const elapsedSince = (start: number): number => Date.now() - start;

/** A proxy over `backends` with its admin server on loopback, checked every 100 ms. */
const startAdminProxy = async (
  t: ExecutionContext,
  backends: ReadonlyArray<{ address: string; name: string }>,
  admin: string | { address: string; token: string } = "127.0.0.1:0",
): Promise<{ proxy: FallbackProxy; port: number; base: string }> => {
  const proxy = createFallbackProxy({
    listen: "127.0.0.1:0",
    backends,
    admin,
    statsInterval: 0,
    drainTimeout: 0,
    connectTimeout: "1s",
    checkInterval: "100ms",
    probeDelay: "100ms",
    // So the timeline shows the streaks too: falling before down, rising before up.
    fall: 2,
    rise: 2,
  });
  t.teardown(() => proxy.close());
  const { port } = await proxy.listening;
  const adminAddress = await proxy.admin;
  if (adminAddress === null) throw new Error("no admin server");
  return { proxy, port, base: `http://127.0.0.1:${adminAddress.port}` };
};

/** Echo backends, closed at teardown (a restarted one included, through `current`). */
const echoBackends = async (
  t: ExecutionContext,
  count: number,
): Promise<{ current: TestBackend[] }> => {
  const current: TestBackend[] = [];
  for (let i = 0; i < count; i++) current.push(await startBackend());
  t.teardown(async () => {
    for (const backend of current) await backend.close();
  });
  return { current };
};

test("GET / and /index.html serve the page, not cached, under a strict CSP; the rest is left to the server", async (t) => {
  const server: Server = createServer((req, res) => {
    if (statusPageHandler(req, res)) return;
    res.writeHead(404, { "Content-Type": "application/json" });
    res.end('{"error":"not found"}');
  });
  server.listen({ host: "127.0.0.1", port: 0 });
  await once(server, "listening");
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
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
    t.regex(csp, /connect-src 'self'/);
    t.regex(csp, /form-action 'none'/);
    t.regex(csp, /frame-ancestors 'none'/);
    t.notRegex(csp, /unsafe-eval|unsafe-inline/);
    const html = await response.text();
    t.regex(html, /^<!doctype html>/);
    t.true(html.includes('fetch("events"'), "a relative URL, so a path prefix works");
    t.false(html.includes("EventSource"), "EventSource cannot send the token");
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
  const backends = await echoBackends(t, 2);
  const [primary, standby] = backends.current as [TestBackend, TestBackend];
  const { port, base } = await startAdminProxy(t, [
    { address: primary.address, name: "primary" },
    { address: standby.address, name: "standby" },
  ]);
  const { page, problems } = await openPage(t, `${base}/`);

  await page.locator("#conn", { hasText: "live" }).waitFor();
  await row(page, "primary", "up").waitFor();
  await row(page, "standby", "up").waitFor();
  await page.locator("#route", { hasText: /^New clients go to primary/ }).waitFor();
  await highlighted(page, "primary").waitFor();
  t.true(await page.locator("#login").isHidden(), "no token, no form");

  for (const word of ["one", "two", "three"]) {
    const payload = word.repeat(4096);
    t.is((await roundTrip(port, payload)).toString(), payload);
  }
  await waitForCell(page, "primary", "requests", "3");
  await waitForCell(page, "standby", "requests", "0");

  const killedAt = Date.now();
  await primary.close();
  await row(page, "primary", "down").waitFor({ timeout: 2_000 });
  const shownDownMs = elapsedSince(killedAt);
  await highlighted(page, "standby").waitFor({ timeout: 2_000 });
  const highlightMovedMs = elapsedSince(killedAt);
  t.log(
    `primary shown down ${shownDownMs} ms after its kill, the highlight on standby after ${highlightMovedMs} ms`,
  );
  t.true(shownDownMs < 2_000);
  await page.locator("#route", { hasText: /^New clients go to standby/ }).waitFor();
  t.is(await highlighted(page, "primary").count(), 0);
  await page.locator('#timeline li[data-type="backend-down"]', { hasText: "primary" }).waitFor();
  await page.locator('#timeline li[data-type="route"]', { hasText: "standby" }).waitFor();
  await row(page, "primary").locator("td.check .c-failed").waitFor();

  for (const word of ["four", "five"]) {
    t.is((await roundTrip(port, word)).toString(), word);
  }
  await waitForCell(page, "standby", "requests", "2");

  // Saved for the README when asked (UPDATE_SCREENSHOT=1): one backend down, a short timeline.
  const dir = await mkdtemp(join(tmpdir(), "status-page-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const shot = join(dir, "status-page.png");
  await page.screenshot({ path: shot, fullPage: true });
  t.true((await stat(shot)).size > 10_000);
  if (process.env["UPDATE_SCREENSHOT"] === "1") await copyFile(shot, SCREENSHOT);

  // The restart: a new backend on the same port.
  const restartedAt = Date.now();
  backends.current[0] = await startBackend(undefined, primary.port);
  await row(page, "primary", "up").waitFor({ timeout: 2_000 });
  const shownUpMs = elapsedSince(restartedAt);
  await highlighted(page, "primary").waitFor({ timeout: 2_000 });
  t.log(
    `primary shown up ${shownUpMs} ms after its restart, the highlight back after ${elapsedSince(restartedAt)} ms`,
  );
  await page.locator("#route", { hasText: /^New clients go to primary/ }).waitFor();
  await page.locator('#timeline li[data-type="backend-up"]', { hasText: "primary" }).waitFor();
  for (const type of ["backend-falling", "backend-rising"]) {
    await page.locator(`#timeline li[data-type="${type}"]`, { hasText: "primary" }).waitFor();
  }
  t.is((await roundTrip(port, "six")).toString(), "six");
  await waitForCell(page, "primary", "requests", "4");

  t.true(await page.evaluate("window.sameDocument === true"), "the page was not reloaded");
  t.deepEqual(problems, [], "no console errors (CSP violations included)");
});

test("with a token: the page asks for it, refuses a wrong one, and with the right one goes live", async (t) => {
  const backends = await echoBackends(t, 2);
  const [primary, standby] = backends.current as [TestBackend, TestBackend];
  const { base } = await startAdminProxy(
    t,
    [
      { address: primary.address, name: "primary" },
      { address: standby.address, name: "standby" },
    ],
    { address: "127.0.0.1:0", token: "t0ken" },
  );
  t.is((await fetch(`${base}/status`)).status, 401, "the data needs the token");
  const { page, problems } = await openPage(t, `${base}/`);

  await page.locator("#login-note", { hasText: "needs its token" }).waitFor();
  await page.locator("#conn", { hasText: "token needed" }).waitFor();
  t.is(await page.locator("#backends tr").count(), 0);

  await page.fill("#token", "wrong");
  await page.click("#login button");
  await page.locator("#login-note", { hasText: "refused" }).waitFor();
  t.true(await page.locator("#login").isVisible(), "it still asks");
  t.is(await page.locator("#backends tr").count(), 0);

  await page.fill("#token", "t0ken");
  await page.click("#login button");
  await row(page, "primary", "up").waitFor();
  await row(page, "standby", "up").waitFor();
  await page.locator("#conn", { hasText: "live" }).waitFor();
  t.true(await page.locator("#login").isHidden());

  // Live with the token: a transition arrives on the stream.
  await primary.close();
  await row(page, "primary", "down").waitFor({ timeout: 2_000 });
  await highlighted(page, "standby").waitFor({ timeout: 2_000 });
  t.true(await page.evaluate("window.sameDocument === true"));

  // Kept for the tab: a reload goes straight to the data.
  await page.reload();
  await row(page, "primary", "down").waitFor();
  t.true(await page.locator("#login").isHidden());

  // Chromium logs each refused request; nothing else may show (no CSP violation).
  t.deepEqual(
    problems.filter((text) => !/status of 401/.test(text)),
    [],
  );
  t.true(problems.length >= 2, "the two refusals were real 401s");
});

test("event data shows as text, never as markup; operator holds show at once; a lost stream reconnects", async (t) => {
  // Every string the proxy sends is hostile: names, a check's answer, a policy's error.
  const named = "<img src=x onerror=window.pwned=1>";
  const checked = "<b>db2</b>";
  const a = await startBackend();
  const b = await startBackend((socket) =>
    socket.on("data", () => socket.end("<script>window.pwned = 2</script>\n")),
  );
  t.teardown(async () => {
    await a.close();
    await b.close();
  });
  let boom = false;
  const proxy = createFallbackProxy({
    listen: "127.0.0.1:0",
    backends: [
      { address: a.address, name: named },
      {
        address: b.address,
        name: checked,
        check: { kind: "send-expect", send: "PING\n", expect: "^PONG" },
      },
    ],
    statsInterval: 0,
    drainTimeout: 0,
    probeDelay: "100ms",
    route: (health$, context) =>
      firstHealthy(health$, context).pipe(
        map((route) => {
          if (!boom) return route;
          boom = false;
          throw new Error("<i>boom</i>");
        }),
      ),
  });
  // The admin API on a server of our own, so its streams can be ended under the page.
  const routes = proxy.adminRoutes();
  const server = createServer(routes.listener);
  server.listen({ host: "127.0.0.1", port: 0 });
  await once(server, "listening");
  t.teardown(async () => {
    routes.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await proxy.close();
  });
  await proxy.listening;
  const adminPort = (server.address() as AddressInfo).port;
  const { page, problems } = await openPage(t, `http://127.0.0.1:${adminPort}/`);
  // The counters' refresh from /status is held: whatever shows came on the stream.
  await page.route("**/status", () => undefined);
  const act = async (action: string): Promise<void> => {
    const answer = await call(
      adminPort,
      "POST",
      `/backends/${encodeURIComponent(named)}/${action}`,
    );
    t.is(answer.status, 200, action);
  };

  await row(page, named, "up").waitFor();
  await row(page, checked, "down").waitFor();
  await page.locator("#route strong", { hasText: named }).waitFor();
  await page
    .locator('#timeline li[data-type="probe-failed"]', { hasText: "window.pwned = 2" })
    .waitFor();

  boom = true;
  await act("drain");
  await row(page, named, "drain").waitFor({ timeout: 1_000 });
  await page.locator('#timeline li[data-type="error"]', { hasText: "<i>boom</i>" }).waitFor();
  // The policy runs again at the next health change: nothing takes new clients.
  await page.locator("#route", { hasText: "no backend" }).waitFor();
  t.is(await page.locator("#backends tr.target").count(), 0);
  await act("maint");
  await row(page, named, "maint").waitFor({ timeout: 1_000 });
  await act("enable");
  await row(page, named, "up").waitFor({ timeout: 1_000 });
  await highlighted(page, named).waitFor({ timeout: 1_000 });
  await page.locator('#timeline li[data-type="backend-admin"]', { hasText: "enable" }).waitFor();

  const timeline = (await page.locator("#timeline").textContent()) ?? "";
  t.true(timeline.includes(named));
  t.true(timeline.includes("<script>window.pwned = 2</script>"));
  t.true(timeline.includes("<i>boom</i>"));
  t.true(((await page.locator("#backends").textContent()) ?? "").includes(checked));
  t.is(
    await page.evaluate(
      "document.querySelectorAll('body img, body b, body i, body script').length",
    ),
    1,
    "the page's own script only",
  );
  t.is(await page.evaluate("typeof window.pwned"), "undefined");

  // The streams end: the page says so, reconnects, and the fresh state replaces the old one
  // (what changed while it was away included).
  routes.close();
  await page.locator("#conn", { hasText: "reconnecting..." }).waitFor({ timeout: 2_000 });
  await act("maint");
  await row(page, named, "maint").waitFor({ timeout: 5_000 });
  await page.locator("#conn", { hasText: "live" }).waitFor({ timeout: 5_000 });
  await page.locator("#route", { hasText: "no backend" }).waitFor();
  t.true(await page.evaluate("window.sameDocument === true"));
  t.deepEqual(problems, []);
});

test("a reload shows at once: an added backend gets a row, a removed one without connections goes", async (t) => {
  const backends = await echoBackends(t, 3);
  const [primary, standby, added] = backends.current as [TestBackend, TestBackend, TestBackend];
  const { proxy, base } = await startAdminProxy(t, [
    { address: primary.address, name: "primary" },
    { address: standby.address, name: "standby" },
  ]);
  // The page's timers stand still: its every-2-s refresh of /status cannot be what shows it.
  const { page, problems } = await openPage(t, `${base}/`, true);
  await row(page, "standby", "up").waitFor();
  await page.clock.pauseAt(Date.now() + 100);
  const settings = decodeProxySettings({
    listen: "127.0.0.1:0",
    backends: [
      { address: added.address, name: "added" },
      { address: primary.address, name: "primary" },
    ],
  });
  if (settings._tag === "Left") return t.fail(settings.left);
  t.like(await proxy.reload(settings.right), { ok: true });
  await page.locator("#timeline li[data-type='config-reloaded']").waitFor();
  // Only what the event itself schedules (at once) runs: far less than a refresh period.
  await page.clock.runFor(50);
  await row(page, "added").waitFor();
  // The removed one held no connection: its row is gone.
  await row(page, "standby").waitFor({ state: "detached" });
  t.true(await page.evaluate("window.sameDocument === true"), "no reload of the page");
  t.deepEqual(problems, []);
});
