import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { Code, ConnectError, createClient, type ConnectRouter, type Transport } from "@connectrpc/connect";
import {
  connectNodeAdapter,
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
  Http2SessionManager,
} from "@connectrpc/connect-node";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import http2 from "node:http2";
import https from "node:https";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { AuthService } from "../../gen/dialtone/v1/auth_service_pb.js";
import { selfSigned } from "../../test/support/tls.js";
import { EventService, type SubscribeResponse } from "../../gen/dialtone/v1/event_service_pb.js";
import { createListener, withHealth, type Listener, type ListenerOptions, type NodeHandler } from "./listener.js";

// Stream modes, chosen by SubscribeRequest.after_seq in these tests.
const TICKER = 0n; // an item every 20 ms until the client goes away
const GATED = 1n; // 3 items; each waits for the client to have received the previous one
const POLITE = 2n; // ticker that ends cleanly when the listener starts closing

// Rendezvous between the gated stream and the test: proves items are not buffered.
const acks = new Map<string, { promise: Promise<void>; resolve: () => void }>();
function ack(id: string) {
  let entry = acks.get(id);
  if (!entry) {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    entry = { promise, resolve };
    acks.set(id, entry);
  }
  return entry;
}

const hello = (i: number) => ({ item: { case: "hello" as const, value: { streamId: String(i), headSeq: BigInt(i) } } });

function routes(closing: () => AbortSignal) {
  return (router: ConnectRouter) => {
    router.service(AuthService, {
      getSession: () => ({ userId: "user-1", deviceId: "device-1", isAdmin: true }),
      login() {
        throw new ConnectError("unimplemented", Code.Unimplemented);
      },
    });
    router.service(EventService, {
      async *subscribe(req, ctx) {
        const mode = req.afterSeq ?? TICKER;
        if (mode === GATED) {
          const key = ctx.requestHeader.get("x-gate") ?? "";
          for (let i = 0; i < 3; i++) {
            yield hello(i);
            if (i === 2) return;
            const timeout = sleep(3000, "timeout", { signal: ctx.signal });
            if ((await Promise.race([ack(`${key}/${i}`).promise, timeout])) === "timeout") {
              throw new ConnectError(`item ${i} not received before the next was produced: buffered`, Code.Internal);
            }
          }
        }
        const signal = mode === POLITE ? AbortSignal.any([ctx.signal, closing()]) : ctx.signal;
        for (let i = 0; ; i++) {
          yield hello(i);
          try {
            await sleep(20, undefined, { signal });
          } catch (err) {
            if (mode === POLITE && closing().aborted) return;
            throw err;
          }
        }
      },
    });
  };
}

interface Started {
  listener: Listener;
  port: number;
}

async function start(opts: ListenerOptions = {}): Promise<Started> {
  const adapter = connectNodeAdapter({ routes: routes(() => listener.closing) });
  // Tell the client which HTTP version the server saw.
  const tagged: NodeHandler = (req, res) => {
    res.setHeader("x-http-version", req.httpVersion);
    adapter(req, res);
  };
  const listener = createListener(withHealth(tagged), opts);
  await new Promise<void>((resolve) => listener.server.listen(0, "127.0.0.1", resolve));
  const address = listener.server.address() as net.AddressInfo;
  return { listener, port: address.port };
}

// connect-node logs a handler whose client vanished mid-response; these tests cut streams on purpose.
const consoleError = console.error.bind(console);
beforeAll(() => {
  jest.spyOn(console, "error").mockImplementation((...args: unknown[]) => {
    if (String(args[0]).startsWith("handler for rpc") && /ERR_STREAM_DESTROYED|ERR_HTTP2_INVALID_STREAM/.test(String(args[1]))) return;
    consoleError(...args);
  });
});
afterAll(() => {
  jest.restoreAllMocks();
});

const sessionManagers: Http2SessionManager[] = [];
function h2Manager(url: string, nodeOptions: { ca?: Buffer } = {}, idleConnectionTimeoutMs = 5): Http2SessionManager {
  const manager = new Http2SessionManager(url, { idleConnectionTimeoutMs }, nodeOptions);
  sessionManagers.push(manager);
  return manager;
}
afterAll(() => sessionManagers.forEach((m) => m.abort()));

function transports(baseUrl: string): Record<string, [Transport, string]> {
  return {
    "Connect over HTTP/1.1": [createConnectTransport({ baseUrl, httpVersion: "1.1" }), "1.1"],
    "gRPC-Web over HTTP/1.1": [createGrpcWebTransport({ baseUrl, httpVersion: "1.1" }), "1.1"],
    "gRPC over h2c": [createGrpcTransport({ baseUrl, sessionManager: h2Manager(baseUrl) }), "2.0"],
    "Connect over h2c": [createConnectTransport({ baseUrl, httpVersion: "2", sessionManager: h2Manager(baseUrl) }), "2.0"],
  };
}

async function getSession(transport: Transport): Promise<{ userId: string; version: string | null }> {
  let version: string | null = null;
  const res = await createClient(AuthService, transport).getSession({}, { onHeader: (h) => (version = h.get("x-http-version")) });
  return { userId: res.userId, version };
}

async function expectUnbufferedStream(transport: Transport): Promise<void> {
  const key = randomUUID();
  const got: string[] = [];
  const stream = createClient(EventService, transport).subscribe({ afterSeq: GATED }, { headers: { "x-gate": key } });
  for await (const res of stream) {
    got.push(streamId(res));
    ack(`${key}/${got.length - 1}`).resolve();
  }
  expect(got).toEqual(["0", "1", "2"]);
}

function streamId(res: SubscribeResponse): string {
  if (res.item.case !== "hello") throw new Error(`unexpected item ${res.item.case}`);
  return res.item.value.streamId;
}

/** Raw HTTP/1.1 exchange, written in pieces to exercise partial reads in the sniffer. */
async function rawExchange(port: number, pieces: (string | Buffer)[], readBytes = Infinity): Promise<Buffer> {
  const socket = net.connect(port, "127.0.0.1");
  await new Promise((resolve) => socket.once("connect", resolve));
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve) => {
    const finish = () => resolve(Buffer.concat(chunks));
    socket.on("data", (c: Buffer) => {
      chunks.push(c);
      if (Buffer.concat(chunks).length >= readBytes) socket.destroy();
    });
    socket.on("close", finish);
    socket.on("error", () => {});
  });
  socket.setTimeout(5000, () => socket.destroy()); // a failure, not a hung test
  for (const piece of pieces) {
    socket.write(piece);
    await sleep(30);
  }
  return done;
}

function httpGet(port: number, path: string, method = "GET"): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path, method, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, type: res.headers["content-type"] ?? "", body }));
    });
    req.on("error", reject).end();
  });
}

describe("cleartext: one port for HTTP/1.1 and h2c", () => {
  let s: Started;
  let all: Record<string, [Transport, string]>;
  beforeAll(async () => {
    s = await start();
    all = transports(`http://127.0.0.1:${s.port}`);
  });
  afterAll(() => s.listener.close(1000));

  test.each(["Connect over HTTP/1.1", "gRPC-Web over HTTP/1.1", "gRPC over h2c", "Connect over h2c"])("unary: %s", async (name) => {
    const [transport, version] = all[name]!;
    expect(await getSession(transport)).toEqual({ userId: "user-1", version });
  });

  test.each(["Connect over HTTP/1.1", "gRPC-Web over HTTP/1.1", "gRPC over h2c", "Connect over h2c"])(
    "server stream arrives unbuffered: %s",
    async (name) => expectUnbufferedStream(all[name]![0]),
  );

  test("unimplemented methods answer unimplemented", async () => {
    const client = createClient(AuthService, all["gRPC over h2c"]![0]);
    await expect(client.logout({})).rejects.toMatchObject({ code: Code.Unimplemented });
    await expect(client.login({})).rejects.toMatchObject({ code: Code.Unimplemented });
  });

  test("GET /healthz and /health answer ok as text/plain", async () => {
    for (const p of ["/healthz", "/health", "/healthz?probe=1"]) {
      expect(await httpGet(s.port, p)).toEqual({ status: 200, type: "text/plain; charset=utf-8", body: "ok" });
    }
    expect((await httpGet(s.port, "/healthz", "HEAD")).status).toBe(200);
    expect((await httpGet(s.port, "/nope")).status).toBe(404);
  });

  test("the sniffer copes with requests split into tiny reads", async () => {
    // "P" could start the h2 preface; the next bytes diverge, so it must still reach HTTP/1.1.
    const h1 = await rawExchange(s.port, ["P", "UT /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n", "\r\n"]);
    expect(h1.toString("latin1")).toMatch(/^HTTP\/1\.1 \d{3} /);
    const get = await rawExchange(s.port, ["G", "ET /hea", "lthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"]);
    expect(get.toString("latin1")).toMatch(/^HTTP\/1\.1 200 [\s\S]*\r\n\r\nok$/);
    // The preface in three pieces: the server's first frame must be SETTINGS (type 4).
    const preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    const emptySettings = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);
    const h2 = await rawExchange(s.port, [preface.slice(0, 5), preface.slice(5, 17), preface.slice(17), emptySettings], 9);
    expect(h2[3]).toBe(4);
  });
});

describe("timeouts", () => {
  test("a slow request is cut, a long response stream is not", async () => {
    const s = await start({ headersTimeoutMs: 200, requestTimeoutMs: 300, timeoutCheckIntervalMs: 50 });
    try {
      // Silent, stuck inside the preface, or headers never finish: each connection is dropped.
      for (const pieces of [[], ["PRI * HTTP"], ["GET / HTTP/1.1\r\n"]]) {
        const t0 = performance.now();
        await rawExchange(s.port, pieces);
        expect(performance.now() - t0).toBeLessThan(1500);
      }
      // Body never arrives: Node's requestTimeout (enabled by the forwarded 'listening') answers 408.
      const slow = await rawExchange(s.port, [
        "POST /dialtone.v1.AuthService/GetSession HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n",
      ]);
      expect(slow.toString("latin1")).toMatch(/^HTTP\/1\.1 408 /);

      // A stream three times longer than requestTimeout keeps flowing over both versions.
      const baseUrl = `http://127.0.0.1:${s.port}`;
      const sm = h2Manager(baseUrl);
      for (const transport of [
        createConnectTransport({ baseUrl, httpVersion: "1.1" }),
        createGrpcTransport({ baseUrl, sessionManager: sm }),
      ]) {
        const abort = new AbortController();
        const end = setTimeout(() => abort.abort(), 1000);
        let n = 0;
        try {
          for await (const res of createClient(EventService, transport).subscribe({}, { signal: abort.signal })) {
            expect(streamId(res)).toBe(String(n++));
          }
        } catch (err) {
          expect(ConnectError.from(err).code).toBe(Code.Canceled);
        } finally {
          clearTimeout(end);
        }
        expect(n).toBeGreaterThan(20);
      }
    } finally {
      await s.listener.close(500);
    }
  });
});

describe("HTTP/2 and connection limits", () => {
  /** An h2c session on the port; resolves when it is connected and has the server's SETTINGS. */
  async function h2Session(port: number): Promise<http2.ClientHttp2Session> {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on("error", () => {});
    await new Promise<void>((resolve, reject) => {
      session.once("remoteSettings", () => resolve());
      session.once("close", () => reject(new Error("closed before SETTINGS")));
    });
    return session;
  }
  const closedWithin = (session: http2.ClientHttp2Session, ms: number) =>
    Promise.race([new Promise<string>((r) => session.once("close", () => r("closed"))), sleep(ms).then(() => "still open")]);

  test("SETTINGS advertise a bounded stream count (100 by default, configurable)", async () => {
    for (const [opts, expected] of [
      [{}, 100],
      [{ h2MaxConcurrentStreams: 7 }, 7],
    ] as const) {
      const s = await start(opts);
      const session = await h2Session(s.port);
      try {
        expect(session.remoteSettings.maxConcurrentStreams).toBe(expected);
      } finally {
        session.destroy();
        await s.listener.close(100);
      }
    }
  });

  test("an h2 connection that opens no stream, or has none open any more, is closed; an open event stream keeps it", async () => {
    const s = await start({ headersTimeoutMs: 300, h2IdleTimeoutMs: 500, requestTimeoutMs: 300 });
    try {
      const silent = await h2Session(s.port);
      expect(await closedWithin(silent, 2000)).toBe("closed");

      const used = await h2Session(s.port);
      const req = used.request({ ":path": "/healthz" });
      req.resume();
      await new Promise((r) => req.once("close", r));
      const t0 = performance.now();
      expect(await closedWithin(used, 3000)).toBe("closed");
      expect(performance.now() - t0).toBeGreaterThanOrEqual(400); // the idle time, not at once

      // A gRPC event stream three times the idle time, on a connection of its own: not cut.
      const baseUrl = `http://127.0.0.1:${s.port}`;
      const abort = new AbortController();
      const end = setTimeout(() => abort.abort(), 1500);
      let n = 0;
      try {
        for await (const res of createClient(EventService, createGrpcTransport({ baseUrl, sessionManager: h2Manager(baseUrl) })).subscribe(
          {},
          { signal: abort.signal },
        )) {
          expect(streamId(res)).toBe(String(n++));
        }
      } catch (err) {
        expect(ConnectError.from(err).code).toBe(Code.Canceled);
      } finally {
        clearTimeout(end);
      }
      expect(n).toBeGreaterThan(40);
    } finally {
      await s.listener.close(500);
    }
  });

  test("an h2 request body that never ends is cancelled after the request timeout", async () => {
    const s = await start({ requestTimeoutMs: 400, headersTimeoutMs: 200, h2IdleTimeoutMs: 10_000 });
    const session = await h2Session(s.port);
    try {
      const req = session.request(
        { ":method": "POST", ":path": "/dialtone.v1.AuthService/GetSession", "content-type": "application/grpc" },
        { endStream: false },
      );
      req.on("error", () => {});
      req.write(Buffer.from([0, 0, 0, 0, 10])); // a message prefix announcing 10 bytes that never come
      const t0 = performance.now();
      const code = await new Promise<number>((r) => req.once("close", () => r(req.rstCode)));
      expect(code).toBe(http2.constants.NGHTTP2_CANCEL);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(300);
      expect(performance.now() - t0).toBeLessThan(3000);
    } finally {
      session.destroy();
      await s.listener.close(100);
    }
  });

  test("connections per client address are capped, except for trusted proxies", async () => {
    for (const trusted of [false, true]) {
      const s = await start({ maxConnectionsPerAddress: 3, isTrustedProxy: (a) => trusted && /127\.0\.0\.1$/.test(a) });
      const sockets: net.Socket[] = [];
      try {
        for (let i = 0; i < 4; i++) {
          const socket = net.connect(s.port, "127.0.0.1");
          socket.on("error", () => {});
          await new Promise((r) => socket.once("connect", r));
          sockets.push(socket);
        }
        const fourth = sockets[3]!;
        const outcome = await Promise.race([
          new Promise<string>((r) => fourth.once("close", () => r("closed"))),
          sleep(500).then(() => "open"),
        ]);
        expect([trusted, outcome]).toEqual([trusted, trusted ? "open" : "closed"]);
        const healthz = ["GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"];
        // Another one at the cap: refused (nothing read); over a proxy: served.
        const fifth = (await rawExchange(s.port, healthz)).toString("latin1");
        expect([trusted, fifth.startsWith("HTTP/1.1 200 ")]).toEqual([trusted, trusted]);
        // A closed connection frees its place.
        sockets[0]!.destroy();
        await new Promise((r) => sockets[0]!.once("close", r));
        await sleep(50);
        const again = await rawExchange(s.port, healthz);
        expect(again.toString("latin1")).toMatch(/^HTTP\/1\.1 200 /);
      } finally {
        for (const socket of sockets) socket.destroy();
        await s.listener.close(100);
      }
    }
  });
});

describe("close()", () => {
  async function openStreams(port: number, afterSeq: bigint) {
    const baseUrl = `http://127.0.0.1:${port}`;
    const ts = [
      createConnectTransport({ baseUrl, httpVersion: "1.1" }),
      // Not the 5 ms idle timeout: connect-node's idle close could race the server's GOAWAY at
      // close() and leave an "error" event with no listener (a CI flake); aborted in afterAll.
      createGrpcTransport({ baseUrl, sessionManager: h2Manager(baseUrl, {}, 60_000) }),
    ];
    const firstItem: Promise<void>[] = [];
    const outcomes = ts.map((transport) => {
      let markFirst!: () => void;
      firstItem.push(new Promise<void>((r) => (markFirst = r)));
      return (async () => {
        let n = 0;
        try {
          for await (const _ of createClient(EventService, transport).subscribe({ afterSeq })) if (n++ === 1) markFirst();
          return "ended";
        } catch {
          return "error";
        }
      })();
    });
    await Promise.all(firstItem);
    return outcomes;
  }

  test("cuts streams that ignore `closing` after the grace period and resolves", async () => {
    const s = await start();
    const outcomes = await openStreams(s.port, TICKER);
    const t0 = performance.now();
    await s.listener.close(300);
    const took = performance.now() - t0;
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(2000);
    expect(await Promise.all(outcomes)).toEqual(["error", "error"]);
    expect(s.listener.server.listening).toBe(false);
  });

  test("streams that watch `closing` end cleanly, before the grace period", async () => {
    const s = await start();
    const outcomes = await openStreams(s.port, POLITE);
    const t0 = performance.now();
    await s.listener.close(5000);
    expect(performance.now() - t0).toBeLessThan(1500);
    expect(await Promise.all(outcomes)).toEqual(["ended", "ended"]);
    await s.listener.close(); // idempotent
  });

  test("idle keep-alive and h2 connections do not hold close() up", async () => {
    const s = await start();
    const baseUrl = `http://127.0.0.1:${s.port}`;
    const agent = new http.Agent({ keepAlive: true });
    const sm = h2Manager(baseUrl, {}, 60_000); // the client would keep it open for a minute
    await getSession(createConnectTransport({ baseUrl, httpVersion: "1.1", nodeOptions: { agent } }));
    await getSession(createGrpcTransport({ baseUrl, sessionManager: sm }));
    expect(Object.values(agent.freeSockets).flat()).toHaveLength(1);
    expect(sm.state()).toBe("open");
    const t0 = performance.now();
    await s.listener.close(5000);
    expect(performance.now() - t0).toBeLessThan(1000);
    agent.destroy();
  });

  test("close() before listen() resolves", async () => {
    const listener = createListener(withHealth(connectNodeAdapter({ routes: () => {} })));
    await listener.close(100);
    expect(() => listener.reloadTls("x", "y")).toThrow(/without TLS/);
  });
});

describe("TLS: ALPN h2 and http/1.1 on one port", () => {
  let dir: string;
  const pair = (name: string) => selfSigned(dir, name);
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "dialtone-tls-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("Connect over HTTP/1.1 and gRPC over HTTP/2, streams, certificate reload", async () => {
    const first = pair("first");
    const s = await start({ tls: first });
    try {
      const baseUrl = `https://localhost:${s.port}`;
      const h1 = (ca: Buffer) => createConnectTransport({ baseUrl, httpVersion: "1.1", nodeOptions: { ca, agent: false } });
      const h2 = (ca: Buffer) => createGrpcTransport({ baseUrl, sessionManager: h2Manager(baseUrl, { ca }) });

      expect(await getSession(h1(first.cert))).toEqual({ userId: "user-1", version: "1.1" });
      expect(await getSession(h2(first.cert))).toEqual({ userId: "user-1", version: "2.0" });
      await expectUnbufferedStream(h1(first.cert));
      await expectUnbufferedStream(h2(first.cert));

      const second = pair("second");
      s.listener.reloadTls(second.cert, second.key);
      expect(await getSession(h1(second.cert))).toEqual({ userId: "user-1", version: "1.1" });
      expect(await getSession(h2(second.cert))).toEqual({ userId: "user-1", version: "2.0" });
      await expect(getSession(h1(first.cert))).rejects.toThrow(/certificate/i);
      expect(() => s.listener.reloadTls("not a cert", "not a key")).toThrow();
      expect(await getSession(h1(second.cert))).toEqual({ userId: "user-1", version: "1.1" });
    } finally {
      await s.listener.close(1000);
    }
  });

  test("idle connections do not hold close() up", async () => {
    const tlsPair = pair("idle");
    const s = await start({ tls: tlsPair });
    const baseUrl = `https://localhost:${s.port}`;
    const agent = new https.Agent({ keepAlive: true, ca: tlsPair.cert });
    await getSession(createConnectTransport({ baseUrl, httpVersion: "1.1", nodeOptions: { agent } }));
    await getSession(createGrpcTransport({ baseUrl, sessionManager: h2Manager(baseUrl, { ca: tlsPair.cert }, 60_000) }));
    expect(Object.values(agent.freeSockets).flat()).toHaveLength(1);
    const t0 = performance.now();
    await s.listener.close(5000);
    expect(performance.now() - t0).toBeLessThan(1000);
    agent.destroy();
  });

  test("close() ends an open stream and resolves", async () => {
    const tlsPair = pair("close");
    const s = await start({ tls: tlsPair });
    const baseUrl = `https://localhost:${s.port}`;
    const ts = [
      createConnectTransport({ baseUrl, httpVersion: "1.1", nodeOptions: { ca: tlsPair.cert } }),
      createGrpcTransport({ baseUrl, sessionManager: h2Manager(baseUrl, { ca: tlsPair.cert }) }),
    ];
    const outcomes = ts.map(async (t) => {
      try {
        for await (const _ of createClient(EventService, t).subscribe({})) {
          /* drain */
        }
        return "ended";
      } catch {
        return "error";
      }
    });
    await sleep(200);
    const t0 = performance.now();
    await s.listener.close(200);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(await Promise.all(outcomes)).toEqual(["error", "error"]);
  });
});
