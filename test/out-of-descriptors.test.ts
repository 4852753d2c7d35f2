import test, { type ExecutionContext } from "ava";
import { once } from "node:events";
import { type Socket, connect } from "node:net";
import { listeningPort, runCli } from "./helpers/cli.js";
import { childrenOf, leaveRoomFor } from "./helpers/descriptors.js";
import { roundTrip, startBackend } from "./helpers/net.js";

/** Sends `text`; resolves with the open socket once it is echoed, or null if the proxy closes it first. */
const heldOrRefused = (port: number, text: string): Promise<Socket | null> =>
  new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port, allowHalfOpen: true });
    let echoed = "";
    const refused = (): void => {
      socket.destroy();
      resolve(null);
    };
    // A close is a FIN ('end', the socket is half-open) or a reset ('error').
    socket.on("end", refused);
    socket.on("error", refused);
    socket.on("data", (chunk: Buffer) => {
      echoed += chunk.toString();
      if (echoed === text) resolve(socket);
    });
    socket.write(text);
  });

/** Clients each relaying process has room for before it runs out of descriptors. */
const room = 4;

const healsOnceDescriptorsFree = async (t: ExecutionContext, workers: number): Promise<void> => {
  const backend = await startBackend();
  t.teardown(() => backend.close());
  const run = runCli([
    ...(workers > 1 ? [`-workers=${workers}`] : []),
    "-debug",
    // No probe comes to the rescue: a backend marked down would stay down for the whole test.
    "-probe-delay=1h",
    "-stats=0",
    "127.0.0.1:0",
    backend.address,
  ]);
  t.teardown(() => run.child.kill("SIGKILL"));
  const port = await listeningPort(run);
  if (workers > 1) await run.line(/Worker \d+ ready/, workers);
  // A relayed client and the start-up probe, both over: every descriptor open now stays open.
  t.is((await roundTrip(port, "warm-up")).toString(), "warm-up");
  await run.line(/DEBUG Connection .* closed/);
  while (backend.accepted.length < 2) await once(backend.server, "connection");
  await Promise.all(backend.accepted.map((s) => (s.closed ? undefined : once(s, "close"))));

  const primary = run.child.pid ?? 0;
  const relaying = workers > 1 ? await childrenOf(primary) : [primary];
  t.is(relaying.length, workers);
  for (const pid of relaying) await leaveRoomFor(pid, room);
  const held: Socket[] = [];
  let refused = false;
  for (let i = 0; i <= room * workers && !refused; i++) {
    const socket = await heldOrRefused(port, `held ${i}`);
    if (socket === null) refused = true;
    else held.push(socket);
  }
  t.true(refused, `${held.length} clients held and the proxy never ran out of descriptors`);

  // Once the proxy has closed the held clients, their descriptors are free again.
  for (const socket of held) socket.destroy();
  await run.line(/DEBUG Connection .* closed/, 1 + held.length);
  for (let i = 0; i < 4; i++) t.is((await roundTrip(port, `after ${i}`)).toString(), `after ${i}`);

  const log = run.stderr();
  t.notRegex(log, /is down: |Failed to connect/);
  t.regex(log, /WARN Cannot dial backend .*EMFILE.*backend health unchanged/);
  run.child.kill("SIGTERM");
  t.is(await run.exited, 0);
  const accepted = 1 + held.length + 1 + 4;
  t.regex(run.stderr(), new RegExp(`STATS: <${backend.address}> failed=false .* errors=0 `));
  t.regex(run.stderr(), new RegExp(`STATS: total active=0 accepted=${accepted} refused=1$`, "m"));
};

test("out of descriptors, one process: the backend stays up, and once descriptors free up clients are relayed", (t) =>
  healsOnceDescriptorsFree(t, 1));

test("out of descriptors, -workers=2: the backend stays up, and once descriptors free up clients are relayed", (t) =>
  healsOnceDescriptorsFree(t, 2));
