// A tiny typed event emitter. A listener that throws is reported to the "error" listeners and
// does not stop the others (a UI bug must not stall the event stream).
export type Listener<T> = (value: T) => void;

export class Emitter<M extends { error: { readonly message: string; readonly cause: unknown } }> {
  readonly #listeners = new Map<keyof M, Set<Listener<never>>>();

  /** Adds a listener; the returned function removes it. */
  on<K extends keyof M>(name: K, listener: Listener<M[K]>): () => void {
    let set = this.#listeners.get(name);
    if (!set) this.#listeners.set(name, (set = new Set()));
    set.add(listener as Listener<never>);
    return () => void set.delete(listener as Listener<never>);
  }

  emit<K extends keyof M>(name: K, value: M[K]): void {
    for (const listener of [...(this.#listeners.get(name) ?? [])]) {
      try {
        (listener as Listener<M[K]>)(value);
      } catch (cause) {
        if (name !== "error") this.emit("error", { message: `a ${String(name)} listener failed`, cause } as M["error"]);
      }
    }
  }
}
