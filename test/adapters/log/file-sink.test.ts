import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import test from "ava";

import { openFileSink } from "../../../src/adapters/log/file-sink.js";
import { lineFormat } from "../../../src/adapters/log/format.js";
import { captureStderr } from "./capture-stderr.js";

const at = new Date(2026, 10, 26, 1, 50, 0);
const now = (): Date => at;
const line = (level: string, message: string): string =>
  `2026/11/26 01:50:00 ${level} ${message}\n`;

async function tempDir(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "tcp-fallback-log-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test("appends to existing content", async (t) => {
  const path = join(await tempDir(t), "proxy.log");
  await writeFile(path, "earlier\n");

  const sink = await openFileSink(path, now);
  sink.write("info", "one");
  sink.write("warn", "two");
  await sink.close();

  t.is(await readFile(path, "utf8"), `earlier\n${line("INFO", "one")}${line("WARN", "two")}`);
});

test("reopen after a logrotate-style rename: old lines in .1, new lines in a new file", async (t) => {
  const path = join(await tempDir(t), "proxy.log");
  await writeFile(path, "earlier\n");
  const sink = await openFileSink(path, now);

  sink.write("info", "before 1");
  sink.write("info", "before 2");
  // Rename while those lines may still be queued: they must follow the open file into .1.
  await rename(path, `${path}.1`);
  sink.reopen();
  sink.write("info", "after 1");
  sink.reopen();
  sink.reopen();
  sink.write("error", "after 2");
  await sink.close();

  t.is(
    await readFile(`${path}.1`, "utf8"),
    `earlier\n${line("INFO", "before 1")}${line("INFO", "before 2")}`,
  );
  t.is(await readFile(path, "utf8"), `${line("INFO", "after 1")}${line("ERROR", "after 2")}`);
});

test("rejects naming the path and the reason when the file cannot be opened", async (t) => {
  const path = join(await tempDir(t), "missing-dir", "proxy.log");
  const err = await t.throwsAsync(openFileSink(path, now));
  t.true(err?.message.includes(path));
  t.regex(err?.message ?? "", /ENOENT/);
});

test("write and close after close neither throw nor write", async (t) => {
  const path = join(await tempDir(t), "proxy.log");
  const sink = await openFileSink(path, now);
  sink.write("info", "kept");
  await sink.close();
  t.notThrows(() => {
    sink.write("info", "dropped");
    sink.reopen();
  });
  await sink.close();
  t.is(await readFile(path, "utf8"), line("INFO", "kept"));
});

test.serial("a failed reopen keeps writing to the old file and reports each attempt", async (t) => {
  const path = join(await tempDir(t), "proxy.log");
  const sink = await openFileSink(path, now);
  await rename(path, `${path}.1`);
  // A directory where the file should be makes open() fail with EISDIR.
  await mkdir(path);

  const stderr = await captureStderr(async () => {
    sink.reopen();
    sink.write("info", "still here");
    sink.reopen();
    sink.write("info", "and here");
    await sink.close();
  });

  t.is(
    await readFile(`${path}.1`, "utf8"),
    `${line("INFO", "still here")}${line("INFO", "and here")}`,
  );
  const reports = stderr.split("\n").filter(Boolean);
  t.is(reports.length, 2);
  t.regex(reports[0] ?? "", /reopen failed, still writing to the old file: .*EISDIR/);
});

test.serial("write errors are reported once, never thrown", async (t) => {
  // Writes to /dev/full fail with ENOSPC.
  const sink = await openFileSink("/dev/full", now);
  const stderr = await captureStderr(async () => {
    t.notThrows(() => sink.write("info", "lost"));
    await sink.close();
  });
  t.regex(stderr, /\/dev\/full: write failed.*ENOSPC/);
  t.is(stderr.split("\n").filter(Boolean).length, 1);
});

test("writes in the format it is given, fields included", async (t) => {
  const path = join(await tempDir(t), "proxy.log");
  const sink = await openFileSink(path, now, lineFormat("json"));
  sink.write("info", "Backend a:1 is down", { event: "backend-down", backend: "a:1" });
  sink.write("warn", "plain");
  await sink.close();

  const lines = (await readFile(path, "utf8")).split("\n");
  t.is(lines.pop(), "");
  t.deepEqual(
    lines.map((text) => JSON.parse(text) as unknown),
    [
      {
        time: at.toISOString(),
        level: "info",
        msg: "Backend a:1 is down",
        event: "backend-down",
        backend: "a:1",
      },
      { time: at.toISOString(), level: "warn", msg: "plain" },
    ],
  );
});
