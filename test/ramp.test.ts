import test from "ava";
import { filter, firstValueFrom } from "rxjs";
import { type Probe, type ProbeResult, rampFailback } from "../src/index.js";
import { shareOf } from "../src/domain/route.js";
import { roundTrip, startBackend } from "./helpers/net.js";
import { startProxy } from "./helpers/proxy.js";

interface Client {
  /** Time since the ramp began, in ms. */
  readonly at: number;
  /** The primary's share of new clients in the route when the client was sent. */
  readonly share: number;
  readonly onPrimary: boolean;
}

test("ramp: a recovered primary's share of new clients grows over the ramp, then it takes them all", async (t) => {
  const primary = await startBackend();
  const standby = await startBackend();
  // The primary listens all along; its checks fail until the test lets them pass.
  let primaryHealthy = false;
  const probe: Probe = (backend) =>
    Promise.resolve<ProbeResult>(
      backend.index === 0 && !primaryHealthy ? { ok: false, reason: "held down" } : { ok: true },
    );
  const { proxy, port } = await startProxy({
    backends: [primary.address, standby.address],
    probe,
    probeDelay: "50ms",
    route: rampFailback(2_000),
  });
  t.teardown(async () => {
    await proxy.close();
    await primary.close();
    await standby.close();
  });
  // The start-up check marks the primary down.
  await firstValueFrom(proxy.route$.pipe(filter((route) => route.length === 1)));

  // The proxy's data plane subscribed first: when this sees a route, so has the relay.
  const shares: number[] = [];
  const watch = proxy.route$.subscribe((route) => {
    if (route[0]?.index === 0) shares.push(shareOf(route));
  });
  t.teardown(() => watch.unsubscribe());
  const ramping = firstValueFrom(proxy.route$.pipe(filter((route) => route[0]?.index === 0)));
  primaryHealthy = true;
  await ramping;
  const started = Date.now();

  const clients: Client[] = [];
  const send = async (): Promise<Client> => {
    const share = shares.at(-1) ?? 0;
    const before = primary.served();
    const data = `c${clients.length}`;
    t.is((await roundTrip(port, data)).toString(), data);
    return { at: Date.now() - started, share, onPrimary: primary.served() > before };
  };
  // Clients one after another until the ramp is over (bounded).
  while (shares.at(-1) !== 1 && Date.now() - started < 20_000) clients.push(await send());
  t.is(shares.at(-1), 1, "the ramp ends");

  // The share went up from 0 to 100 % in steps of 5 % (a 2 s ramp steps every 100 ms).
  t.is(shares[0], 0);
  t.true(shares.length >= 10, `shares seen: ${shares.join(" ")}`);
  t.true(
    shares.every((share, i) => i === 0 || share > (shares[i - 1] ?? 1)),
    `shares seen: ${shares.join(" ")}`,
  );
  // Deterministic picks: as many clients on the primary as the shares they were sent at add up to.
  const onPrimary = clients.filter((c) => c.onPrimary).length;
  const expected = clients.reduce((sum, c) => sum + c.share, 0);
  t.true(
    Math.abs(onPrimary - expected) <= 2,
    `${onPrimary} of ${clients.length} on the primary, ${expected.toFixed(1)} expected`,
  );
  // In time: few on the primary in the ramp's first quarter, most in its last.
  const fraction = (from: number, to: number): number => {
    const window = clients.filter((c) => c.at >= from && c.at < to);
    return window.filter((c) => c.onPrimary).length / Math.max(window.length, 1);
  };
  const first = fraction(0, 500);
  const last = fraction(1_500, 2_000);
  t.true(clients[0]?.onPrimary === false, "the first client goes to the standby");
  t.true(first < 0.35, `first quarter: ${first}`);
  t.true(last > 0.6, `last quarter: ${last}`);
  t.true(first < fraction(500, 1_000) && fraction(500, 1_000) < last);

  t.log(
    `${clients.length} clients, ${onPrimary} on primary, expected ${expected.toFixed(2)}, quarters ${[0, 500, 1000, 1500].map((f) => fraction(f, f + 500).toFixed(2)).join(" ")}, shares ${shares.length}`,
  );
  // Then every client goes to the primary.
  for (let i = 0; i < 20; i++) t.true((await send()).onPrimary);
});
