// The client address used for rate limits. Behind a reverse proxy every request comes from the
// proxy, so when the socket peer is a trusted proxy the address is read from X-Forwarded-For:
// the rightmost entry that is not itself a trusted proxy (entries further left are whatever the
// client chose to send and cannot be believed).
import { BlockList, isIP } from "node:net";

export class TrustedProxies {
  readonly #list = new BlockList();
  readonly size: number;

  /** `specs`: addresses or CIDR ranges ("10.0.0.0/8", "::1"). Throws on a malformed entry. */
  constructor(specs: readonly string[]) {
    for (const spec of specs) {
      const [addr, bits, extra] = spec.split("/");
      const family = isIP(addr ?? "");
      if (!family || extra !== undefined) throw new Error(`"${spec}" is not an IP address or CIDR range`);
      const type = family === 6 ? "ipv6" : "ipv4";
      if (bits === undefined) {
        this.#list.addAddress(addr!, type);
        continue;
      }
      const prefix = Number(bits);
      if (!/^\d{1,3}$/.test(bits) || prefix > (family === 6 ? 128 : 32)) throw new Error(`"${spec}" has a bad prefix length`);
      this.#list.addSubnet(addr!, prefix, type);
    }
    this.size = specs.length;
  }

  has(address: string): boolean {
    const plain = unmapped(address);
    const family = isIP(plain);
    return family !== 0 && this.#list.check(plain, family === 6 ? "ipv6" : "ipv4");
  }
}

/** "::ffff:10.1.2.3" (an IPv4 client on a dual-stack socket) → "10.1.2.3". */
function unmapped(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? m[1]! : address;
}

/** The address to count a request against. */
export function clientAddress(
  socketAddress: string | undefined,
  forwardedFor: string | string[] | undefined,
  trusted: TrustedProxies,
): string {
  const peer = socketAddress ? unmapped(socketAddress) : "unknown";
  if (trusted.size === 0 || !trusted.has(peer) || forwardedFor === undefined) return peer;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(",") : forwardedFor)
    .split(",")
    .map((h) => unmapped(h.trim().replace(/^\[(.*)\]$/, "$1")))
    .filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!;
    if (!isIP(hop)) return peer; // a garbled header from a trusted proxy: fall back to the proxy
    if (!trusted.has(hop)) return hop;
  }
  return hops[0] ?? peer;
}
