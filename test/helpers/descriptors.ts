import { execFile } from "node:child_process";
import { readFile, readdir } from "node:fs/promises";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The child processes of `pid` (a primary's workers), from /proc. */
export const childrenOf = async (pid: number): Promise<number[]> => {
  const children: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    // Field 4 is the parent pid; the command name (field 2) may hold spaces, so split after ')'.
    const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (parent === pid) children.push(Number(entry));
  }
  return children;
};

/**
 * Lowers a running process's descriptor limit so that `clients` relayed clients (two
 * descriptors each: client and backend side) fit and exactly one descriptor is left: the next
 * client is accepted and its dial fails with EMFILE. (With an even number left, the accept
 * would fail instead and the dial path would never be reached.)
 */
export const leaveRoomFor = async (pid: number, clients: number): Promise<number> => {
  const open = new Set((await readdir(`/proc/${pid}/fd`)).map(Number));
  // New descriptors take the lowest free numbers below the limit; open ones above it (Node
  // keeps one high up) take none of that room.
  let limit = 0;
  for (let free = 0; free < 2 * clients + 1; limit++) if (!open.has(limit)) free++;
  await run("prlimit", ["--pid", String(pid), `--nofile=${limit}:${limit}`]);
  return limit;
};
