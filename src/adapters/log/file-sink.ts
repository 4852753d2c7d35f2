import { open, type FileHandle } from "node:fs/promises";

import type { LogFields, LogLevelName } from "../../domain/logger.js";
import { describeError, FailureReport } from "./failure-report.js";
import { type LineFormat, formatLogLine } from "./format.js";
import type { LogSink } from "./sink.js";

/**
 * Appends log lines to a file; `reopen()` supports logrotate's rename-then-signal rotation.
 * Rejects if the file cannot be opened, naming the path and the reason.
 */
export async function openFileSink(
  path: string,
  now: () => Date = () => new Date(),
  format: LineFormat = formatLogLine,
): Promise<LogSink> {
  let handle: FileHandle;
  try {
    handle = await open(path, "a");
  } catch (err) {
    throw new Error(`cannot open log file ${path}: ${describeError(err)}`, { cause: err });
  }
  return new FileSink(path, handle, now, format);
}

class FileSink implements LogSink {
  /**
   * Lines waiting to be written, split into segments: each boundary is a pending reopen. Lines
   * queued before a reopen() must land in the old file, those after it in the new one, so a single
   * writer works through the segments in order instead of racing writes against the reopen.
   */
  private readonly segments: string[][] = [[]];
  private draining: Promise<void> = Promise.resolve();
  private running = false;
  private closing: Promise<void> | undefined;
  private readonly report: FailureReport;

  constructor(
    private readonly path: string,
    private handle: FileHandle,
    private readonly now: () => Date,
    private readonly format: LineFormat,
  ) {
    this.report = new FailureReport(`log file ${path}`);
  }

  write(level: LogLevelName, message: string, fields?: LogFields): void {
    if (this.closing) return;
    const line = this.format(this.now(), level, message, fields);
    this.segments[this.segments.length - 1]?.push(`${line}\n`);
    this.kick();
  }

  reopen(): void {
    if (this.closing) return;
    const last = this.segments[this.segments.length - 1];
    // Back-to-back reopens with nothing written between them need only one reopen.
    if (this.segments.length > 1 && last?.length === 0) return;
    this.segments.push([]);
    this.kick();
  }

  close(): Promise<void> {
    this.closing ??= this.draining.then(() =>
      this.handle.close().catch((err: unknown) => this.report.failed(err)),
    );
    return this.closing;
  }

  private kick(): void {
    if (this.running) return;
    this.running = true;
    this.draining = this.drain();
  }

  /** The only writer. Never rejects; clears `running` in the same tick it sees an empty queue. */
  private async drain(): Promise<void> {
    for (;;) {
      const head = this.segments[0];
      if (head && head.length > 0) {
        // Batch everything queued so far into one write; later lines join the same array.
        await this.append(head.splice(0).join(""));
      } else if (this.segments.length > 1) {
        this.segments.shift();
        await this.swapFile();
      } else {
        this.running = false;
        return;
      }
    }
  }

  private async append(chunk: string): Promise<void> {
    try {
      // appendFile (unlike write) loops over short writes.
      await this.handle.appendFile(chunk);
      this.report.succeeded();
    } catch (err) {
      this.report.failed(new Error(`write failed, dropping lines: ${describeError(err)}`));
    }
  }

  private async swapFile(): Promise<void> {
    let next: FileHandle;
    try {
      next = await open(this.path, "a");
    } catch (err) {
      // Keep writing to the old (renamed) file rather than losing lines.
      this.report.notice(
        new Error(`reopen failed, still writing to the old file: ${describeError(err)}`),
      );
      return;
    }
    const previous = this.handle;
    this.handle = next;
    await previous.close().catch((err: unknown) => this.report.failed(err));
  }
}
