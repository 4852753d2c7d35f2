/**
 * Hedged connects: when a client's dial has not completed after the hedge delay, the next
 * backend of the route is dialed as well, and the first to complete takes the client. Here is
 * only the decision; the sockets are in adapters/relay.ts.
 */

/** Where one of the two dials stands. "none": the hedge dial has not been started (yet). */
export type DialState = "none" | "pending" | "connected" | "failed";

/**
 * What to do now:
 * - "first" / "second": that dial takes the client; the other, if still open, is closed quietly;
 * - "next": both are out (or only the first was started, and failed): dial the next backend;
 * - "wait": nothing is decided yet.
 */
export type HedgeDecision = "first" | "second" | "next" | "wait";

/**
 * Decides between the earlier backend's dial (`first`) and the later one's (`second`).
 * The earlier backend is preferred: a second dial that has connected waits until the end of the
 * event-loop turn (`turnOver`), so a first one completing in the same turn still wins.
 */
export const hedgeDecision = (
  first: DialState,
  second: DialState,
  turnOver: boolean,
): HedgeDecision => {
  if (first === "connected") return "first";
  if (second === "connected") return first === "failed" || turnOver ? "second" : "wait";
  if (first === "failed" && second !== "pending") return "next";
  return "wait";
};
