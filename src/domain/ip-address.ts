/**
 * IP literals as bytes and back, strictly (no leading zeros in IPv4 parts, no zone ids): what a
 * PROXY protocol header carries. Pure, so the domain need not ask the platform.
 */

/** Four bytes, or null if `text` is not a dotted quad of decimal parts 0-255. */
export const parseIPv4 = (text: string): Uint8Array | null => {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i] as string;
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return null;
    const value = Number(part);
    if (value > 255) return null;
    bytes[i] = value;
  }
  return bytes;
};

const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** The 16-bit groups of one side of "::" (an IPv4 tail counts as two), or null. */
const groupsOf = (side: string, tailMayBeIPv4: boolean): number[] | null => {
  if (side === "") return [];
  const texts = side.split(":");
  const groups: number[] = [];
  for (let i = 0; i < texts.length; i++) {
    const text = texts[i] as string;
    if (tailMayBeIPv4 && i === texts.length - 1 && text.includes(".")) {
      const v4 = parseIPv4(text);
      if (v4 === null) return null;
      groups.push(((v4[0] as number) << 8) | (v4[1] as number));
      groups.push(((v4[2] as number) << 8) | (v4[3] as number));
    } else if (HEX_GROUP.test(text)) groups.push(parseInt(text, 16));
    else return null;
  }
  return groups;
};

/** Sixteen bytes, or null if `text` is not an IPv6 literal (with "::" and an IPv4 tail allowed). */
export const parseIPv6 = (text: string): Uint8Array | null => {
  if (text.length > 45) return null;
  const halves = text.split("::");
  if (halves.length > 2) return null;
  let groups: number[];
  if (halves.length === 1) {
    const all = groupsOf(text, true);
    if (all === null || all.length !== 8) return null;
    groups = all;
  } else {
    const head = groupsOf(halves[0] as string, false);
    const tail = groupsOf(halves[1] as string, true);
    if (head === null || tail === null || head.length + tail.length > 7) return null;
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  }
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    bytes[2 * i] = group >> 8;
    bytes[2 * i + 1] = group & 0xff;
  });
  return bytes;
};

export const formatIPv4 = (bytes: Uint8Array, at = 0): string =>
  `${bytes[at]}.${bytes[at + 1]}.${bytes[at + 2]}.${bytes[at + 3]}`;

/** RFC 5952: lower case, the longest run of two or more zero groups as "::", IPv4-mapped as ::ffff:a.b.c.d. */
export const formatIPv6 = (bytes: Uint8Array, at = 0): string => {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++)
    groups.push(((bytes[at + 2 * i] as number) << 8) | (bytes[at + 2 * i + 1] as number));
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff)
    return `::ffff:${formatIPv4(bytes, at + 12)}`;
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (gs: number[]): string => gs.map((g) => g.toString(16)).join(":");
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
};

/** The IPv4 address inside an IPv4-mapped IPv6 literal ("::ffff:1.2.3.4"), else null. */
export const unmappedIPv4 = (text: string): string | null => {
  const bytes = parseIPv6(text);
  if (bytes === null) return null;
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return null;
  return bytes[10] === 0xff && bytes[11] === 0xff ? formatIPv4(bytes, 12) : null;
};
