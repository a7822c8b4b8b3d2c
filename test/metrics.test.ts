// GET /metrics: valid Prometheus text; the open-stream gauge follows Subscribe streams;
// RPC counts and latency by method and code; events delivered; the database pool size.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { createApp } from "../server/app.js";
import type { Database } from "../server/db/client.js";
import { createListener } from "../server/http/listener.js";
import { createLogger } from "../server/log.js";
import { api, registerUser, sealedValue, type TestUser } from "./support/api.js";
import { databaseSource, type DatabaseSource } from "./support/databases.js";
import { parsePrometheusText, sampleValue } from "./support/prometheus.js";
import { startTestServer, TEST_ADMIN_TOKEN, TEST_PEPPER, type TestServer } from "./support/server.js";

let source: DatabaseSource;
let db: Database;
let server: TestServer;
let admin: TestUser;

beforeAll(async () => {
  source = await databaseSource("pglite");
  db = await source.fresh();
  server = await startTestServer(db);
  admin = await registerUser(server.url);
});
afterAll(async () => {
  await server.close();
  await db.close();
});

async function scrape(url = server.url, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/metrics`, { headers });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await res.text());
}

async function until(check: () => Promise<boolean>, ms = 3000) {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > ms) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

function open(user: TestUser) {
  const ac = new AbortController();
  let hello = false;
  const done = (async () => {
    try {
      for await (const item of user.api.event.subscribe({}, { signal: ac.signal })) if (item.item.case === "hello") hello = true;
    } catch {
      /* aborted */
    }
  })();
  return { ready: () => until(async () => hello), close: async () => (ac.abort(), await done) };
}

const streams = async () => sampleValue(await scrape(), "dialtone_event_streams_open");

test("the exposition parses and names every family we promise", async () => {
  await admin.api.channel.listChannels({});
  const m = await scrape();
  for (const name of [
    "dialtone_event_streams_open",
    "dialtone_events_delivered_total",
    "dialtone_rpc_requests_total",
    "dialtone_rpc_duration_seconds",
    "dialtone_db_pool_max_connections",
  ]) {
    expect([name, m.has(name)]).toEqual([name, true]);
  }
  expect(m.get("dialtone_rpc_duration_seconds")!.type).toBe("histogram");
  expect(sampleValue(m, "dialtone_db_pool_max_connections", { kind: "pglite" })).toBe(1);
  // no ids or other request data in labels
  const labelValues = [...m.values()].flatMap((f) => f.samples.flatMap((s) => Object.values(s.labels)));
  expect(labelValues.join(" ")).not.toContain(admin.userId);
});

test("the stream gauge follows open subscriptions: 3 open, then 1 closed", async () => {
  expect(await streams()).toBe(0);
  const users = [admin, await registerUser(server.url), await registerUser(server.url)];
  const open3 = users.map(open);
  await Promise.all(open3.map((s) => s.ready()));
  expect(await streams()).toBe(3);
  await open3[1]!.close();
  await until(async () => (await streams()) === 2);
  expect(await streams()).toBe(2);
  await open3[0]!.close();
  await open3[2]!.close();
  await until(async () => (await streams()) === 0);
});

test("RPC counts and latency by method and code; delivered events", async () => {
  const before = await scrape();
  const method = "dialtone.v1.ChannelService/CreateChannel";
  const ok = sampleValue(before, "dialtone_rpc_requests_total", { method, code: "ok" }) ?? 0;
  const s = open(admin);
  await s.ready();
  const delivered = sampleValue(await scrape(), "dialtone_events_delivered_total", { kind: "durable" }) ?? 0;
  await admin.api.channel.createChannel({ channelId: randomUUID(), encryptedName: sealedValue() });
  await admin.api.channel.createChannel({ channelId: "not-a-uuid", encryptedName: sealedValue() }).catch(() => {});
  await until(async () => (sampleValue(await scrape(), "dialtone_events_delivered_total", { kind: "durable" }) ?? 0) > delivered);
  const after = await scrape();
  expect(sampleValue(after, "dialtone_rpc_requests_total", { method, code: "ok" })).toBe(ok + 1);
  expect(sampleValue(after, "dialtone_rpc_requests_total", { method, code: "invalid_argument" })).toBeGreaterThanOrEqual(1);
  expect(sampleValue(after, "dialtone_rpc_duration_seconds_count", { method, code: "ok" })).toBe(ok + 1);
  expect(sampleValue(after, "dialtone_rpc_duration_seconds_bucket", { method, code: "ok", le: "+Inf" })).toBe(ok + 1);
  expect(sampleValue(after, "dialtone_events_delivered_total", { kind: "durable" })).toBe(delivered + 1);
  await s.close();
  // A closed stream is counted with its final code.
  await until(
    async () => (sampleValue(await scrape(), "dialtone_rpc_requests_total", { method: "dialtone.v1.EventService/Subscribe" }) ?? 0) > 0,
  );
});

test("the log line of a call names its code as the metrics do, on either serving of a call", async () => {
  const rpcLines = (method: string) =>
    server.logs
      .map((l) => JSON.parse(l) as { msg?: string; method?: string; code?: string })
      .filter((l) => l.method === method && l.code !== undefined);
  const create = "dialtone.v1.ChannelService/CreateChannel";
  const before = rpcLines(create).length;
  await admin.api.channel.createChannel({ channelId: "not-a-uuid", encryptedName: sealedValue() }).catch(() => {});
  // connect-node's serving (through the interceptors) once logged the numeric code ("3").
  expect(
    rpcLines(create)
      .slice(before)
      .map((l) => l.code),
  ).toEqual(["invalid_argument"]);
  // The Subscribe fast path: a call without a session.
  const subscribe = "dialtone.v1.EventService/Subscribe";
  const n = rpcLines(subscribe).length;
  const anon = api(server.url).event;
  await expect(
    (async () => {
      for await (const _ of anon.subscribe({})) void _;
    })(),
  ).rejects.toThrow();
  await until(async () => rpcLines(subscribe).length > n);
  expect(
    rpcLines(subscribe)
      .slice(n)
      .map((l) => l.code),
  ).toEqual(["unauthenticated"]);
});

describe("DIALTONE_METRICS_TOKEN and process metrics", () => {
  test("with a token, /metrics needs it; process metrics are included when asked", async () => {
    const app = await createApp({
      database: db,
      secrets: { adminToken: TEST_ADMIN_TOKEN, usernamePepper: TEST_PEPPER },
      log: createLogger("error", () => {}),
      metrics: { token: "metrics-token-0123456789", processMetrics: true },
    });
    const listener = createListener(app.handler);
    await new Promise<void>((r) => listener.server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(listener.server.address() as { port: number }).port}`;
    try {
      expect((await fetch(`${url}/metrics`)).status).toBe(401);
      expect((await fetch(`${url}/metrics`, { headers: { authorization: "Bearer wrong-token-0123456789" } })).status).toBe(401);
      const m = await scrape(url, { authorization: "Bearer metrics-token-0123456789" });
      expect(m.has("process_cpu_user_seconds_total") || m.has("process_cpu_user_seconds")).toBe(true);
      expect(m.has("nodejs_eventloop_lag_seconds")).toBe(true);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
    } finally {
      app.endStreams();
      await listener.close(1000);
    }
  });
});
