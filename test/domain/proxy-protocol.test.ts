import test from "ava";
import {
  MAX_HEADER_LENGTH,
  MAX_V1_LENGTH,
  MAX_V2_PAYLOAD,
  type ProxyHeader,
  type ProxyHeaderParse,
  V2_SIGNATURE,
  encodeProxyHeader,
  headerFor,
  parseProxyHeader,
} from "../../src/domain/proxy-protocol.js";
import { formatIPv6, parseIPv4, parseIPv6 } from "../../src/domain/ip-address.js";

const latin1 = (text: string): Buffer => Buffer.from(text, "latin1");
const hexBytes = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ""), "hex");

const tcp4: ProxyHeader = {
  kind: "proxy",
  addresses: {
    family: "TCP4",
    sourceAddress: "192.168.0.1",
    sourcePort: 56324,
    destinationAddress: "192.168.0.11",
    destinationPort: 443,
  },
};
const tcp6: ProxyHeader = {
  kind: "proxy",
  addresses: {
    family: "TCP6",
    sourceAddress: "2001:db8::1",
    sourcePort: 0,
    destinationAddress: "::ffff:10.0.0.1",
    destinationPort: 65535,
  },
};

const found = (header: ProxyHeader, length: number): ProxyHeaderParse => ({
  kind: "header",
  header,
  length,
});

// ----- the specification's examples

test("v1: the specification's TCP4, TCP6 and UNKNOWN examples parse", (t) => {
  t.deepEqual(
    parseProxyHeader(latin1("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET / HTTP/1.1\r\n")),
    found(tcp4, 47),
  );
  const v6 = "PROXY TCP6 2001:db8::1 ::ffff:10.0.0.1 0 65535\r\n";
  t.deepEqual(parseProxyHeader(latin1(v6)), found(tcp6, v6.length));
  t.deepEqual(parseProxyHeader(latin1("PROXY UNKNOWN\r\n")), found({ kind: "unknown" }, 15));
  // Anything may follow UNKNOWN up to the CRLF.
  const unknownLong = "PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n";
  t.deepEqual(
    parseProxyHeader(latin1(unknownLong)),
    found({ kind: "unknown" }, unknownLong.length),
  );
});

test("v1: the worst case, UNKNOWN with two full IPv6 addresses in 107 bytes, parses", (t) => {
  const full = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
  const longest = `PROXY UNKNOWN ${full} ${full} 65535 65535\r\n`;
  t.is(longest.length, MAX_V1_LENGTH);
  t.deepEqual(parseProxyHeader(latin1(longest)), found({ kind: "unknown" }, 107));
  const tcp6Longest = `PROXY TCP6 ${full} ${full} 65535 65535\r\n`;
  t.is(parseProxyHeader(latin1(tcp6Longest)).kind, "header");
});

test("v2: TCP4, TCP6, LOCAL and AF_UNSPEC headers written by hand parse", (t) => {
  const sig = V2_SIGNATURE.toString("hex");
  t.deepEqual(
    parseProxyHeader(hexBytes(`${sig} 21 11 000c c0a80001 c0a8000b dc04 01bb`)),
    found(tcp4, 28),
  );
  t.deepEqual(
    parseProxyHeader(
      hexBytes(
        `${sig} 21 21 0024 20010db8000000000000000000000001 00000000000000000000ffff0a000001 0000 ffff`,
      ),
    ),
    found(tcp6, 52),
  );
  t.deepEqual(parseProxyHeader(hexBytes(`${sig} 20 00 0000`)), found({ kind: "local" }, 16));
  // LOCAL ignores whatever family and addresses follow.
  t.deepEqual(
    parseProxyHeader(hexBytes(`${sig} 20 11 000c c0a80001 c0a8000b dc04 01bb`)),
    found({ kind: "local" }, 28),
  );
  t.deepEqual(parseProxyHeader(hexBytes(`${sig} 21 00 0000`)), found({ kind: "unknown" }, 16));
});

test("v2: TLVs after the addresses are skipped and counted in the length", (t) => {
  const tlvs = hexBytes("01 0002 6832 04 0004 deadbeef");
  const header = Buffer.concat([encodeProxyHeader("v2", tcp4), tlvs]);
  header.writeUInt16BE(12 + tlvs.length, 14);
  t.deepEqual(parseProxyHeader(Buffer.concat([header, latin1("payload")])), found(tcp4, 28 + 12));
});

test("v2: unix and datagram families are valid but carry no usable address", (t) => {
  for (const family of [0x12, 0x22, 0x31, 0x32]) {
    const payload = family >> 4 === 3 ? 216 : family >> 4 === 2 ? 36 : 12;
    const header = Buffer.alloc(16 + payload);
    V2_SIGNATURE.copy(header);
    header[12] = 0x21;
    header[13] = family;
    header.writeUInt16BE(payload, 14);
    t.deepEqual(parseProxyHeader(header), found({ kind: "unknown" }, 16 + payload), `${family}`);
  }
});

// ----- encoding

test("encode v1 writes the text form, UNKNOWN for a header without addresses", (t) => {
  t.is(
    encodeProxyHeader("v1", tcp4).toString(),
    "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n",
  );
  t.is(
    encodeProxyHeader("v1", tcp6).toString(),
    "PROXY TCP6 2001:db8::1 ::ffff:10.0.0.1 0 65535\r\n",
  );
  t.is(encodeProxyHeader("v1", { kind: "unknown" }).toString(), "PROXY UNKNOWN\r\n");
  t.is(encodeProxyHeader("v1", { kind: "local" }).toString(), "PROXY UNKNOWN\r\n");
});

test("encode v2 writes the binary form: PROXY or LOCAL, AF_INET/AF_INET6 STREAM", (t) => {
  const sig = V2_SIGNATURE.toString("hex");
  t.is(encodeProxyHeader("v2", tcp4).toString("hex"), `${sig}2111000cc0a80001c0a8000bdc0401bb`);
  t.is(
    encodeProxyHeader("v2", tcp6).toString("hex"),
    `${sig}21210024` +
      "20010db8000000000000000000000001" +
      "00000000000000000000ffff0a000001" +
      "0000ffff",
  );
  t.is(encodeProxyHeader("v2", { kind: "local" }).toString("hex"), `${sig}20000000`);
  t.is(encodeProxyHeader("v2", { kind: "unknown" }).toString("hex"), `${sig}21000000`);
});

test("round trip: every header encoded in either version parses back to itself", (t) => {
  const headers: ProxyHeader[] = [tcp4, tcp6, { kind: "unknown" }];
  for (const version of ["v1", "v2"] as const)
    for (const header of headers) {
      const bytes = encodeProxyHeader(version, header);
      t.deepEqual(
        parseProxyHeader(bytes),
        found(header, bytes.length),
        `${version} ${header.kind}`,
      );
    }
  const local = encodeProxyHeader("v2", { kind: "local" });
  t.deepEqual(parseProxyHeader(local), found({ kind: "local" }, 16));
});

test("round trip over random addresses and ports, both versions", (t) => {
  const random = seeded(7);
  for (let n = 0; n < 500; n++) {
    const v4 = random() < 0.5;
    const address = (): string =>
      v4
        ? Array.from({ length: 4 }, () => Math.floor(random() * 256)).join(".")
        : formatIPv6(
            Uint8Array.from({ length: 16 }, () =>
              random() < 0.4 ? 0 : Math.floor(random() * 256),
            ),
          );
    const header: ProxyHeader = {
      kind: "proxy",
      addresses: {
        family: v4 ? "TCP4" : "TCP6",
        sourceAddress: address(),
        sourcePort: Math.floor(random() * 65536),
        destinationAddress: address(),
        destinationPort: Math.floor(random() * 65536),
      },
    };
    for (const version of ["v1", "v2"] as const) {
      const bytes = encodeProxyHeader(version, header);
      t.deepEqual(parseProxyHeader(bytes), found(header, bytes.length));
    }
  }
});

test("headerFor: IPv4 (mapped too) is TCP4, IPv6 is TCP6, a mix or a missing part is UNKNOWN", (t) => {
  const at = (address: string | undefined, port: number | undefined) => ({ address, port });
  t.deepEqual(headerFor(at("192.168.0.1", 56324), at("192.168.0.11", 443)), tcp4);
  t.deepEqual(headerFor(at("::ffff:192.168.0.1", 56324), at("::ffff:192.168.0.11", 443)), tcp4);
  t.deepEqual(headerFor(at("2001:DB8:0::1", 0), at("::ffff:10.0.0.1", 65535)), {
    ...tcp6,
    addresses: { ...tcp6.addresses, destinationAddress: "::ffff:10.0.0.1" },
  } as ProxyHeader);
  t.deepEqual(headerFor(at("::1", 1), at("127.0.0.1", 2)), { kind: "unknown" });
  t.deepEqual(headerFor(at(undefined, 1), at("127.0.0.1", 2)), { kind: "unknown" });
  t.deepEqual(headerFor(at("fe80::1%lo", 1), at("fe80::2%lo", 2)), { kind: "unknown" });
});

test("IP literals: strict dotted quads and RFC 5952 IPv6", (t) => {
  t.deepEqual([...(parseIPv4("10.0.0.255") ?? [])], [10, 0, 0, 255]);
  for (const bad of ["10.0.0", "10.0.0.256", "01.2.3.4", "1.2.3.4.5", "a.b.c.d", "1..2.3", ""])
    t.is(parseIPv4(bad), null, bad);
  for (const [text, canonical] of [
    ["::", "::"],
    ["::1", "::1"],
    ["2001:DB8:0:0:0:0:0:1", "2001:db8::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
    ["::ffff:1.2.3.4", "::ffff:1.2.3.4"],
    ["1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"],
  ] as const) {
    const bytes = parseIPv6(text);
    t.not(bytes, null, text);
    t.is(formatIPv6(bytes ?? new Uint8Array(16)), canonical, text);
  }
  for (const bad of [
    ":::",
    "1::2::3",
    "1:2:3:4:5:6:7:8:9",
    "12345::",
    "g::",
    "1:2:3:4:5:6:7",
    "::1.2.3",
    "fe80::1%lo",
    "1:2:3:4:5:6:7::8:9",
  ])
    t.is(parseIPv6(bad), null, bad);
});

// ----- malformed input

const invalidCases: ReadonlyArray<readonly [string, Buffer, RegExp]> = [
  ["plain bytes", latin1("GET / HTTP/1.1\r\n"), /no PROXY protocol header: the first byte is 0x47/],
  ["a bad v1 signature", latin1("PROXZ TCP4 1.2.3.4 1.2.3.4 1 2\r\n"), /bad v1 signature/],
  ["lower case proxy", latin1("proxy TCP4 1.2.3.4 1.2.3.4 1 2\r\n"), /no PROXY protocol header/],
  [
    "a bad v1 family",
    latin1("PROXY TCP5 1.2.3.4 1.2.3.4 1 2\r\n"),
    /unknown protocol family "TCP5"/,
  ],
  ["UDP4 in v1", latin1("PROXY UDP4 1.2.3.4 1.2.3.4 1 2\r\n"), /unknown protocol family "UDP4"/],
  ["UNKNOWN glued", latin1("PROXY UNKNOWNX\r\n"), /unknown protocol family "UNKNOWNX"/],
  ["an empty family", latin1("PROXY \r\n"), /unknown protocol family ""/],
  [
    "too few fields",
    latin1("PROXY TCP4 1.2.3.4 1.2.3.4 1\r\n"),
    /expected 5 fields after PROXY, got 4/,
  ],
  ["too many fields", latin1("PROXY TCP4 1.2.3.4 1.2.3.4 1 2 3\r\n"), /got 6/],
  ["two spaces", latin1("PROXY TCP4  1.2.3.4 1.2.3.4 1 2\r\n"), /got 6/],
  ["a trailing space", latin1("PROXY TCP4 1.2.3.4 1.2.3.4 1 2 \r\n"), /got 6/],
  [
    "an IPv6 source in TCP4",
    latin1("PROXY TCP4 ::1 1.2.3.4 1 2\r\n"),
    /bad TCP4 source address "::1"/,
  ],
  [
    "an IPv4 destination in TCP6",
    latin1("PROXY TCP6 ::1 1.2.3.4 1 2\r\n"),
    /bad TCP6 destination address "1.2.3.4"/,
  ],
  ["an octet above 255", latin1("PROXY TCP4 1.2.3.256 1.2.3.4 1 2\r\n"), /bad TCP4 source address/],
  [
    "a port above 65535",
    latin1("PROXY TCP4 1.2.3.4 1.2.3.4 65536 2\r\n"),
    /bad source port "65536"/,
  ],
  [
    "a huge port",
    latin1("PROXY TCP4 1.2.3.4 1.2.3.4 1 9999999\r\n"),
    /bad destination port "9999999"/,
  ],
  ["a negative port", latin1("PROXY TCP4 1.2.3.4 1.2.3.4 -1 2\r\n"), /bad source port "-1"/],
  ["a port with non-digits", latin1("PROXY TCP4 1.2.3.4 1.2.3.4 1a 2\r\n"), /bad source port "1a"/],
  ["an empty port", latin1("PROXY TCP4 1.2.3.4 1.2.3.4 1 \r\n"), /bad destination port ""/],
  ["a hex port", latin1("PROXY TCP4 1.2.3.4 1.2.3.4 0x10 2\r\n"), /bad source port "0x10"/],
  ["CR without LF", latin1("PROXY UNKNOWN\rX"), /CR not followed by LF/],
  ["LF alone", latin1("PROXY UNKNOWN\n"), /unexpected byte 0x0a at offset 13/],
  ["a NUL in v1", latin1("PROXY TCP4\0"), /unexpected byte 0x00 at offset 10/],
  [
    "a non-ASCII byte in v1",
    Buffer.concat([latin1("PROXY TCP4 "), Buffer.from([0xc3])]),
    /unexpected byte 0xc3/,
  ],
  [
    "no CRLF within 107 bytes",
    latin1(`PROXY UNKNOWN ${"x".repeat(100)}`),
    /without CRLF within 107 bytes/,
  ],
  [
    "CR as the 107th byte",
    latin1(`PROXY UNKNOWN ${"x".repeat(92)}\r\n`),
    /without CRLF within 107 bytes/,
  ],
  ["a bad v2 signature", hexBytes("0d0a0d0a000d0a515549540b 21 11 000c"), /bad v2 signature/],
  ["a CRLF then junk", latin1("\r\nGET /"), /bad v2 signature/],
  [
    "v2 with version 1",
    Buffer.concat([V2_SIGNATURE, hexBytes("11 11 000c")]),
    /unsupported version 1/,
  ],
  [
    "v2 with version 3",
    Buffer.concat([V2_SIGNATURE, hexBytes("31 11 000c")]),
    /unsupported version 3/,
  ],
  ["v2 with command 2", Buffer.concat([V2_SIGNATURE, hexBytes("22 11 000c")]), /unknown command 2/],
  [
    "v2 with family 0x41",
    Buffer.concat([V2_SIGNATURE, hexBytes("21 41 000c")]),
    /unknown address family 0x41/,
  ],
  [
    "v2 with family 0x13",
    Buffer.concat([V2_SIGNATURE, hexBytes("21 13 000c")]),
    /unknown address family 0x13/,
  ],
  [
    "v2 TCP4 with short addresses",
    Buffer.concat([V2_SIGNATURE, hexBytes("21 11 000b")]),
    /11 address bytes, family 0x11 needs 12/,
  ],
  [
    "v2 TCP6 with IPv4-sized addresses",
    Buffer.concat([V2_SIGNATURE, hexBytes("21 21 000c")]),
    /needs 36/,
  ],
  [
    "v2 unix with short addresses",
    Buffer.concat([V2_SIGNATURE, hexBytes("21 31 0024")]),
    /needs 216/,
  ],
  [
    "v2 too long",
    Buffer.concat([V2_SIGNATURE, hexBytes("21 11 0401")]),
    /too long: 1025 bytes .* at most 1024/,
  ],
  [
    "v2 at the 16-bit maximum",
    Buffer.concat([V2_SIGNATURE, hexBytes("21 11 ffff")]),
    /too long: 65535/,
  ],
];

for (const [name, bytes, reason] of invalidCases) {
  test(`invalid: ${name}`, (t) => {
    const parsed = parseProxyHeader(bytes);
    t.is(parsed.kind, "invalid");
    t.regex(parsed.kind === "invalid" ? parsed.reason : "", reason);
  });
}

test("a v2 header at the bound is accepted, one byte more is not", (t) => {
  const header = Buffer.alloc(16 + MAX_V2_PAYLOAD);
  V2_SIGNATURE.copy(header);
  header[12] = 0x21;
  header[13] = 0x11;
  header.writeUInt16BE(MAX_V2_PAYLOAD, 14);
  t.is(parseProxyHeader(header).kind, "header");
  t.is(parseProxyHeader(header.subarray(0, header.length - 1)).kind, "incomplete");
});

// ----- split at every offset

test("every proper prefix of a valid header is incomplete, in both versions", (t) => {
  const headers = [
    latin1("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n"),
    latin1("PROXY UNKNOWN\r\n"),
    encodeProxyHeader("v1", tcp6),
    encodeProxyHeader("v2", tcp4),
    encodeProxyHeader("v2", tcp6),
    encodeProxyHeader("v2", { kind: "local" }),
  ];
  for (const header of headers) {
    for (let cut = 0; cut < header.length; cut++)
      t.deepEqual(parseProxyHeader(header.subarray(0, cut)), { kind: "incomplete" }, `${cut}`);
    // With bytes of the stream after it, the length says where they start.
    const withData = Buffer.concat([header, latin1("\r\n\r\nPROXY data")]);
    const parsed = parseProxyHeader(withData);
    t.is(parsed.kind === "header" ? parsed.length : -1, header.length);
  }
});

// ----- fuzzing

/** A small deterministic generator (mulberry32): failures can be replayed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The parser's contract on any input: it returns (never throws) a known kind, a header's length
 * fits within what was given and within the bound, and what lies past the bound never matters.
 */
const checkContract = (bytes: Buffer): string | null => {
  let parsed: ProxyHeaderParse;
  try {
    parsed = parseProxyHeader(bytes);
  } catch (error) {
    return `threw ${String(error)}`;
  }
  if (!["incomplete", "header", "invalid"].includes(parsed.kind)) return `kind ${parsed.kind}`;
  if (
    parsed.kind === "header" &&
    (parsed.length > bytes.length || parsed.length > MAX_HEADER_LENGTH)
  )
    return `length ${parsed.length} of ${bytes.length}`;
  if (parsed.kind === "invalid" && parsed.reason === "") return "no reason";
  if (bytes.length > MAX_HEADER_LENGTH) {
    const bounded = parseProxyHeader(bytes.subarray(0, MAX_HEADER_LENGTH));
    if (JSON.stringify(bounded) !== JSON.stringify(parsed)) return "read past its bound";
  }
  if (parsed.kind === "incomplete" && bytes.length >= MAX_HEADER_LENGTH)
    return "incomplete past its bound";
  return null;
};

test("fuzz: random buffers never make the parser throw or read past its bound", (t) => {
  const random = seeded(11);
  const starts = [Buffer.alloc(0), latin1("PROXY "), V2_SIGNATURE, latin1("PROXY TCP4 ")];
  for (let n = 0; n < 20_000; n++) {
    const start = starts[n % starts.length] as Buffer;
    const size = Math.floor(random() * (random() < 0.1 ? 3000 : 120));
    const tail = Buffer.from(Array.from({ length: size }, () => Math.floor(random() * 256)));
    const bytes = Buffer.concat([start, tail]);
    const problem = checkContract(bytes);
    if (problem !== null) return t.fail(`${problem}: ${bytes.toString("hex")}`);
  }
  t.pass();
});

test("fuzz: random mutations of valid headers never make the parser throw or read past its bound", (t) => {
  const random = seeded(23);
  const valid = [
    encodeProxyHeader("v1", tcp4),
    encodeProxyHeader("v1", tcp6),
    encodeProxyHeader("v1", { kind: "unknown" }),
    encodeProxyHeader("v2", tcp4),
    encodeProxyHeader("v2", tcp6),
    encodeProxyHeader("v2", { kind: "local" }),
  ];
  const kinds = new Set<string>();
  for (let n = 0; n < 30_000; n++) {
    const bytes = Buffer.concat([
      valid[n % valid.length] as Buffer,
      Buffer.alloc(random() < 0.05 ? 2000 : 8, 0x41),
    ]);
    const mutations = 1 + Math.floor(random() * 4);
    for (let m = 0; m < mutations; m++) {
      const at = Math.floor(random() * bytes.length);
      const choice = random();
      // A random byte, a flipped bit, or a byte that matters to the grammar.
      if (choice < 0.4) bytes[at] = Math.floor(random() * 256);
      else if (choice < 0.7) bytes[at] = (bytes[at] as number) ^ (1 << Math.floor(random() * 8));
      else
        bytes[at] = [0x0d, 0x0a, 0x20, 0x3a, 0x2e, 0x00, 0xff][Math.floor(random() * 7)] as number;
    }
    const cut = random() < 0.3 ? bytes.subarray(0, Math.floor(random() * bytes.length)) : bytes;
    const problem = checkContract(cut);
    if (problem !== null) return t.fail(`${problem}: ${cut.toString("hex")}`);
    kinds.add(parseProxyHeader(cut).kind);
  }
  // The mutations reached every outcome.
  t.deepEqual([...kinds].sort(), ["header", "incomplete", "invalid"]);
});
