/**
 * The PROXY protocol header (versions 1 and 2): what a proxy in front writes before the client's
 * bytes so the server behind learns the client's address. Encoding, and a parser that takes the
 * bytes read so far and says whether it needs more, found a header (and its length), or found
 * garbage (and why). Pure: no sockets, no exceptions for bad input.
 */
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6, unmappedIPv4 } from "./ip-address.js";

export type ProxyProtocolVersion = "v1" | "v2";

/** Where a proxied connection comes from and where it went, as the first proxy saw it. */
export interface ProxiedAddresses {
  readonly family: "TCP4" | "TCP6";
  readonly sourceAddress: string;
  readonly sourcePort: number;
  readonly destinationAddress: string;
  readonly destinationPort: number;
}

export type ProxyHeader =
  /** A proxied client, with its addresses. */
  | { readonly kind: "proxy"; readonly addresses: ProxiedAddresses }
  /** Version 2 LOCAL: the sender's own connection (a health check): use the real peer. */
  | { readonly kind: "local" }
  /** v1 UNKNOWN, or a v2 family without usable addresses (unspecified, unix, datagram): use the real peer. */
  | { readonly kind: "unknown" };

export type ProxyHeaderParse =
  | { readonly kind: "incomplete" }
  | { readonly kind: "header"; readonly header: ProxyHeader; readonly length: number }
  | { readonly kind: "invalid"; readonly reason: string };

/** The longest v1 header, CRLF included (the specification's bound). */
export const MAX_V1_LENGTH = 107;
/**
 * The most address and TLV bytes a v2 header may announce. Addresses take at most 216 (unix);
 * the TLVs senders add in practice (ALPN, authority up to 255, a unique id up to 128, CRC,
 * a short TLS summary) fit well within the rest. It bounds what an unauthenticated peer can make
 * each connection buffer before it is judged.
 */
export const MAX_V2_PAYLOAD = 1024;
/** The v2 fixed part: signature, version/command, family, length. */
export const V2_FIXED_LENGTH = 16;
/** The most bytes the parser ever looks at. */
export const MAX_HEADER_LENGTH = V2_FIXED_LENGTH + MAX_V2_PAYLOAD;

const V1_PREFIX = Buffer.from("PROXY ", "latin1");
export const V2_SIGNATURE = Buffer.from([
  0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
]);

const INCOMPLETE: ProxyHeaderParse = { kind: "incomplete" };
const invalid = (reason: string): ProxyHeaderParse => ({ kind: "invalid", reason });
const hex = (byte: number): string => `0x${byte.toString(16).padStart(2, "0")}`;

/** Whether `bytes` so far agree with `prefix` (as far as both go). */
const agreesWith = (bytes: Uint8Array, prefix: Uint8Array): boolean => {
  const n = Math.min(bytes.length, prefix.length);
  for (let i = 0; i < n; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
};

// ----- parsing

/** Parses the start of a connection's bytes; only the first MAX_HEADER_LENGTH are ever read. */
export const parseProxyHeader = (bytes: Uint8Array): ProxyHeaderParse => {
  if (bytes.length === 0) return INCOMPLETE;
  if (bytes[0] === V1_PREFIX[0]) return parseV1(bytes);
  if (bytes[0] === V2_SIGNATURE[0]) return parseV2(bytes);
  return invalid(`no PROXY protocol header: the first byte is ${hex(bytes[0] as number)}`);
};

const parseV1 = (bytes: Uint8Array): ProxyHeaderParse => {
  if (!agreesWith(bytes, V1_PREFIX)) return invalid('bad v1 signature: not "PROXY "');
  const end = Math.min(bytes.length, MAX_V1_LENGTH);
  for (let i = 0; i < end; i++) {
    const byte = bytes[i] as number;
    if (byte === 0x0d) {
      if (i + 1 >= MAX_V1_LENGTH) return invalid("v1 header without CRLF within 107 bytes");
      if (i + 1 >= bytes.length) return INCOMPLETE;
      if (bytes[i + 1] !== 0x0a) return invalid("v1 header: CR not followed by LF");
      return v1Line(Buffer.from(bytes.buffer, bytes.byteOffset, i).toString("latin1"), i + 2);
    }
    if (byte < 0x20 || byte > 0x7e)
      return invalid(`v1 header: unexpected byte ${hex(byte)} at offset ${i}`);
  }
  return bytes.length >= MAX_V1_LENGTH
    ? invalid("v1 header without CRLF within 107 bytes")
    : INCOMPLETE;
};

const PORT = /^[0-9]{1,5}$/;

/** A port as v1 writes it: decimal 0-65535. */
const v1Port = (text: string): number | null =>
  PORT.test(text) && Number(text) <= 65535 ? Number(text) : null;

const v1Line = (line: string, length: number): ProxyHeaderParse => {
  const fields = line.slice(V1_PREFIX.length).split(" ");
  const family = fields[0];
  // The specification lets anything follow UNKNOWN up to the CRLF; receivers ignore it.
  if (family === "UNKNOWN") return { kind: "header", header: { kind: "unknown" }, length };
  if (family !== "TCP4" && family !== "TCP6")
    return invalid(`v1 header: unknown protocol family ${JSON.stringify(family)}`);
  if (fields.length !== 5)
    return invalid(`v1 header: expected 5 fields after PROXY, got ${fields.length}`);
  const [, source, destination, sourcePort, destinationPort] = fields as [
    string,
    string,
    string,
    string,
    string,
  ];
  const parse = family === "TCP4" ? parseIPv4 : parseIPv6;
  const format = family === "TCP4" ? formatIPv4 : formatIPv6;
  const sourceBytes = parse(source);
  if (sourceBytes === null)
    return invalid(`v1 header: bad ${family} source address ${JSON.stringify(source)}`);
  const destinationBytes = parse(destination);
  if (destinationBytes === null)
    return invalid(`v1 header: bad ${family} destination address ${JSON.stringify(destination)}`);
  const sport = v1Port(sourcePort);
  if (sport === null) return invalid(`v1 header: bad source port ${JSON.stringify(sourcePort)}`);
  const dport = v1Port(destinationPort);
  if (dport === null)
    return invalid(`v1 header: bad destination port ${JSON.stringify(destinationPort)}`);
  return {
    kind: "header",
    header: {
      kind: "proxy",
      addresses: {
        family,
        sourceAddress: format(sourceBytes),
        sourcePort: sport,
        destinationAddress: format(destinationBytes),
        destinationPort: dport,
      },
    },
    length,
  };
};

const AF_UNSPEC = 0x00;
const TCP4 = 0x11;
const UDP4 = 0x12;
const TCP6 = 0x21;
const UDP6 = 0x22;
const UNIX_STREAM = 0x31;
const UNIX_DGRAM = 0x32;

/** Families the specification defines, and the address bytes each needs at least. */
const V2_ADDRESS_LENGTH: ReadonlyMap<number, number> = new Map([
  [AF_UNSPEC, 0],
  [TCP4, 12],
  [UDP4, 12],
  [TCP6, 36],
  [UDP6, 36],
  [UNIX_STREAM, 216],
  [UNIX_DGRAM, 216],
]);

const parseV2 = (bytes: Uint8Array): ProxyHeaderParse => {
  if (!agreesWith(bytes, V2_SIGNATURE)) return invalid("bad v2 signature");
  if (bytes.length < V2_FIXED_LENGTH) return INCOMPLETE;
  const versionCommand = bytes[12] as number;
  if (versionCommand >> 4 !== 2)
    return invalid(`v2 header: unsupported version ${versionCommand >> 4}`);
  const command = versionCommand & 0x0f;
  if (command > 1) return invalid(`v2 header: unknown command ${command}`);
  const family = bytes[13] as number;
  const payload = ((bytes[14] as number) << 8) | (bytes[15] as number);
  if (payload > MAX_V2_PAYLOAD)
    return invalid(
      `v2 header too long: ${payload} bytes of addresses and TLVs, at most ${MAX_V2_PAYLOAD}`,
    );
  const length = V2_FIXED_LENGTH + payload;
  // LOCAL: the receiver ignores the family and addresses, whatever they are.
  if (command === 0) {
    if (bytes.length < length) return INCOMPLETE;
    return { kind: "header", header: { kind: "local" }, length };
  }
  const needed = V2_ADDRESS_LENGTH.get(family);
  if (needed === undefined) return invalid(`v2 header: unknown address family ${hex(family)}`);
  if (payload < needed)
    return invalid(`v2 header: ${payload} address bytes, family ${hex(family)} needs ${needed}`);
  if (bytes.length < length) return INCOMPLETE;
  // Only TCP over IP has addresses a relayed stream can use; TLVs are skipped.
  if (family !== TCP4 && family !== TCP6)
    return { kind: "header", header: { kind: "unknown" }, length };
  const v4 = family === TCP4;
  const size = v4 ? 4 : 16;
  const format = v4 ? formatIPv4 : formatIPv6;
  const ports = V2_FIXED_LENGTH + 2 * size;
  return {
    kind: "header",
    header: {
      kind: "proxy",
      addresses: {
        family: v4 ? "TCP4" : "TCP6",
        sourceAddress: format(bytes, V2_FIXED_LENGTH),
        destinationAddress: format(bytes, V2_FIXED_LENGTH + size),
        sourcePort: ((bytes[ports] as number) << 8) | (bytes[ports + 1] as number),
        destinationPort: ((bytes[ports + 2] as number) << 8) | (bytes[ports + 3] as number),
      },
    },
    length,
  };
};

// ----- encoding

/** A header for `header` in `version`. Addresses must be valid literals of their family. */
export const encodeProxyHeader = (version: ProxyProtocolVersion, header: ProxyHeader): Buffer =>
  version === "v1" ? encodeV1(header) : encodeV2(header);

const encodeV1 = (header: ProxyHeader): Buffer => {
  if (header.kind !== "proxy") return Buffer.from("PROXY UNKNOWN\r\n", "latin1");
  const a = header.addresses;
  return Buffer.from(
    `PROXY ${a.family} ${a.sourceAddress} ${a.destinationAddress} ${a.sourcePort} ${a.destinationPort}\r\n`,
    "latin1",
  );
};

const encodeV2 = (header: ProxyHeader): Buffer => {
  const fixed = (command: number, family: number, payload: number): Buffer => {
    const buffer = Buffer.alloc(V2_FIXED_LENGTH + payload);
    V2_SIGNATURE.copy(buffer, 0);
    buffer[12] = 0x20 | command;
    buffer[13] = family;
    buffer.writeUInt16BE(payload, 14);
    return buffer;
  };
  if (header.kind === "local") return fixed(0, AF_UNSPEC, 0);
  if (header.kind === "unknown") return fixed(1, AF_UNSPEC, 0);
  const a = header.addresses;
  const v4 = a.family === "TCP4";
  const parse = v4 ? parseIPv4 : parseIPv6;
  const source = parse(a.sourceAddress);
  const destination = parse(a.destinationAddress);
  if (source === null || destination === null) return fixed(1, AF_UNSPEC, 0);
  const size = v4 ? 4 : 16;
  const buffer = fixed(1, v4 ? TCP4 : TCP6, 2 * size + 4);
  buffer.set(source, V2_FIXED_LENGTH);
  buffer.set(destination, V2_FIXED_LENGTH + size);
  buffer.writeUInt16BE(a.sourcePort, V2_FIXED_LENGTH + 2 * size);
  buffer.writeUInt16BE(a.destinationPort, V2_FIXED_LENGTH + 2 * size + 2);
  return buffer;
};

/** An endpoint as a socket reports it; either part may be missing on a closed socket. */
export interface SocketEndpoint {
  readonly address: string | undefined;
  readonly port: number | undefined;
}

/**
 * The header describing a connection from `source` to `destination` as sockets report them:
 * TCP4 when both are IPv4 (IPv4-mapped IPv6 included), TCP6 when both are IPv6, else UNKNOWN.
 */
export const headerFor = (source: SocketEndpoint, destination: SocketEndpoint): ProxyHeader => {
  const { address: s, port: sport } = source;
  const { address: d, port: dport } = destination;
  if (s === undefined || d === undefined || sport === undefined || dport === undefined)
    return { kind: "unknown" };
  const s4 = parseIPv4(s) === null ? unmappedIPv4(s) : s;
  const d4 = parseIPv4(d) === null ? unmappedIPv4(d) : d;
  const addresses = (
    family: "TCP4" | "TCP6",
    sourceAddress: string,
    destinationAddress: string,
  ): ProxyHeader => ({
    kind: "proxy",
    addresses: {
      family,
      sourceAddress,
      sourcePort: sport,
      destinationAddress,
      destinationPort: dport,
    },
  });
  if (s4 !== null && d4 !== null) return addresses("TCP4", s4, d4);
  const s6 = parseIPv6(s);
  const d6 = parseIPv6(d);
  if (s6 !== null && d6 !== null) return addresses("TCP6", formatIPv6(s6), formatIPv6(d6));
  return { kind: "unknown" };
};
