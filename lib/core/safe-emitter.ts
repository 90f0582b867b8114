// An EventEmitter whose listeners cannot break the emitter: a listener that throws is reported
// (once per listener and event name, then counted) and the others still run, and so does the
// engine that emitted. A flow node's bug must never stop a redundant pair from failing over.
import { EventEmitter } from 'node:events';

export type ListenerErrorHandler = (event: string, err: unknown) => void;

export class SafeEmitter<T extends Record<keyof T, unknown[]>> extends EventEmitter<T> {
  /** Listener failures so far (tests and diagnostics). */
  listenerErrors = 0;
  private reported = new WeakSet<object>();

  constructor(private readonly onListenerError: ListenerErrorHandler) {
    super();
  }

  override emit<K>(eventName: K | keyof T, ...args: unknown[]): boolean {
    const listeners = this.rawListeners(eventName as never) as unknown as Array<(...a: unknown[]) => unknown>;
    if (listeners.length === 0) return false;
    for (const listener of listeners) {
      try {
        listener.apply(this, args);
      } catch (err) {
        this.listenerErrors++;
        if (!this.reported.has(listener)) {
          this.reported.add(listener);
          try {
            this.onListenerError(String(eventName), err);
          } catch {
            /* a failing logger must not break the engine either */
          }
        }
      }
    }
    return true;
  }
}
