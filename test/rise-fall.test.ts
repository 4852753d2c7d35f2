import test from "ava";
import { InvalidOptionsError, createFallbackProxy } from "../src/index.js";
import { refusedPort, roundTrip, startBackend } from "./helpers/net.js";
import { nextEvent, startProxy } from "./helpers/proxy.js";

test("fall 2: one refused connect leaves the primary up (falling); the second marks it down", async (t) => {
  const closed = await refusedPort();
  const standby = await startBackend();
  const primaryLabel = `127.0.0.1:${closed}`;
  const { proxy, port, events } = await startProxy({
    backends: [primaryLabel, standby.address],
    fall: 2,
    // No probes during the test: only client connects count.
    probeDelay: "1h",
    probe: () => Promise.resolve({ ok: true }),
  });
  t.teardown(async () => {
    await proxy.close();
    await standby.close();
  });
  // The start-up check passed; each client tries the primary first and fails over to the standby.
  const falling = nextEvent(proxy.events$, "backend-falling", primaryLabel);
  t.is((await roundTrip(port, "one")).toString(), "one");
  t.like(await falling, { failed: 1, fall: 2 });
  t.false(events.some((e) => e.type === "backend-down"));
  const down = nextEvent(proxy.events$, "backend-down", primaryLabel);
  t.is((await roundTrip(port, "two")).toString(), "two");
  await down;
  t.is(standby.served(), 2);
});

test("rise and fall are whole numbers of at least 1", (t) => {
  const error = t.throws(
    () =>
      createFallbackProxy({
        listen: "127.0.0.1:0",
        backends: ["127.0.0.1:1"],
        rise: 0,
        fall: 1.5,
      }),
    { instanceOf: InvalidOptionsError },
  );
  t.deepEqual(error?.problems, [
    "options.rise: expected an integer >= 1, got 0",
    "options.fall: expected an integer >= 1, got 1.5",
  ]);
});

test("checkInterval: up backends are checked too, so fall counts failed checks of a live primary", async (t) => {
  const primary = await startBackend();
  let verdict: "ok" | "fail" = "ok";
  const { proxy } = await startProxy({
    backends: [primary.address],
    checkInterval: 20,
    fall: 2,
    probe: () =>
      Promise.resolve(verdict === "ok" ? { ok: true } : { ok: false, reason: "read_only=1" }),
  });
  t.teardown(async () => {
    await proxy.close();
    await primary.close();
  });
  const down = nextEvent(proxy.events$, "backend-down", primary.address);
  const falling = nextEvent(proxy.events$, "backend-falling", primary.address);
  verdict = "fail";
  t.like(await falling, { failed: 1, fall: 2, reason: "read_only=1" });
  t.like(await down, { reason: "read_only=1" });
});
