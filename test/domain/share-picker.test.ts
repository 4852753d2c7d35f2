import test from "ava";
import type { Backend } from "../../src/domain/backend.js";
import { withShare } from "../../src/domain/route.js";
import { SharePicker } from "../../src/domain/share-picker.js";
import { A, B, C } from "../helpers/marbles.js";

const letters = (order: ReadonlyArray<Backend>): string =>
  order.map((b) => "ABC"[b.index]).join("");

/** The orders of `n` picks, counted by their letters. */
const picks = (picker: SharePicker, n: number): Map<string, number> => {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const order = letters(picker.next());
    counts.set(order, (counts.get(order) ?? 0) + 1);
  }
  return counts;
};

test("a whole route is every client's order, the same array each time", (t) => {
  const picker = new SharePicker();
  const route = [A, B, C];
  picker.set(route);
  t.is(picker.next(), route);
  t.deepEqual(picks(picker, 10), new Map([["ABC", 10]]));
});

test("with a share, that share of clients try the first backend first; the others try it last", (t) => {
  const picker = new SharePicker();
  picker.set(withShare([A, B, C], 0.25));
  t.deepEqual(
    picks(picker, 100),
    new Map([
      ["BCA", 75],
      ["ABC", 25],
    ]),
  );
});

test("over N clients, round(N * share) take the first backend first", (t) => {
  for (const share of [0, 0.01, 0.05, 0.1, 1 / 3, 0.5, 0.75, 0.99]) {
    const picker = new SharePicker();
    picker.set(withShare([A, B], share));
    let first = 0;
    for (let n = 1; n <= 300; n++) {
      if (picker.next()[0] === A) first++;
      t.true(Math.abs(first - n * share) <= 0.5 + 1e-9, `share ${share}, ${n} clients: ${first}`);
    }
  }
});

test("the credit carries over route changes, so small shares reach the backend under light traffic", (t) => {
  const picker = new SharePicker();
  let first = 0;
  // A ramp's early steps: 5 % for a few clients each time.
  for (let step = 0; step < 10; step++) {
    picker.set(withShare([A, B], 0.05));
    for (let i = 0; i < 3; i++) if (picker.next()[0] === A) first++;
  }
  t.is(first, 2);
});

test("a share of 0 never puts the first backend first; a one-backend route is the only order", (t) => {
  const picker = new SharePicker();
  picker.set(withShare([A, B], 0));
  t.deepEqual(picks(picker, 50), new Map([["BA", 50]]));
  picker.set(withShare([A], 0.5));
  t.deepEqual(picks(picker, 4), new Map([["A", 4]]));
  picker.set([]);
  t.is(picker.next().length, 0);
});
