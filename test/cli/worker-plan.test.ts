import test from "ava";
import { workerPlan } from "../../src/cli/worker-plan.js";

test("worker plan: -maxthreads allows one worker per CPU at most, and says why", (t) => {
  t.deepEqual(workerPlan({ workers: undefined, maxthreads: 64 }, 2), {
    count: 2,
    note: "Starting 2 worker processes (-maxthreads=64, 2 CPUs)",
    warning: undefined,
  });
  t.deepEqual(workerPlan({ workers: undefined, maxthreads: 3 }, 8), {
    count: 3,
    note: "Starting 3 worker processes (-maxthreads=3, 8 CPUs)",
    warning: undefined,
  });
  // Lowered to one process by the CPU count: said, since the flag asked for more.
  t.deepEqual(workerPlan({ workers: undefined, maxthreads: 4 }, 1), {
    count: 1,
    note: "Running in one process (-maxthreads=4, 1 CPU)",
    warning: undefined,
  });
  t.deepEqual(workerPlan({ workers: undefined, maxthreads: 1 }, 2), {
    count: 1,
    note: undefined,
    warning: undefined,
  });
});

test("worker plan: -workers is honoured above the CPU count, with a warning, and wins over -maxthreads", (t) => {
  t.deepEqual(workerPlan({ workers: 8, maxthreads: undefined }, 2), {
    count: 8,
    note: "Starting 8 worker processes (-workers=8, 2 CPUs)",
    warning: "-workers=8 is more than the 2 CPUs: workers will share CPUs",
  });
  t.deepEqual(workerPlan({ workers: 2, maxthreads: 64 }, 2), {
    count: 2,
    note: "Starting 2 worker processes (-workers=2, 2 CPUs)",
    warning: undefined,
  });
  t.deepEqual(workerPlan({ workers: 1, maxthreads: 64 }, 2), {
    count: 1,
    note: undefined,
    warning: undefined,
  });
});

test("worker plan: -workers=auto is one per CPU; no flag is one process, silently", (t) => {
  t.deepEqual(workerPlan({ workers: "auto", maxthreads: undefined }, 4), {
    count: 4,
    note: "Starting 4 worker processes (-workers=auto, 4 CPUs)",
    warning: undefined,
  });
  t.deepEqual(workerPlan({ workers: "auto", maxthreads: undefined }, 1), {
    count: 1,
    note: "Running in one process (-workers=auto, 1 CPU)",
    warning: undefined,
  });
  t.deepEqual(workerPlan({ workers: undefined, maxthreads: undefined }, 2), {
    count: 1,
    note: undefined,
    warning: undefined,
  });
});
