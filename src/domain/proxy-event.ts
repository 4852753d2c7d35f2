import type { Backend } from "./backend.js";
import { type AdminAction, type HealthEvent, type HealthState, stepHealth } from "./health.js";
import type { SessionClosing } from "./session-policy.js";

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
  /** A down backend passed a check but needs `rise` in a row to take clients again. */
  | {
      readonly type: "backend-rising";
      readonly backend: Backend;
      readonly passed: number;
      readonly rise: number;
      readonly at: number;
    }
  /** An up backend failed but takes clients until `fall` failures in a row. */
  | {
      readonly type: "backend-falling";
      readonly backend: Backend;
      readonly failed: number;
      readonly fall: number;
      readonly reason: string;
      readonly at: number;
    }
  | { readonly type: "no-backend"; readonly at: number }
  /** An operator held a backend (drain, maint) or gave it back to its checks (enable). */
  | {
      readonly type: "backend-admin";
      readonly backend: Backend;
      readonly action: AdminAction;
      readonly at: number;
    }
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
    }
  /** A backend's live connections are being closed (-on-down, -on-failback). */
  | ({ readonly type: "sessions-closed"; readonly at: number } & SessionClosing)
  /** A reload changed the backend list (or only settings): what it added, removed, changed. */
  | {
      readonly type: "config-reloaded";
      readonly added: ReadonlyArray<Backend>;
      readonly removed: ReadonlyArray<Backend>;
      readonly changed: ReadonlyArray<Backend>;
      readonly at: number;
    }
  /** A reload was refused (the running configuration stays): why, one problem per line. */
  | {
      readonly type: "config-refused";
      readonly problems: ReadonlyArray<string>;
      readonly at: number;
    };

/** The events one reducer step produces, judged from the state before it (see stepHealth). */
export const transitionsOf = (before: HealthState, event: HealthEvent): ReadonlyArray<ProxyEvent> =>
  stepHealth(before, event).transitions;
