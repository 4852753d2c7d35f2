import test from "ava";
import { type DialState, hedgeDecision } from "../../src/domain/hedge.js";

test("the first backend's dial wins as soon as it connects, whatever the second's state", (t) => {
  for (const second of ["none", "pending", "connected", "failed"] as const)
    for (const turnOver of [false, true])
      t.is(hedgeDecision("connected", second, turnOver), "first", `${second} ${turnOver}`);
});

test("a second dial that connected waits for the end of the turn while the first is pending", (t) => {
  t.is(hedgeDecision("pending", "connected", false), "wait");
  t.is(hedgeDecision("pending", "connected", true), "second");
});

test("both connected in the same turn, in either order: the earlier backend wins", (t) => {
  // Second first: it waits; then the first connects before the turn is over.
  t.is(hedgeDecision("pending", "connected", false), "wait");
  t.is(hedgeDecision("connected", "connected", false), "first");
  // First first: it wins at once.
  t.is(hedgeDecision("connected", "pending", false), "first");
});

test("a second dial that connected takes the client at once if the first has failed", (t) => {
  t.is(hedgeDecision("failed", "connected", false), "second");
});

test("once the first has failed, a pending second goes on alone; if it fails too, the next backend", (t) => {
  t.is(hedgeDecision("failed", "pending", false), "wait");
  t.is(hedgeDecision("failed", "failed", false), "next");
  // The hedge timer had not fired yet: as without hedging.
  t.is(hedgeDecision("failed", "none", false), "next");
});

test("the second failing first leaves the first to go on alone", (t) => {
  t.is(hedgeDecision("pending", "failed", false), "wait");
  t.is(hedgeDecision("connected", "failed", false), "first");
});

test("nothing is decided while both are pending, or before the hedge timer", (t) => {
  const waiting: Array<[DialState, DialState]> = [
    ["pending", "none"],
    ["pending", "pending"],
  ];
  for (const [first, second] of waiting) {
    t.is(hedgeDecision(first, second, false), "wait");
    t.is(hedgeDecision(first, second, true), "wait");
  }
});
