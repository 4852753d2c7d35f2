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
  let started = Date.now();
  let rampMs = 0;
  const watch = proxy.route$.subscribe((route) => {
    if (route[0]?.index !== 0) return;
    shares.push(shareOf(route));
    if (shareOf(route) === 1) rampMs = Date.now() - started;
  });
  t.teardown(() => watch.unsubscribe());
  const ramping = firstValueFrom(proxy.route$.pipe(filter((route) => route[0]?.index === 0)));
  primaryHealthy = true;
  await ramping;
  started = Date.now();

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

  // The share went up from 0 to 100 % over the ramp's 2 s, in steps of 5 % (one per 100 ms).
  t.is(shares[0], 0);
  t.true(shares.length >= 10, `shares seen: ${shares.join(" ")}`);
  t.true(
    shares.every((share, i) => i === 0 || share > (shares[i - 1] ?? 1)),
    `shares seen: ${shares.join(" ")}`,
  );
  t.true(rampMs >= 1_900, `the ramp lasted ${rampMs} ms`);
  // Deterministic picks: as many clients on the primary as the shares they were sent at add up to.
  const onPrimary = clients.filter((c) => c.onPrimary).length;
  const expected = clients.reduce((sum, c) => sum + c.share, 0);
  t.true(
    Math.abs(onPrimary - expected) <= 2,
    `${onPrimary} of ${clients.length} on the primary, ${expected.toFixed(1)} expected`,
  );
  t.false(clients[0]?.onPrimary, "the first client goes to the standby");
  // Fewer on the primary early in the ramp than late.
  const fraction = (group: ReadonlyArray<Client>): number =>
    group.filter((c) => c.onPrimary).length / Math.max(group.length, 1);
  const early = clients.filter((c) => c.share < 0.5);
  const late = clients.filter((c) => c.share >= 0.5);
  t.true(early.length > 0 && late.length > 0);
  t.true(fraction(early) < 0.5, `early: ${fraction(early)}`);
  t.true(fraction(late) > 0.5, `late: ${fraction(late)}`);
  const quarter = (from: number): string =>
    fraction(clients.filter((c) => c.at >= from && c.at < from + 500)).toFixed(2);
  t.log(
    `${clients.length} clients during a ${rampMs} ms ramp, ${onPrimary} on the primary ` +
      `(${expected.toFixed(1)} by the shares); by quarter: ${[0, 500, 1_000, 1_500].map(quarter).join(" ")}`,
  );

  // Then every client goes to the primary.
  for (let i = 0; i < 20; i++) t.true((await send()).onPrimary);
});
