// Prometheus metrics (prom-client), served as `GET /metrics` on the API port. Labels hold
// method names and codes only: never an id, a username or anything a client sent.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { secretEquals } from "../domain/tokens.js";
import type { NodeHandler } from "./listener.js";

export interface MetricsSources {
  /** Open EventService.Subscribe streams held by this process. */
  streamCount(): number;
  /** Last durable seq this process delivered. */
  headSeq(): bigint;
  database: { kind: "pglite" | "postgres"; maxConnections: number };
}

export interface MetricsOptions {
  /** Node.js process metrics (heap, event loop lag, file descriptors...). Off in tests. */
  processMetrics?: boolean;
}

export interface Metrics {
  readonly registry: Registry;
  /** One finished call, by method and code (calls.ts finishes every call). */
  recordCall(method: string, code: string, seconds: number): void;
  /** One event sent on a stream (durable: seq > 0). A plain counter: this runs per delivery. */
  delivered(durable: boolean): void;
}

export function createMetrics(src: MetricsSources, o: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  const registers = [registry];
  new Gauge({
    name: "dialtone_event_streams_open",
    help: "Open EventService.Subscribe streams on this process.",
    registers,
    collect() {
      this.set(src.streamCount());
    },
  });
  new Gauge({
    name: "dialtone_event_feed_head_seq",
    help: "Last durable event seq this process delivered to its streams.",
    registers,
    collect() {
      this.set(Number(src.headSeq()));
    },
  });
  // Deliveries are tallied in plain numbers and handed to prom-client when scraped.
  const tally = { durable: 0, ephemeral: 0 };
  const reported = { durable: 0, ephemeral: 0 };
  new Counter({
    name: "dialtone_events_delivered_total",
    help: "Events sent on Subscribe streams (replayed and live), by kind: durable (seq > 0) or ephemeral.",
    labelNames: ["kind"] as const,
    registers,
    collect() {
      for (const kind of ["durable", "ephemeral"] as const) {
        this.inc({ kind }, tally[kind] - reported[kind]);
        reported[kind] = tally[kind];
      }
    },
  });
  const delivered = (durable: boolean) => void (durable ? tally.durable++ : tally.ephemeral++);
  const pool = new Gauge({
    name: "dialtone_db_pool_max_connections",
    help: "Configured database connection pool size (embedded PGlite: 1).",
    labelNames: ["kind"] as const,
    registers,
  });
  pool.set({ kind: src.database.kind }, src.database.maxConnections);
  const calls = new Counter({
    name: "dialtone_rpc_requests_total",
    help: "RPCs handled, by method and final code (streams count when they end).",
    labelNames: ["method", "code"] as const,
    registers,
  });
  const duration = new Histogram({
    name: "dialtone_rpc_duration_seconds",
    help: "RPC duration by method and code; for server streams, the stream's lifetime.",
    labelNames: ["method", "code"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60, 600, 3600],
    registers,
  });
  if (o.processMetrics) collectDefaultMetrics({ register: registry });

  const recordCall = (method: string, code: string, seconds: number) => {
    calls.inc({ method, code });
    duration.observe({ method, code }, seconds);
  };

  return { registry, recordCall, delivered };
}

/**
 * Answers `GET /metrics` in the Prometheus text format; everything else goes on. With a
 * token, the scraper must send `Authorization: Bearer <token>` (else 401).
 */
export function withMetrics(handler: NodeHandler, metrics: Metrics, token?: string): NodeHandler {
  return (req, res) => {
    const path = (req.url ?? "").split("?", 1)[0];
    if (path !== "/metrics" || (req.method !== "GET" && req.method !== "HEAD")) {
      handler(req, res);
      return;
    }
    if (token) {
      const m = /^bearer\s+(\S+)$/i.exec(String(req.headers.authorization ?? "").trim());
      if (!m || !secretEquals(m[1]!, token)) {
        res.writeHead(401, { "content-type": "text/plain; charset=utf-8", "www-authenticate": "Bearer", "cache-control": "no-store" });
        res.end("metrics: send Authorization: Bearer <DIALTONE_METRICS_TOKEN>\n");
        return;
      }
    }
    metrics.registry.metrics().then(
      (body) => {
        res.writeHead(200, { "content-type": metrics.registry.contentType, "cache-control": "no-store" });
        if (req.method === "GET") res.end(body);
        else res.end();
      },
      () => {
        res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
        res.end("metrics unavailable\n");
      },
    );
  };
}
