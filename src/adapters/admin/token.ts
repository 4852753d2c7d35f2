import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

const digest = (text: string): Buffer => createHash("sha256").update(text).digest();

/**
 * A check of `Authorization: Bearer <token>` in constant time: both sides are hashed first, so
 * the comparison sees equal lengths and tells nothing about the token's length either.
 */
export const bearerCheck = (token: string): ((req: IncomingMessage) => boolean) => {
  const expected = digest(token);
  return (req) => {
    const header = req.headers.authorization ?? "";
    const given = header.startsWith("Bearer ") ? header.slice("Bearer ".length) : "";
    return timingSafeEqual(digest(given), expected);
  };
};
