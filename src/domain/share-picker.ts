import type { Backend } from "./backend.js";
import { type Route, shareOf } from "./route.js";

const NONE: ReadonlyArray<Backend> = [];

/**
 * Each new client's order of backends for a route whose first backend takes only a share of
 * new clients (a ramp): the route as given, or with its first backend moved last. Deterministic:
 * a credit grows by the share per client and a client takes the route as given whenever a whole
 * credit is there, so over N clients round(N * share) of them do. The credit carries over route
 * changes, so a ramp's small early shares still reach the first backend under light traffic.
 * Both orders are built when the route is set: a pick is a few arithmetic operations.
 */
export class SharePicker {
  private given: ReadonlyArray<Backend> = NONE;
  private firstLast: ReadonlyArray<Backend> = NONE;
  private share = 1;
  private credit = 0.5;

  /** The route new clients follow from now on. */
  set(route: Route): void {
    this.given = route;
    this.share = shareOf(route);
    const [first, ...rest] = route;
    this.firstLast = this.share < 1 && first !== undefined ? [...rest, first] : route;
  }

  /** The order of backends for the next client (the same array for many clients: not to be changed). */
  next(): ReadonlyArray<Backend> {
    if (this.share >= 1) return this.given;
    this.credit += this.share;
    if (this.credit < 1) return this.firstLast;
    this.credit -= 1;
    return this.given;
  }
}
