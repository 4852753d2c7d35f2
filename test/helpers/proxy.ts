import { type Observable, filter, firstValueFrom } from "rxjs";
import {
  type FallbackProxy,
  type FallbackProxyOptions,
  type ProxyEvent,
  createFallbackProxy,
} from "../../src/index.js";

export interface RunningProxy {
  readonly proxy: FallbackProxy;
  readonly port: number;
  /** Every event since start, in order. */
  readonly events: ProxyEvent[];
}

/** Starts a proxy on an ephemeral loopback port and records its events. */
export const startProxy = async (
  options: Omit<FallbackProxyOptions, "listen"> & { listen?: string },
): Promise<RunningProxy> => {
  const proxy = createFallbackProxy({ listen: "127.0.0.1:0", ...options });
  const events: ProxyEvent[] = [];
  proxy.events$.subscribe((event) => events.push(event));
  const { port } = await proxy.listening;
  return { proxy, port, events };
};

/** The next event of a type, as a promise (subscribe before causing it). */
export const nextEvent = <T extends ProxyEvent["type"]>(
  events$: Observable<ProxyEvent>,
  type: T,
  backendLabel?: string,
): Promise<Extract<ProxyEvent, { type: T }>> =>
  firstValueFrom(
    events$.pipe(
      filter(
        (event): event is Extract<ProxyEvent, { type: T }> =>
          event.type === type &&
          (backendLabel === undefined ||
            ("backend" in event && event.backend.label === backendLabel)),
      ),
    ),
  );
