import type { Backend } from "./backend.js";
import type { HealthEvent, HealthState } from "./health.js";

/** What the outside world hears about: health changes and failures, never per-byte traffic. */
export type ProxyEvent =
  | {
      readonly type: "backend-down";
      readonly backend: Backend;
      readonly reason: string;
      readonly at: number;
    }
  | {
      readonly type: "backend-up";
      readonly backend: Backend;
      readonly downtimeMs: number;
      readonly at: number;
    }
  | {
      readonly type: "connect-failed";
      readonly backend: Backend;
      readonly reason: string;
      readonly at: number;
    }
  | {
      readonly type: "probe-failed";
      readonly backend: Backend;
      readonly reason: string;
      readonly at: number;
    }
  | { readonly type: "no-backend"; readonly at: number }
  /** A program's code misbehaved (its route policy threw); the proxy keeps going. */
  | {
      readonly type: "error";
      readonly source: "route-policy";
      readonly message: string;
      readonly at: number;
    }
  /** Something an operator should look at, e.g. a policy that has given no route yet. */
  | {
      readonly type: "warning";
      readonly source: "route-policy";
      readonly message: string;
      readonly at: number;
    };

const none: ReadonlyArray<ProxyEvent> = [];

/** The events one reducer step produces, judged from the state before it. */
export const transitionsOf = (
  before: HealthState,
  event: HealthEvent,
): ReadonlyArray<ProxyEvent> => {
  switch (event.type) {
    case "no-backend":
      return [{ type: "no-backend", at: event.at }];
    case "connect-failed":
    case "probe-failed": {
      const was = before.backends[event.backend];
      if (was === undefined) return none;
      const failure: ProxyEvent = {
        type: event.type,
        backend: was.backend,
        reason: event.reason,
        at: event.at,
      };
      return was.up
        ? [
            failure,
            { type: "backend-down", backend: was.backend, reason: event.reason, at: event.at },
          ]
        : [failure];
    }
    case "connected":
    case "probe-ok": {
      const was = before.backends[event.backend];
      if (was === undefined || was.up || was.downSince === null) return none;
      return [
        {
          type: "backend-up",
          backend: was.backend,
          downtimeMs: event.at - was.downSince,
          at: event.at,
        },
      ];
    }
    case "accepted":
    case "traffic":
    case "closed":
      return none;
    // Not the backends' news: the relay logs these itself, a warning and then counts.
    case "refused-locally":
      return none;
  }
};
