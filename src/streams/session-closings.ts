import { Observable, type SchedulerLike, type Subscription } from "rxjs";
import { type Backend, rankOf } from "../domain/backend.js";
import { type Route, shareOf } from "../domain/route.js";
import type { OnDown, OnFailback, SessionClosing } from "../domain/session-policy.js";
import { longTimer } from "./long-timer.js";

export interface SessionClosingsOptions {
  readonly onDown: OnDown;
  readonly onFailback: OnFailback;
  readonly scheduler: SchedulerLike;
}

/**
 * Orders to close live connections, from the route and the backends marked down:
 * - on-down `close`: a backend marked down has its connections closed at once;
 * - on a failback (a full-share route led by a backend earlier in the list than the last
 *   full-share route's first one), every backend later than the new first one that has been in
 *   a route has its connections closed at once (`close`) or `drainMs` later (`drain`), unless it
 *   leads the route again by then. A backend already waiting for its drain keeps its deadline.
 * A ramp route (share below 1) moves no connections: its end, at share 1, is the failback.
 */
export const sessionClosings = (
  route$: Observable<Route>,
  downs$: Observable<Backend>,
  { onDown, onFailback, scheduler }: SessionClosingsOptions,
): Observable<SessionClosing> =>
  new Observable<SessionClosing>((subscriber) => {
    // Backends that have been in a route: the only ones that can hold connections.
    const seen = new Map<number, Backend>();
    // The first backend of the last full-share route: where new clients went.
    let lead: Backend | null = null;
    // Drains under way, by backend index.
    const draining = new Map<number, Subscription>();
    const stopDrain = (index: number): void => {
      draining.get(index)?.unsubscribe();
      draining.delete(index);
    };

    const failback = (to: Backend): void => {
      const later = [...seen.values()]
        .filter((b) => rankOf(b) > rankOf(to))
        .sort((a, b) => rankOf(a) - rankOf(b));
      for (const backend of later) {
        const order: SessionClosing = { backend, reason: "failback", to };
        if (onFailback.kind === "close") subscriber.next(order);
        else if (onFailback.kind === "drain" && !draining.has(backend.index)) {
          draining.set(
            backend.index,
            longTimer(onFailback.drainMs, undefined, scheduler).subscribe(() => {
              draining.delete(backend.index);
              subscriber.next(order);
            }),
          );
        }
      }
    };

    const routes = route$.subscribe({
      next: (route) => {
        // The latest of each: a reload may have moved it in the list.
        for (const b of route) seen.set(b.index, b);
        const first = route[0];
        if (first === undefined) return;
        // Traffic moved back to it: its connections are where clients go again.
        stopDrain(first.index);
        if (shareOf(route) < 1) return;
        const last = lead === null ? null : (seen.get(lead.index) ?? lead);
        if (last !== null && rankOf(first) < rankOf(last) && onFailback.kind !== "keep") {
          failback(first);
        }
        lead = first;
      },
      error: (error: unknown) => subscriber.error(error),
    });
    const downs =
      onDown === "close"
        ? downs$.subscribe({
            next: (backend) => {
              stopDrain(backend.index);
              subscriber.next({ backend, reason: "marked down" });
            },
            error: (error: unknown) => subscriber.error(error),
          })
        : null;
    return () => {
      routes.unsubscribe();
      downs?.unsubscribe();
      for (const drain of draining.values()) drain.unsubscribe();
      draining.clear();
    };
  });
