import test from "ava";
import { of } from "rxjs";
import { runCli } from "./helpers/cli.js";
import { startProxy } from "./helpers/proxy.js";
import {
  type PeerServer,
  httpGetBody,
  startHaproxyInFront,
  startNginxBehind,
} from "./helpers/proxy-protocol-peers.js";

// Checks always pass: only the headers matter here.
const alwaysUp = () => of({ ok: true as const });

const started = async (
  t: { teardown(fn: () => Promise<void>): void },
  server: Promise<PeerServer>,
): Promise<PeerServer> => {
  const running = await server;
  t.teardown(() => running.stop());
  return running;
};

for (const version of ["v1", "v2"] as const) {
  test(`nginx behind -send-proxy=${version} sees the client's address and port`, async (t) => {
    const nginx = await started(t, startNginxBehind());
    const { proxy, port } = await startProxy({
      backends: [`127.0.0.1:${nginx.port}`],
      sendProxy: version,
      probe: alwaysUp,
    });
    t.teardown(() => proxy.close());
    for (let i = 0; i < 3; i++) {
      const { body, clientPort } = await httpGetBody(port);
      t.is(body, `127.0.0.1:${clientPort}\n`, await nginx.log());
    }
  });
}

test("without -send-proxy nginx (expecting a header) refuses the connection: the test can tell", async (t) => {
  const nginx = await started(t, startNginxBehind());
  const { proxy, port } = await startProxy({
    backends: [`127.0.0.1:${nginx.port}`],
    probe: alwaysUp,
  });
  t.teardown(() => proxy.close());
  const { body } = await httpGetBody(port);
  t.regex(body, /^\(no body\)/);
  t.regex(await nginx.log(), /broken header/);
});

test("HAProxy in front (send-proxy-v2) -> us (-accept-proxy -send-proxy=v1) -> nginx: nginx sees the original client port", async (t) => {
  const nginx = await started(t, startNginxBehind());
  const run = runCli([
    "-debug",
    "-stats=0",
    "-accept-proxy",
    "-send-proxy=v1",
    "127.0.0.1:0",
    `127.0.0.1:${nginx.port}`,
  ]);
  t.teardown(async () => {
    run.child.kill("SIGTERM");
    await run.exited;
  });
  const ourPort = Number(/:(\d+)$/.exec(await run.line(/Listening on /))?.[1]);
  const haproxy = await started(t, startHaproxyInFront(`127.0.0.1:${ourPort}`));
  for (let i = 0; i < 3; i++) {
    const { body, clientPort } = await httpGetBody(haproxy.port);
    // The port of the client's connection to HAProxy, not of HAProxy's connection to us.
    t.is(body, `127.0.0.1:${clientPort}\n`, `${await haproxy.log()}\n${run.stderr()}`);
    t.regex(
      await run.line(new RegExp(`Connection 127\\.0\\.0\\.1:${clientPort} -> .* opened`)),
      /DEBUG/,
    );
  }
});
