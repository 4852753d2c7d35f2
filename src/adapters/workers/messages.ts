import type { Address, Backend } from "../../domain/backend.js";
import type { HealthEvent } from "../../domain/health.js";
import type { LogLevelName } from "../../domain/logger.js";

/** What a worker tells the primary. */
export type WorkerMessage =
  | {
      readonly kind: "listening";
      readonly address: string;
      readonly family: string;
      readonly port: number;
    }
  | { readonly kind: "listen-failed"; readonly message: string }
  /** Answers to "relisten": bound on the new address (the old one closed), or why not. */
  | {
      readonly kind: "relistened";
      readonly address: string;
      readonly family: string;
      readonly port: number;
    }
  | { readonly kind: "relisten-failed"; readonly message: string }
  /** Connection outcomes; counters come tallied per event-loop turn, so IPC stays off the per-connection path. */
  | { readonly kind: "events"; readonly events: ReadonlyArray<HealthEvent> }
  | { readonly kind: "log"; readonly level: LogLevelName; readonly message: string };

/** What the primary tells a worker. */
export type PrimaryMessage =
  /** The route as backend indices, in order, and the share of new clients its first takes. */
  | { readonly kind: "route"; readonly backends: ReadonlyArray<number>; readonly share: number }
  | { readonly kind: "drain"; readonly timeoutMs: number }
  /** After a reload: listen on this address, then stop accepting on the old one. */
  | { readonly kind: "relisten"; readonly address: Address }
  /** After a reload: every backend slot, by index (routes and orders name them by index). */
  | { readonly kind: "backends"; readonly backends: ReadonlyArray<Backend> }
  /** Close every relayed connection to this backend (by index). */
  | { readonly kind: "close-sessions"; readonly backend: number };

const kindOf = (message: unknown): unknown =>
  typeof message === "object" && message !== null && "kind" in message ? message.kind : undefined;

// IPC messages come from our own processes: checking the tag is enough to tell them apart
// from anything else a parent or child might send.
export const isWorkerMessage = (message: unknown): message is WorkerMessage =>
  ["listening", "listen-failed", "events", "log", "relistened", "relisten-failed"].includes(
    kindOf(message) as string,
  );

export const isPrimaryMessage = (message: unknown): message is PrimaryMessage =>
  ["route", "drain", "close-sessions", "backends", "relisten"].includes(kindOf(message) as string);
