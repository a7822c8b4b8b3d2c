// One port for every protocol connect-node speaks (DESIGN §3): HTTP/1.1 and h2c in cleartext,
// HTTP/1.1 and h2 by ALPN under TLS. This module never listens: server/main.ts does.
import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import type tls from "node:tls";
import type { connectNodeAdapter } from "@connectrpc/connect-node";

/** What connectNodeAdapter returns; serves http and http2 compat requests alike. */
export type NodeHandler = ReturnType<typeof connectNodeAdapter>;
type AnyRequest = http.IncomingMessage | http2.Http2ServerRequest;
type AnyResponse = http.ServerResponse | http2.Http2ServerResponse;

export interface TlsFiles {
  cert: Buffer | string;
  key: Buffer | string;
}

export interface ListenerOptions {
  tls?: TlsFiles;
  /** HTTP/1.1: time allowed to receive request headers (slowloris guard). Default 10 s. */
  headersTimeoutMs?: number;
  /** HTTP/1.1: time allowed to receive a whole request body; responses are never timed. Default 60 s. */
  requestTimeoutMs?: number;
  /** How often Node enforces the two timeouts above. Default 1 s. */
  timeoutCheckIntervalMs?: number;
  /**
   * HTTP/2: a connection with no open stream for this long gets GOAWAY and is closed (its first
   * stream must come within `headersTimeoutMs`). Default 30 s. Open event streams keep it busy.
   */
  h2IdleTimeoutMs?: number;
  /** HTTP/2: concurrent streams per connection, advertised in SETTINGS. Default 100. */
  h2MaxConcurrentStreams?: number;
  /** Open connections per client address; more are closed at once. Default 256. */
  maxConnectionsPerAddress?: number;
  /** Addresses exempt from that cap: trusted reverse proxies carry many clients. */
  isTrustedProxy?: (address: string) => boolean;
}

export interface Listener {
  /** Call `listen(port, host)` on this; it accepts every protocol. */
  readonly server: net.Server | tls.Server;
  /** Aborted when close() starts, so long-lived streams can end cleanly instead of being cut. */
  readonly closing: AbortSignal;
  /** Swaps certificate and key for new connections (SIGHUP). Throws in cleartext or on a bad pair. */
  reloadTls(cert: Buffer | string, key: Buffer | string): void;
  /**
   * Stops accepting, closes idle HTTP/1.1 connections, sends GOAWAY to HTTP/2 sessions, waits up to
   * graceMs (default 10 s) for requests in flight, then destroys what is left. Idempotent.
   */
  close(graceMs?: number): Promise<void>;
}

/** The HTTP/2 client connection preface (RFC 9113 §3.4). */
const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

export function createListener(handler: NodeHandler, opts: ListenerOptions = {}): Listener {
  const headersTimeout = opts.headersTimeoutMs ?? 10_000;
  const requestTimeout = Math.max(opts.requestTimeoutMs ?? 60_000, headersTimeout);
  const http1Options: http.ServerOptions = {
    headersTimeout,
    requestTimeout,
    connectionsCheckingInterval: opts.timeoutCheckIntervalMs ?? 1_000,
  };
  const h2Options: http2.ServerOptions = { settings: { maxConcurrentStreams: opts.h2MaxConcurrentStreams ?? 100 } };
  const h2IdleTimeout = opts.h2IdleTimeoutMs ?? 30_000;
  const maxPerAddress = opts.maxConnectionsPerAddress ?? 256;
  const perAddress = new Map<string, number>();
  const closingController = new AbortController();
  const sockets = new Set<net.Socket>();
  const sniffing = new Set<net.Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  const h1InFlight = new Map<net.Socket, number>();
  let drained: (() => void) | undefined;

  // Count HTTP/1.1 requests per socket so a socket is released as soon as it is idle during close.
  const tracked = (req: AnyRequest, res: AnyResponse): void => {
    if (req instanceof http2.Http2ServerRequest) bodyDeadline(req, requestTimeout);
    if (req instanceof http.IncomingMessage && res instanceof http.ServerResponse) {
      const socket = req.socket;
      h1InFlight.set(socket, (h1InFlight.get(socket) ?? 0) + 1);
      if (closingController.signal.aborted) res.setHeader("connection", "close");
      res.once("close", () => {
        const left = (h1InFlight.get(socket) ?? 1) - 1;
        if (left > 0) h1InFlight.set(socket, left);
        else h1InFlight.delete(socket);
        if (left === 0 && closingController.signal.aborted) socket.end();
      });
    }
    handler(req, res);
  };
  const trackSession = (session: http2.ServerHttp2Session): void => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
    closeWhenIdle(session, headersTimeout, h2IdleTimeout);
  };
  // False (and the socket destroyed) past the per-address cap.
  const trackSocket = (socket: net.Socket): boolean => {
    const address = socket.remoteAddress ?? "unknown";
    const exempt = opts.isTrustedProxy?.(address) ?? false;
    const n = perAddress.get(address) ?? 0;
    if (!exempt && n >= maxPerAddress) {
      socket.destroy();
      return false;
    }
    perAddress.set(address, n + 1);
    sockets.add(socket);
    socket.once("close", () => {
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left > 0) perAddress.set(address, left);
      else perAddress.delete(address);
      sockets.delete(socket);
      if (sockets.size === 0) drained?.();
    });
    return true;
  };

  let server: net.Server | tls.Server;
  let secure: http2.Http2SecureServer | undefined;
  let h1: http.Server | undefined;
  if (opts.tls) {
    secure = http2.createSecureServer(
      {
        allowHTTP1: true,
        cert: opts.tls.cert,
        key: opts.tls.key,
        ALPNProtocols: ["h2", "http/1.1"],
        handshakeTimeout: headersTimeout,
        ...h2Options,
      },
      tracked,
    );
    // Node applies its HTTP/1.1 timeouts to allowHTTP1 connections through these properties.
    Object.assign(secure, {
      headersTimeout: http1Options.headersTimeout,
      requestTimeout: http1Options.requestTimeout,
      connectionsCheckingInterval: http1Options.connectionsCheckingInterval,
    });
    secure.setTimeout(0); // a timeout > 0 would cut long-lived event streams
    secure.on("session", trackSession);
    secure.on("connection", (socket: net.Socket) => void trackSocket(socket));
    server = secure;
  } else {
    const h1Server = http.createServer(http1Options, tracked);
    h1Server.setTimeout(0);
    const h2 = http2.createServer(h2Options, tracked);
    h2.setTimeout(0);
    h2.on("session", trackSession);
    const outer = net.createServer({ pauseOnConnect: true }, (socket) => {
      if (!trackSocket(socket)) return;
      sniffing.add(socket);
      socket.once("close", () => sniffing.delete(socket));
      sniff(socket, headersTimeout, (isH2) => {
        sniffing.delete(socket);
        (isH2 ? h2 : h1Server).emit("connection", socket);
      });
    });
    // The inner server never listens; Node starts its timeout and connection tracking on 'listening'.
    outer.on("listening", () => h1Server.emit("listening"));
    h1 = h1Server;
    server = outer;
  }

  let closed: Promise<void> | undefined;
  const close = async (graceMs: number): Promise<void> => {
    closingController.abort(new Error("server shutting down"));
    const outerClosed = server.listening ? new Promise<void>((resolve) => server.close(() => resolve())) : undefined;
    // Closing an http server (inner, or the TLS one with allowHTTP1) also closes its idle
    // keep-alive connections and stops its timeout checker.
    h1?.close();
    for (const socket of sniffing) socket.destroy();
    for (const session of sessions) session.close(); // GOAWAY; in-flight streams may finish
    const allGone = new Promise<void>((resolve) => {
      drained = resolve;
      if (sockets.size === 0) resolve();
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([allGone, new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    for (const session of sessions) session.destroy();
    for (const socket of sockets) socket.destroy();
    await allGone;
    await outerClosed;
  };

  return {
    server,
    closing: closingController.signal,
    reloadTls(cert, key) {
      if (!secure) throw new Error("reloadTls: the listener was created without TLS");
      secure.setSecureContext({ cert, key });
    },
    close(graceMs = 10_000) {
      closed ??= close(graceMs);
      return closed;
    },
  };
}

/**
 * HTTP/2 has no headers or idle timeout of its own in Node (HTTP/1.1's do not apply): a session
 * gets `firstMs` for its first stream, then GOAWAY after `idleMs` without an open stream. A
 * client that ignores GOAWAY is cut a second later.
 */
function closeWhenIdle(session: http2.ServerHttp2Session, firstMs: number, idleMs: number): void {
  let open = 0;
  let timer: NodeJS.Timeout | undefined;
  const arm = (ms: number) => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      session.close();
      setTimeout(() => session.destroy(), 1000).unref();
    }, ms);
    timer.unref();
  };
  arm(firstMs);
  session.on("stream", (stream: http2.ServerHttp2Stream) => {
    open++;
    clearTimeout(timer);
    stream.once("close", () => {
      if (--open === 0 && !session.closed) arm(idleMs);
    });
  });
  session.once("close", () => clearTimeout(timer));
}

/** An HTTP/2 request body that has not ended `ms` after its headers: the stream is cancelled. */
function bodyDeadline(req: http2.Http2ServerRequest, ms: number): void {
  if (req.readableEnded || req.stream.endAfterHeaders) return;
  const timer = setTimeout(() => {
    if (!req.stream.destroyed) req.stream.close(http2.constants.NGHTTP2_CANCEL);
  }, ms);
  timer.unref();
  const done = () => clearTimeout(timer);
  req.stream.once("end", done);
  req.stream.once("close", done);
}

/**
 * Reads from a paused socket until its first bytes match or diverge from the HTTP/2 preface,
 * puts them back, and hands the socket on. Partial reads are fine: the decision waits for data.
 */
function sniff(socket: net.Socket, timeoutMs: number, route: (isH2: boolean) => void): void {
  let head = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    head = Buffer.concat([head, chunk]);
    const n = Math.min(head.length, PREFACE.length);
    const isPrefix = head.subarray(0, n).equals(PREFACE.subarray(0, n));
    if (isPrefix && head.length < PREFACE.length) return;
    cleanup();
    socket.pause();
    socket.unshift(head);
    route(isPrefix);
    // The inner server attaches its readers synchronously; without this resume HTTP/1.1 stalls.
    process.nextTick(() => socket.resume());
  };
  const fail = (): void => {
    cleanup();
    socket.destroy();
  };
  const cleanup = (): void => {
    socket.setTimeout(0);
    socket.off("data", onData).off("end", fail).off("error", fail).off("timeout", fail);
  };
  socket.on("data", onData).on("end", fail).on("error", fail).on("timeout", fail);
  socket.setTimeout(timeoutMs);
  socket.resume();
}

/** Answers `GET /healthz` and `GET /health` (the earlier path) with `ok`; everything else goes on. */
export function withHealth(handler: NodeHandler): NodeHandler {
  return (req, res) => {
    const path = (req.url ?? "").split("?", 1)[0];
    if ((req.method === "GET" || req.method === "HEAD") && (path === "/healthz" || path === "/health")) {
      res.writeHead(200, { "content-type": "text/plain; charset=utf-8", "content-length": 2, "cache-control": "no-store" });
      if (req.method === "GET") res.end("ok");
      else res.end();
      return;
    }
    handler(req, res);
  };
}
