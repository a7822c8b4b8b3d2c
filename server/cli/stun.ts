// A minimal STUN/TURN client (RFC 8489, RFC 8656) for `dialtone-server doctor`: a Binding
// request shows the server answers; with the coturn secret, an Allocate with REST
// credentials shows the secret matches (then the allocation is released at once).
import { createHash, createHmac, randomBytes } from "node:crypto";
import dgram from "node:dgram";
import net from "node:net";
import tls from "node:tls";

const MAGIC = 0x2112a442;
const BINDING = 0x0001;
const ALLOCATE = 0x0003;
const REFRESH = 0x0004;
const ATTR = {
  username: 0x0006,
  integrity: 0x0008,
  errorCode: 0x0009,
  lifetime: 0x000d,
  realm: 0x0014,
  nonce: 0x0015,
  requestedTransport: 0x0019,
  xorMappedAddress: 0x0020,
} as const;

export interface StunTarget {
  url: string;
  host: string;
  port: number;
  transport: "udp" | "tcp" | "tls";
}

/** stun:host[:port], turn:host[:port][?transport=udp|tcp], turns:host[:port] (RFC 7064/7065). */
export function parseIceUrl(url: string): StunTarget {
  const m = /^(stuns?|turns?):(\[[^\]]+\]|[^:?]+)(?::(\d+))?(?:\?transport=(udp|tcp))?$/i.exec(url.trim());
  if (!m) throw new Error(`not a stun:/turn: URL: ${url}`);
  const scheme = m[1]!.toLowerCase();
  const secure = scheme.endsWith("s");
  const host = m[2]!.replace(/^\[|\]$/g, "");
  const port = m[3] ? Number(m[3]) : secure ? 5349 : 3478;
  const transport = secure ? "tls" : m[4]?.toLowerCase() === "tcp" ? "tcp" : "udp";
  return { url, host, port, transport };
}

type Attr = [type: number, value: Buffer];

function encode(type: number, id: Buffer, attrs: Attr[], key?: Buffer): Buffer {
  const body: Buffer[] = [];
  for (const [t, v] of attrs) {
    const h = Buffer.alloc(4);
    h.writeUInt16BE(t, 0);
    h.writeUInt16BE(v.length, 2);
    body.push(h, v, Buffer.alloc((4 - (v.length % 4)) % 4));
  }
  let payload = Buffer.concat(body);
  const header = Buffer.alloc(20);
  header.writeUInt16BE(type, 0);
  header.writeUInt32BE(MAGIC, 4);
  id.copy(header, 8);
  if (key) {
    // MESSAGE-INTEGRITY covers the message with a length that already counts itself.
    header.writeUInt16BE(payload.length + 24, 2);
    const mac = createHmac("sha1", key)
      .update(Buffer.concat([header, payload]))
      .digest();
    const h = Buffer.alloc(4);
    h.writeUInt16BE(ATTR.integrity, 0);
    h.writeUInt16BE(20, 2);
    payload = Buffer.concat([payload, h, mac]);
  }
  header.writeUInt16BE(payload.length, 2);
  return Buffer.concat([header, payload]);
}

interface Decoded {
  type: number;
  id: Buffer;
  attrs: Map<number, Buffer>;
}

function decode(buf: Buffer): Decoded | undefined {
  if (buf.length < 20 || buf.readUInt32BE(4) !== MAGIC) return undefined;
  const len = buf.readUInt16BE(2);
  if (buf.length < 20 + len) return undefined;
  const attrs = new Map<number, Buffer>();
  for (let off = 20; off + 4 <= 20 + len; ) {
    const t = buf.readUInt16BE(off);
    const l = buf.readUInt16BE(off + 2);
    attrs.set(t, buf.subarray(off + 4, off + 4 + l));
    off += 4 + l + ((4 - (l % 4)) % 4);
  }
  return { type: buf.readUInt16BE(0), id: buf.subarray(8, 20), attrs };
}

/** A STUN conversation over one socket: send a request, wait for the answer with its id. */
interface Channel {
  request(msg: Buffer, id: Buffer): Promise<Decoded>;
  close(): void;
}

async function openChannel(t: StunTarget, timeoutMs: number): Promise<Channel> {
  const waiting = new Map<string, (d: Decoded) => void>();
  const onMessage = (buf: Buffer) => {
    const d = decode(buf);
    if (d) waiting.get(d.id.toString("hex"))?.(d);
  };
  const withTimeout = (id: Buffer, send: () => void, resend?: () => void) =>
    new Promise<Decoded>((resolve, reject) => {
      const key = id.toString("hex");
      const timers: NodeJS.Timeout[] = [];
      const finish = () => {
        timers.forEach(clearTimeout);
        waiting.delete(key);
      };
      waiting.set(key, (d) => (finish(), resolve(d)));
      timers.push(setTimeout(() => (finish(), reject(new Error(`no STUN answer within ${timeoutMs / 1000} s`))), timeoutMs));
      send();
      // UDP may drop a datagram: retransmit (RFC 8489 §6.2.1, shortened).
      if (resend) for (const at of [250, 750, 1750]) if (at < timeoutMs) timers.push(setTimeout(resend, at));
    });

  if (t.transport === "udp") {
    const socket = dgram.createSocket(net.isIPv6(t.host) ? "udp6" : "udp4");
    socket.on("message", onMessage);
    socket.on("error", () => {});
    return {
      request: (msg, id) => {
        const send = () => socket.send(msg, t.port, t.host);
        return withTimeout(id, send, send);
      },
      close: () => socket.close(),
    };
  }
  const socket = await new Promise<net.Socket>((resolve, reject) => {
    const s =
      t.transport === "tls"
        ? tls.connect({ host: t.host, port: t.port, servername: net.isIP(t.host) ? undefined : t.host }, () => resolve(s))
        : net.connect({ host: t.host, port: t.port }, () => resolve(s));
    s.once("error", reject);
    s.setTimeout(timeoutMs, () => s.destroy(new Error(`no connection within ${timeoutMs / 1000} s`)));
  });
  socket.setTimeout(0);
  socket.on("error", () => {});
  let pending = Buffer.alloc(0);
  socket.on("data", (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 20 && pending.length >= 20 + pending.readUInt16BE(2)) {
      const n = 20 + pending.readUInt16BE(2);
      onMessage(pending.subarray(0, n));
      pending = pending.subarray(n);
    }
  });
  return { request: (msg, id) => withTimeout(id, () => socket.write(msg)), close: () => socket.destroy() };
}

function xorMapped(d: Decoded): string | undefined {
  const v = d.attrs.get(ATTR.xorMappedAddress);
  if (!v || v.length < 8) return undefined;
  const port = v.readUInt16BE(2) ^ (MAGIC >>> 16);
  if (v[1] === 0x01) {
    const ip = [0, 1, 2, 3].map((i) => v[4 + i]! ^ ((MAGIC >>> (24 - 8 * i)) & 0xff)).join(".");
    return `${ip}:${port}`;
  }
  return `[ipv6]:${port}`;
}

function errorCode(d: Decoded): string {
  const v = d.attrs.get(ATTR.errorCode);
  if (!v || v.length < 4) return "error";
  return `${v[2]! * 100 + v[3]!} ${v.subarray(4).toString("utf8")}`.trim();
}

/** Sends a Binding request; resolves with the address the server saw. */
export async function stunBinding(t: StunTarget, timeoutMs = 2000): Promise<{ mapped: string | undefined; rttMs: number }> {
  const ch = await openChannel(t, timeoutMs);
  try {
    const id = randomBytes(12);
    const start = performance.now();
    const res = await ch.request(encode(BINDING, id, []), id);
    if (res.type !== 0x0101) throw new Error(`Binding failed: ${errorCode(res)}`);
    return { mapped: xorMapped(res), rttMs: Math.round(performance.now() - start) };
  } finally {
    ch.close();
  }
}

/**
 * Allocates a relay with coturn REST credentials minted from `secret` (as the server
 * hands them to clients), then releases it. Resolves when the credentials are accepted.
 */
export async function turnAllocate(t: StunTarget, secret: string, timeoutMs = 3000): Promise<void> {
  const username = `${Math.floor(Date.now() / 1000) + 300}:dialtone-doctor`;
  const password = createHmac("sha1", secret).update(username).digest("base64");
  const transport: Attr = [ATTR.requestedTransport, Buffer.from([17, 0, 0, 0])];
  const ch = await openChannel(t, timeoutMs);
  try {
    let id = randomBytes(12);
    const challenge = await ch.request(encode(ALLOCATE, id, [transport]), id);
    if (challenge.type === 0x0103) return; // no authentication at all: works, though unexpected
    const realm = challenge.attrs.get(ATTR.realm);
    const nonce = challenge.attrs.get(ATTR.nonce);
    if (!realm || !nonce) throw new Error(`Allocate refused without a challenge: ${errorCode(challenge)}`);
    const key = createHash("md5")
      .update(`${username}:${realm.toString("utf8")}:${password}`)
      .digest();
    const auth: Attr[] = [
      [ATTR.username, Buffer.from(username)],
      [ATTR.realm, realm],
      [ATTR.nonce, nonce],
    ];
    id = randomBytes(12);
    const res = await ch.request(encode(ALLOCATE, id, [transport, ...auth], key), id);
    if (res.type !== 0x0103) {
      const code = errorCode(res);
      throw new Error(
        code.startsWith("401")
          ? "credentials refused (401): DIALTONE_TURN_SECRET differs from coturn's static-auth-secret"
          : `Allocate failed: ${code}`,
      );
    }
    id = randomBytes(12);
    await ch.request(encode(REFRESH, id, [[ATTR.lifetime, Buffer.alloc(4)], ...auth], key), id).catch(() => undefined);
  } finally {
    ch.close();
  }
}
