// A minimal Chrome DevTools Protocol client for a process started with
// --inspect=127.0.0.1:PORT: the bench drives GC, heap usage, CPU profiles and heap
// snapshots of the real dialtone-server through it, without code in the server.
import WebSocket from "ws";
import { sleep } from "./proc.js";

export class Cdp {
  private seq = 0;
  private readonly waiters = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly listeners = new Map<string, Array<(params: unknown) => void>>();

  private constructor(private readonly ws: WebSocket) {
    ws.on("message", (raw: Buffer) => {
      const m = JSON.parse(raw.toString()) as {
        id?: number;
        result?: unknown;
        error?: { message: string };
        method?: string;
        params?: unknown;
      };
      if (m.id !== undefined) {
        const w = this.waiters.get(m.id);
        this.waiters.delete(m.id);
        if (m.error) w?.reject(new Error(`cdp: ${m.error.message}`));
        else w?.resolve(m.result);
      } else if (m.method) for (const l of this.listeners.get(m.method) ?? []) l(m.params);
    });
    ws.on("close", () => {
      for (const w of this.waiters.values()) w.reject(new Error("cdp: inspector closed"));
      this.waiters.clear();
    });
  }

  /** Connects to the inspector on 127.0.0.1:port (retrying while the process starts). */
  static async connect(port: number, timeoutMs = 30_000): Promise<Cdp> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      try {
        const list = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as Array<{ webSocketDebuggerUrl: string }>;
        const ws = new WebSocket(list[0]!.webSocketDebuggerUrl, { perMessageDeflate: false, maxPayload: 2 ** 31 });
        await new Promise<void>((resolve, reject) => ws.once("open", resolve).once("error", reject));
        return new Cdp(ws);
      } catch (err) {
        if (Date.now() > end) throw new Error(`cdp: no inspector on port ${port}: ${(err as Error).message}`);
        await sleep(200);
      }
    }
  }

  send<T = unknown>(method: string, params: object = {}): Promise<T> {
    const id = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      this.waiters.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  on(method: string, fn: (params: unknown) => void): () => void {
    const list = this.listeners.get(method) ?? [];
    list.push(fn);
    this.listeners.set(method, list);
    return () =>
      this.listeners.set(
        method,
        (this.listeners.get(method) ?? []).filter((f) => f !== fn),
      );
  }

  close(): void {
    this.ws.terminate();
  }
}
