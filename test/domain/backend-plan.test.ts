import test from "ava";
import { backendsOf, makeBackends } from "../../src/domain/backend.js";
import { planBackends } from "../../src/domain/backend-plan.js";

const address = (port: number) => ({ host: "127.0.0.1", port });
const running = makeBackends([address(7001), address(7002), address(7003)]);
const ids = (list: ReadonlyArray<{ readonly id: string }>) => list.map((b) => b.id);

test("a backend keeps its slot by id; a new one takes the next free slot; one left out is removed", (t) => {
  const next = makeBackends([address(7009), address(7001), address(7003)]);
  const plan = planBackends(running, [0, 1, 2], next);
  t.deepEqual(
    plan.backends.map((b) => [b.id, b.index, b.rank]),
    [
      ["127.0.0.1:7009", 3, 0],
      ["127.0.0.1:7001", 0, 1],
      ["127.0.0.1:7003", 2, 2],
    ],
  );
  t.deepEqual(ids(plan.added), ["127.0.0.1:7009"]);
  t.deepEqual(ids(plan.removed), ["127.0.0.1:7002"]);
  t.deepEqual(ids(plan.changed), []);
  // Every slot is still known by index: the removed one's connections are still counted.
  t.deepEqual(ids(plan.slots), [
    "127.0.0.1:7001",
    "127.0.0.1:7002",
    "127.0.0.1:7003",
    "127.0.0.1:7009",
  ]);
});

test("a named backend keeps its slot when its address changes, and counts as changed", (t) => {
  const named = backendsOf([
    { address: address(7001), label: "127.0.0.1:7001", name: "primary" },
    { address: address(7002), label: "127.0.0.1:7002", name: "standby" },
  ]);
  const next = backendsOf([
    { address: address(7005), label: "127.0.0.1:7005", name: "primary" },
    { address: address(7002), label: "127.0.0.1:7002", name: "standby", rise: 3 },
  ]);
  const plan = planBackends(named, [0, 1], next);
  t.deepEqual(
    plan.backends.map((b) => [b.id, b.index, b.label]),
    [
      ["primary", 0, "127.0.0.1:7005"],
      ["standby", 1, "127.0.0.1:7002"],
    ],
  );
  t.deepEqual(ids(plan.changed), ["primary", "standby"]);
  t.deepEqual(ids(plan.added), []);
});

test("a removed backend listed again gets its old slot back, as an added one", (t) => {
  const first = planBackends(running, [0, 1, 2], makeBackends([address(7001)]));
  const again = planBackends(first.slots, [0], makeBackends([address(7001), address(7003)]));
  t.deepEqual(
    again.backends.map((b) => b.index),
    [0, 2],
  );
  t.deepEqual(ids(again.added), ["127.0.0.1:7003"]);
  t.deepEqual(ids(again.removed), []);
});

test("the same address listed twice takes two slots, in order", (t) => {
  const twice = makeBackends([address(7001), address(7001)]);
  const plan = planBackends(twice, [0, 1], makeBackends([address(7001), address(7001)]));
  t.deepEqual(
    plan.backends.map((b) => b.index),
    [0, 1],
  );
  t.deepEqual([plan.added.length, plan.removed.length, plan.changed.length], [0, 0, 0]);
});
