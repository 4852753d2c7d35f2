/**
 * A black-holed backend on loopback: a listener that never accepts, its accept queue filled by one
 * connection, so further SYNs go unanswered and a connect hangs until the dialer gives up (what a
 * host that vanished, or a firewall that drops, looks like). Python, as Node always accepts.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Socket } from "node:net";
import { type Context, LOAD_CPU, placement, tool } from "./context.js";
import { HOST, freePort } from "./net.js";
import { connect } from "node:net";
import { once } from "node:events";
import { type Spawned, spawnTracked } from "./proc.js";

// Bound to a port we pass, listening with backlog 0; it sleeps until killed (at most an hour).
const SCRIPT = [
  "import socket, sys, time",
  "s = socket.socket()",
  `s.bind(("${HOST}", int(sys.argv[1])))`,
  "s.listen(0)",
  'print("listening", flush=True)',
  "time.sleep(3600)",
].join("\n");

export class BlackHole {
  private constructor(
    readonly port: number,
    private readonly spawned: Spawned,
    private readonly filler: Socket,
  ) {}

  static async start(ctx: Context): Promise<BlackHole> {
    const port = await freePort();
    const spawned = spawnTracked(
      "black-hole",
      tool(ctx, "python3"),
      ["-c", SCRIPT, String(port)],
      placement(ctx, LOAD_CPU),
    );
    for (let i = 0; i < 400 && !spawned.stdout().includes("listening"); i++) {
      if (spawned.child.exitCode !== null) break;
      await sleep(10);
    }
    if (!spawned.stdout().includes("listening")) {
      await spawned.stop();
      throw new Error(`black hole did not listen on ${port}: ${spawned.stderr().trim()}`);
    }
    // Backlog 0 admits one connection; once it is queued, the queue is full.
    const filler = connect({ host: HOST, port });
    filler.on("error", () => undefined);
    await once(filler, "connect");
    return new BlackHole(port, spawned, filler);
  }

  async close(): Promise<void> {
    this.filler.destroy();
    await this.spawned.stop();
  }
}
