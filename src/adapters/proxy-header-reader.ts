import type { Socket } from "node:net";
import { formatDuration } from "../domain/duration.js";
import { MAX_TIMER_DELAY_MS } from "../domain/timer-limit.js";
import { type ProxiedAddresses, parseProxyHeader } from "../domain/proxy-protocol.js";
import type { RefusedHeaderLog } from "./refused-header-log.js";

export interface HeaderReaderContext {
  /** How long a client has to send its whole header. */
  readonly timeoutMs: number;
  readonly refusals: Pick<RefusedHeaderLog, "record">;
  /**
   * The header is read, and the client's bytes after it wait unread in the socket: relay it.
   * `addresses` is null when the header has none to use (LOCAL, UNKNOWN): the socket's own count.
   */
  readonly accepted: (client: Socket, addresses: ProxiedAddresses | null) => void;
  /** The client was closed without a usable header: its connection is over. */
  readonly refused: (client: Socket) => void;
}

// Like the relay, shared handlers find a connection's state through a symbol: no closures per
// connection. Only clients of a listener with the header on come here.
const readingKey = Symbol("proxy-header");
type ReadingSocket = Socket & { [readingKey]: HeaderReading };

class HeaderReading {
  /** What the client has sent so far; the parser decides within MAX_HEADER_LENGTH bytes. */
  bytes: Buffer | null = null;
  done = false;
  /** The whole header's deadline, not an idle timeout: a client sending a byte now and then is no better. */
  deadline: NodeJS.Timeout | null = null;
  constructor(readonly ctx: HeaderReaderContext) {}
}

const readingOf = (socket: Socket): HeaderReading => (socket as ReadingSocket)[readingKey];

/**
 * Reads the PROXY protocol header a client must start with, then hands the client on with its
 * later bytes untouched. A malformed or missing header, or none complete within the timeout,
 * closes the client with a logged reason.
 */
export const readProxyHeader = (client: Socket, ctx: HeaderReaderContext): void => {
  const reading = new HeaderReading(ctx);
  (client as ReadingSocket)[readingKey] = reading;
  client.on("error", ignoreError);
  client.on("readable", onHeaderReadable);
  client.once("end", onHeaderEnd);
  client.once("close", onHeaderClose);
  // The client is an argument, not captured: no closure per connection.
  reading.deadline = setTimeout(
    onHeaderDeadline,
    Math.min(ctx.timeoutMs, MAX_TIMER_DELAY_MS),
    client,
  );
};

// The relay adds its own error listener; errors before it are followed by 'close'.
function ignoreError(): void {}

function onHeaderReadable(this: Socket): void {
  const reading = readingOf(this);
  let chunk: Buffer | null;
  while (!reading.done && (chunk = this.read() as Buffer | null) !== null) {
    const bytes = reading.bytes === null ? chunk : Buffer.concat([reading.bytes, chunk]);
    const parsed = parseProxyHeader(bytes);
    if (parsed.kind === "incomplete") {
      reading.bytes = bytes;
      continue;
    }
    if (parsed.kind === "invalid") {
      refuse(this, reading, parsed.reason);
      return;
    }
    stopReading(this, reading);
    // The client's first bytes go back into the socket, ahead of anything later: the relay
    // reads them first, as if no header had been there.
    if (bytes.length > parsed.length) this.unshift(bytes.subarray(parsed.length));
    const header = parsed.header;
    reading.ctx.accepted(this, header.kind === "proxy" ? header.addresses : null);
    return;
  }
}

function onHeaderEnd(this: Socket): void {
  const reading = readingOf(this);
  const had = reading.bytes?.length ?? 0;
  refuse(this, reading, `closed by the client after ${had} byte(s), before a complete header`);
}

function onHeaderDeadline(client: Socket): void {
  const reading = readingOf(client);
  reading.deadline = null;
  const had = reading.bytes?.length ?? 0;
  refuse(
    client,
    reading,
    `no complete header within ${formatDuration(reading.ctx.timeoutMs)} (${had} byte(s) read)`,
  );
}

function onHeaderClose(this: Socket): void {
  const reading = readingOf(this);
  if (reading.done) return;
  stopReading(this, reading);
  reading.ctx.refused(this);
}

const stopReading = (client: Socket, reading: HeaderReading): void => {
  reading.done = true;
  reading.bytes = null;
  if (reading.deadline !== null) clearTimeout(reading.deadline);
  reading.deadline = null;
  client.removeListener("readable", onHeaderReadable);
  client.removeListener("end", onHeaderEnd);
  client.removeListener("close", onHeaderClose);
  client.removeListener("error", ignoreError);
};

const refuse = (client: Socket, reading: HeaderReading, reason: string): void => {
  if (reading.done) return;
  stopReading(client, reading);
  // Read before the socket is gone.
  const peer = `${client.remoteAddress ?? "?"}:${client.remotePort ?? "?"}`;
  reading.ctx.refusals.record(peer, reason);
  client.on("error", ignoreError);
  client.destroy();
  reading.ctx.refused(client);
};
