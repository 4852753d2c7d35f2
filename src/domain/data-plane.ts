import type { Address, Backend } from "./backend.js";
import type { HealthEvent } from "./health.js";
import type { Logger } from "./logger.js";
import type { Route } from "./route.js";

/** Where the proxy listens, once bound. */
export interface BoundAddress {
  readonly address: string;
  readonly family: string;
  readonly port: number;
}

/** What the composition root hands a data plane: where outcomes go, and what it may ask. */
export interface DataPlaneWiring {
  /** Connection outcomes, into the health loop. */
  readonly emit: (event: HealthEvent) => void;
  /** Whether a backend is up now (by index): a connect to one that is not is news at once. */
  readonly isUp: (backend: number) => boolean;
  /** The clock events are stamped with. */
  readonly now: () => number;
  readonly logger: Logger;
}

/**
 * The port the composition root serves clients through: the sockets side of the proxy, in this
 * process or in workers. The root owns health, route and stats; a data plane only relays.
 * Orders about live sessions (such as closing a backend's) belong here, beside setRoute.
 */
export interface DataPlane {
  /** Resolves with the bound address; rejects with a message naming the address. */
  readonly listening: Promise<BoundAddress>;
  /** The route new clients take from now on; the root calls it at every change. */
  setRoute(route: Route): void;
  /**
   * Closes every relayed connection to a backend (by index), both sockets, so its clients see
   * the connection end; connections still dialing are left alone. Returns how many it closed
   * when it knows (workers close theirs on their own).
   */
  closeSessions(backend: number): number | void;
  /**
   * After a reload: every backend slot, by index, so indices in later routes and orders are
   * known (a data plane that routes on the route's own backend objects may ignore it).
   */
  setBackends?(slots: ReadonlyArray<Backend>): void;
  /**
   * After a reload: listens on a new address; once bound, stops accepting on the old one
   * (its live connections go on). Rejects, still listening on the old one, if it cannot bind.
   * Absent: this data plane cannot move (the reload says so).
   */
  relisten?(address: Address): Promise<BoundAddress>;
  /**
   * Stops accepting, lets live connections finish for up to `timeoutMs`, then closes the rest.
   * Resolves once every outcome has been emitted, so final stats count every connection.
   */
  drain(timeoutMs: number): Promise<void>;
}

/** Starts a data plane; its settings (listen address, timeouts, worker count) come bound in. */
export type StartDataPlane = (wiring: DataPlaneWiring) => DataPlane;
