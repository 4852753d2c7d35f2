import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { listeningPort, runCli, stackTrace } from "./helpers/cli.js";
import {
  type RedisServer,
  landing,
  landingOn,
  okText,
  replicate,
  startRedisServer,
} from "./helpers/redis-server.js";

const PASSWORD = "s3cret";

const started = async (t: { teardown(fn: () => Promise<void>): void }): Promise<RedisServer> => {
  const server = await startRedisServer({ requirepass: PASSWORD });
  t.teardown(() => server.stop());
  // Replication between the two needs the password too.
  okText(await server.cli("CONFIG", "SET", "masterauth", PASSWORD));
  return server;
};

test("-check=redis-primary: a replica listed first gets no client at start; after a promotion clients follow the new primary", async (t) => {
  const [primary, replica] = await Promise.all([started(t), started(t)]);
  await replicate(replica, primary);
  const dir = await mkdtemp(join(tmpdir(), "tcp-fallback-check-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const passwordFile = join(dir, "password");
  await writeFile(passwordFile, `${PASSWORD}\n`);
  // The replica first: a connect check would send every write to it at start.
  const run = runCli([
    "-check=redis-primary",
    `-check-password-file=${passwordFile}`,
    "-check-interval=100ms",
    "-timeout=1s",
    "127.0.0.1:0",
    `127.0.0.1:${replica.port}`,
    `127.0.0.1:${primary.port}`,
  ]);
  t.teardown(() => run.child.kill("SIGKILL"));
  const port = await listeningPort(run);
  // Clients from the first moment on: none may land on the replica.
  const first = await landing(port, PASSWORD);
  t.true(first === null || first.port === primary.port, JSON.stringify(first));
  t.deepEqual(await landingOn(port, primary.port, 10_000, PASSWORD), {
    wrote: true,
    port: primary.port,
  });
  await run.line(new RegExp(`Backend 127\\.0\\.0\\.1:${replica.port} is down: role:slave`));

  const promotedAt = Date.now();
  okText(await replica.cli("REPLICAOF", "NO", "ONE"));
  okText(await primary.cli("REPLICAOF", "127.0.0.1", String(replica.port)));
  const landed = await landingOn(port, replica.port, 10_000, PASSWORD);
  t.deepEqual(landed, { wrote: true, port: replica.port });
  t.log(`first client on the promoted replica ${Date.now() - promotedAt} ms after its promotion`);
  await run.line(new RegExp(`Backend 127\\.0\\.0\\.1:${primary.port} is down: role:slave`));
  run.child.kill("SIGTERM");
  t.is(await run.exited, 0);
  t.notRegex(run.stderr(), stackTrace);
});
