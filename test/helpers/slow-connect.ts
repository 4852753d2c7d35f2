import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync, readdirSync, readlinkSync } from "node:fs";
import type { Socket } from "node:net";
import { createInterface } from "node:readline";
import { connectTo } from "./net.js";

/**
 * A backend whose connects hang until it is told to open: a listener with its accept queue
 * filled by one connection (further SYNs go unanswered), in a process of its own, which later
 * starts accepting and echoing. A dial that hung then completes at its next SYN retransmission
 * (about 1 s after the first SYN, then 3 s). It tells what its peers do, so a test can see a
 * connection closed cleanly (FIN) or reset.
 */
export interface LateBackend {
  readonly port: number;
  readonly address: string;
  /** Starts accepting `delayMs` from now, timed in its own process (this one may be busy). */
  openAfter(delayMs: number): void;
  /** Its peers so far, filler excluded: "accepted", then "closed" (FIN) or "reset". */
  peers(): ReadonlyMap<number, ReadonlyArray<string>>;
  /** Resolves once some peer (filler excluded) has had `what` happen, or at once if one has. */
  next(what: "accepted" | "closed" | "reset"): Promise<number>;
  close(): Promise<void>;
}

const SCRIPT = `
import os, socket, sys, threading, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)
print(s.getsockname()[1], flush=True)
lock = threading.Lock()
def say(line):
    with lock:
        sys.stdout.write(line + "\\n"); sys.stdout.flush()
def serve(c, port):
    try:
        while True:
            data = c.recv(65536)
            if not data:
                say("closed %d" % port)
                break
            c.sendall(data)
    except OSError:
        say("reset %d" % port)
    c.close()
def accept_all(delay):
    time.sleep(delay)
    while True:
        c, (host, port) = s.accept()
        say("accepted %d" % port)
        threading.Thread(target=serve, args=(c, port), daemon=True).start()
for line in sys.stdin:
    words = line.split()
    if words and words[0] == "open":
        threading.Thread(target=accept_all, args=(float(words[1]),), daemon=True).start()
os._exit(0)
`;

export const startLateBackend = async (): Promise<LateBackend> => {
  const child = spawn("python3", ["-c", SCRIPT], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout });
  const [first] = (await once(lines, "line")) as [string];
  const port = Number(first);
  // Backlog 0 admits one connection; once it is queued, the queue is full.
  const filler: Socket = await connectTo(port);
  filler.on("error", () => undefined);
  const fillerPort = filler.localPort;
  const peers = new Map<number, string[]>();
  const waiters: Array<{ what: string; resolve: (port: number) => void }> = [];
  lines.on("line", (line: string) => {
    const [what = "", peer] = line.split(" ");
    const peerPort = Number(peer);
    if (peerPort === fillerPort) return;
    peers.set(peerPort, [...(peers.get(peerPort) ?? []), what]);
    for (const waiter of waiters.filter((w) => w.what === what)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(peerPort);
    }
  });
  return {
    port,
    address: `127.0.0.1:${port}`,
    openAfter: (delayMs) => void child.stdin.write(`open ${delayMs / 1000}\n`),
    peers: () => peers,
    next: (what) =>
      new Promise((resolve) => {
        const seen = [...peers].find(([, events]) => events.includes(what));
        if (seen === undefined) waiters.push({ what, resolve });
        else resolve(seen[0]);
      }),
    close: async () => {
      filler.destroy();
      child.stdin.end();
      if (child.exitCode === null) await once(child, "exit");
      lines.close();
    },
  };
};

/** Inodes of the sockets this process holds. */
const ownSockets = (): Set<string> => {
  const inodes = new Set<string>();
  for (const fd of readdirSync("/proc/self/fd")) {
    let target = "";
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // closed meanwhile
    }
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    if (inode !== undefined) inodes.add(inode);
  }
  return inodes;
};

/**
 * How many connects to this loopback port this process has under way (SYN sent, no answer):
 * dials a proxy in this process still makes, from the kernel's table. Synchronous, so a test
 * may read it while it holds the event loop.
 */
export const dialsPendingTo = (port: number): number => {
  const table = readFileSync("/proc/net/tcp", "utf8");
  const remote = `0100007F:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  const own = ownSockets();
  return table
    .split("\n")
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter(
      ([, , to, state, , , , , , inode]) => state === "02" && to === remote && own.has(inode ?? ""),
    ).length;
};

/** Polls `condition` (no event exists for kernel socket states) every 10 ms, up to `timeoutMs`. */
export const eventually = async (condition: () => boolean, timeoutMs = 5_000): Promise<boolean> => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return condition();
};
