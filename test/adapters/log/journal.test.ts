import test from "ava";
import { fstatSync } from "node:fs";
import { mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { isJournalStream } from "../../../src/adapters/log/journal.js";

test("JOURNAL_STREAM naming the descriptor's device and inode: it is the journal", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "tcp-fallback-journal-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = await open(join(dir, "stream"), "w");
  t.teardown(() => file.close());
  const { dev, ino } = fstatSync(file.fd, { bigint: true });

  t.true(isJournalStream(`${dev}:${ino}`, file.fd));
  // Inherited by a process whose stderr went elsewhere: another stream's device and inode.
  t.false(isJournalStream(`${dev}:${ino + 1n}`, file.fd));
  t.false(isJournalStream("8:12345", file.fd));
  t.false(isJournalStream(undefined, file.fd));
  t.false(isJournalStream("", file.fd));
  t.false(isJournalStream(`${dev}:${ino}:0`, file.fd));
});

test("a closed descriptor is not the journal", (t) => {
  t.false(isJournalStream("8:12345", 987_654));
});
