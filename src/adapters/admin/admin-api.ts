import type { Observable } from "rxjs";
import type { AdminAction } from "../../domain/health.js";
import type { ReloadOutcome } from "../../domain/reload.js";

/** What the admin server may read and do: the composition root provides it. */
export interface AdminApi {
  /** The GET /status body right now. */
  status(): object;
  /** Events to stream, each with its `type` (the proxy's events$). */
  readonly events$: Observable<{ readonly type: string }>;
  /** A backend's index by its id (its name, else its address as written). */
  backendIndex(id: string): number | undefined;
  /** Drain, maint or enable a backend (an event in the health stream). */
  act(backend: number, action: AdminAction): void;
  /** Closes a backend's live connections; how many, when this process knows. */
  closeSessions(backend: number): number | void;
  /** New clients to this backend while it is up (an index), or back to the policy (null). */
  overrideRoute(backend: number | null): void;
  /** The manual failback: new clients go back to the first healthy backend. */
  failback(): void;
  /** Reads the configuration file again and applies it; absent without one. */
  readonly reload?: (() => Promise<ReloadOutcome>) | undefined;
}
