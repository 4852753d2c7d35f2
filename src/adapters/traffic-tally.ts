import type { HealthEvent, LimitReason, TrafficDelta } from "../domain/health.js";

interface MutableDelta {
  backend: number;
  connected: number;
  closed: number;
  bytesIn: number;
  bytesOut: number;
  lastUsed: number | null;
}

interface MutableLimited {
  readonly reason: LimitReason;
  readonly backend: number | undefined;
  count: number;
}

/**
 * Sums connection counters (accepted, connected, closed, bytes) between two turns of the event
 * loop and hands them on as one "traffic" event (and clients refused for a local reason as one
 * "refused-locally"); everything that may change health goes on at once, after the counters
 * before it. Per connection this is a few additions instead of three
 * steps of the health stream.
 */
export class TrafficTally {
  private accepted = 0;
  private refusedLocally = 0;
  private lastLocalReason = "";
  private readonly deltas = new Map<number, MutableDelta>();
  /** What the limits did this turn, by reason and backend. */
  private readonly limited = new Map<string, MutableLimited>();
  private scheduled = false;

  constructor(
    private readonly forward: (event: HealthEvent) => void,
    private readonly now: () => number,
    /** Whether this backend is up now: only then is a connect plain traffic. */
    private readonly isUp: (backend: number) => boolean,
  ) {}

  readonly emit = (event: HealthEvent): void => {
    switch (event.type) {
      case "accepted":
        this.accepted++;
        return this.schedule();
      case "closed": {
        const d = this.delta(event.backend);
        d.closed++;
        d.bytesIn += event.bytesIn;
        d.bytesOut += event.bytesOut;
        return this.schedule();
      }
      case "refused-locally":
        // Out of descriptors, every client fails this way: a storm of them is one event per turn.
        this.refusedLocally += event.count;
        this.lastLocalReason = event.reason;
        return this.schedule();
      case "limited": {
        // A sweep may close many idle connections at once: one event per reason and backend.
        const key = `${event.reason}/${event.backend ?? ""}`;
        const l = this.limited.get(key);
        if (l === undefined)
          this.limited.set(key, {
            reason: event.reason,
            backend: event.backend,
            count: event.count,
          });
        else l.count += event.count;
        return this.schedule();
      }
      case "connected":
        // A connect to a backend believed down brings it back: that is news, not a counter.
        if (this.isUp(event.backend)) {
          const d = this.delta(event.backend);
          d.connected++;
          d.lastUsed = event.at;
          return this.schedule();
        }
        break;
      default:
        break;
    }
    this.flush();
    this.forward(event);
  };

  /** Hands on what has been counted so far. */
  readonly flush = (): void => {
    if (this.accepted !== 0 || this.deltas.size !== 0) {
      const backends: TrafficDelta[] = [...this.deltas.values()];
      const accepted = this.accepted;
      this.accepted = 0;
      this.deltas.clear();
      this.forward({ type: "traffic", accepted, backends, at: this.now() });
    }
    if (this.refusedLocally !== 0) {
      const count = this.refusedLocally;
      this.refusedLocally = 0;
      this.forward({
        type: "refused-locally",
        count,
        reason: this.lastLocalReason,
        at: this.now(),
      });
    }
    if (this.limited.size !== 0) {
      const limited = [...this.limited.values()];
      this.limited.clear();
      const at = this.now();
      for (const { reason, backend, count } of limited)
        this.forward({
          type: "limited",
          reason,
          ...(backend === undefined ? {} : { backend }),
          count,
          at,
        });
    }
  };

  private delta(backend: number): MutableDelta {
    let d = this.deltas.get(backend);
    if (d === undefined) {
      d = { backend, connected: 0, closed: 0, bytesIn: 0, bytesOut: 0, lastUsed: null };
      this.deltas.set(backend, d);
    }
    return d;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }
}
