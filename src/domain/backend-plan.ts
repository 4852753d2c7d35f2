import type { Backend } from "./backend.js";

/** What a new backend list does to the running one. */
export interface BackendPlan {
  /** The new list in priority order: each backend in its slot (`index`) with its `rank`. */
  readonly backends: ReadonlyArray<Backend>;
  /** Every slot after the change, by index: the new list's and those it left out. */
  readonly slots: ReadonlyArray<Backend>;
  readonly added: ReadonlyArray<Backend>;
  /** In the running list, not in the new one: no new clients, live ones drain. */
  readonly removed: ReadonlyArray<Backend>;
  /** In both, by id, with a setting of their own changed (address, check, rise, fall...). */
  readonly changed: ReadonlyArray<Backend>;
}

const settingsOf = ({ index: _i, rank: _r, ...settings }: Backend): string =>
  JSON.stringify(settings);

/**
 * Places a new backend list (`next`, as backendsOf numbers it) in the running slots: a backend
 * whose id (name, else address as written) has a slot keeps it, so its health and counters go
 * on; a new one gets the next free slot. `live` are the slots in the running list.
 */
export const planBackends = (
  slots: ReadonlyArray<Backend>,
  live: ReadonlyArray<number>,
  next: ReadonlyArray<Backend>,
): BackendPlan => {
  // Live slots first, so a name that is both live and retired keeps its live slot; the same id
  // twice (one address listed twice) takes its slots in order.
  const liveSet = new Set(live);
  const byId = new Map<string, Backend[]>();
  const queue = [
    ...live.flatMap((i) => slots[i] ?? []),
    ...slots.filter((b) => !liveSet.has(b.index)),
  ];
  for (const slot of queue) byId.set(slot.id, [...(byId.get(slot.id) ?? []), slot]);
  const all = slots.slice();
  const placed: Backend[] = [];
  const added: Backend[] = [];
  const changed: Backend[] = [];
  for (const [rank, fresh] of next.entries()) {
    const old = byId.get(fresh.id)?.shift();
    const index = old?.index ?? all.length;
    const backend: Backend = { ...fresh, index, rank };
    all[index] = backend;
    placed.push(backend);
    if (old === undefined || !liveSet.has(old.index)) added.push(backend);
    else if (settingsOf(old) !== settingsOf(fresh)) changed.push(backend);
  }
  const kept = new Set(placed.map((b) => b.index));
  const removed = live.flatMap((index) => {
    const slot = slots[index];
    return slot === undefined || kept.has(index) ? [] : [slot];
  });
  return { backends: placed, slots: all, added, removed, changed };
};
