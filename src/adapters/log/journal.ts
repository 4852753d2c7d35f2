import { fstatSync } from "node:fs";

/**
 * Whether descriptor `fd` is the journal stream the service manager set up: it names that stream
 * in JOURNAL_STREAM as `device:inode`. A child whose stderr was redirected elsewhere inherits the
 * variable too, so the descriptor itself must match.
 */
export function isJournalStream(journalStream: string | undefined, fd = 2): boolean {
  if (journalStream === undefined || !/^\d+:\d+$/.test(journalStream)) return false;
  try {
    const { dev, ino } = fstatSync(fd, { bigint: true });
    return journalStream === `${dev}:${ino}`;
  } catch {
    return false;
  }
}
