// TURN and STUN checks werift does not do: a probe allocation at join (a wrong secret otherwise
// stalls setLocalDescription for ~13 s without an error; an unreachable server is only skipped),
// a STUN Binding probe (which of several STUN servers answers), and releasing allocations on
// close (werift's close leaves them to expire, holding a relay port for up to 10 minutes).
import { createSocket, type Socket } from "node:dgram";
import { isIP } from "node:net";
import { Message, classes, createTurnClient, makeIntegrityKey, methods, parseMessage, type RTCPeerConnection } from "werift";
import type { ParsedIceUrl, TurnServer } from "./ice-config.js";

interface TurnLike {
  server: [string, number];
  relayedAddress?: [string, number];
  requestWithRetry(request: Message, addr: [string, number], signal?: AbortSignal): Promise<unknown>;
  getPermission(addr: [string, number]): Promise<void>;
  close(): Promise<void>;
}

function timeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<never>((_, reject) => (t = setTimeout(() => reject(new Error(what)), ms))),
  ]);
}

/** Sends a Refresh with LIFETIME 0 (RFC 8656 §7): the server frees the allocation now. */
async function release(turn: TurnLike, ms = 1000): Promise<void> {
  const req = new Message(methods.REFRESH, classes.REQUEST);
  req.setAttribute("LIFETIME", 0);
  const ac = new AbortController();
  await timeout(turn.requestWithRetry(req, turn.server, ac.signal), ms, "refresh timeout").catch(() => ac.abort());
}

const UDP_TRANSPORT = 0x11000000; // REQUESTED-TRANSPORT: UDP (17) in the top byte

/** One STUN transaction over UDP (retransmitted every 250 ms): the response, success or error. */
function exchange(sock: Socket, host: string, port: number, req: Message, deadline: number): Promise<Message> {
  return new Promise((resolve, reject) => {
    const id = req.transactionIdHex;
    const onMessage = (data: Buffer) => {
      const m = parseMessage(data);
      if (m && m.transactionIdHex === id) done(() => resolve(m));
    };
    const send = () => sock.send(req.bytes, port, host);
    const timer = setInterval(send, 250);
    const stop = setTimeout(() => done(() => reject(new Error("no answer"))), Math.max(0, deadline - Date.now()));
    const done = (f: () => void) => {
      clearInterval(timer);
      clearTimeout(stop);
      sock.off("message", onMessage);
      f();
    };
    sock.on("message", onMessage);
    send();
  });
}

const errorOf = (m: Message): [number, string] => (m.getAttributeValue("ERROR-CODE") as [number, string] | undefined) ?? [0, ""];

/**
 * The UDP probe, by hand: werift's client never reports a 401 to the authenticated request
 * (the error response fails its integrity check and it retransmits until it gives up), so a
 * wrong secret would only show as a timeout.
 */
async function probeTurnUdp(t: TurnServer, ms: number): Promise<void> {
  const family = isIP(t.host) === 6 ? "udp6" : "udp4";
  const sock = createSocket(family);
  sock.on("error", () => {});
  const deadline = Date.now() + ms;
  const what = `TURN server ${t.url}`;
  try {
    const allocate = () =>
      new Message(methods.ALLOCATE, classes.REQUEST).setAttribute("REQUESTED-TRANSPORT", UDP_TRANSPORT).setAttribute("LIFETIME", 600);
    let res = await exchange(sock, t.host, t.port, allocate(), deadline).catch(() => {
      throw new Error(`${what} did not answer in ${ms} ms`);
    });
    for (let attempt = 0; ; attempt++) {
      if (res.messageClass === classes.RESPONSE) break;
      const [code, reason] = errorOf(res);
      const realm = res.getAttributeValue("REALM") as string | undefined;
      const nonce = res.getAttributeValue("NONCE") as string | undefined;
      if (!((code === 401 || code === 438) && realm && nonce) || (attempt > 0 && code === 401)) {
        throw new Error(
          code === 401 ? `${what} refused the credentials (401 ${reason})` : `${what} refused the allocation (${code} ${reason})`,
        );
      }
      if (attempt > 2) throw new Error(`${what}: authentication does not settle (${code} ${reason})`);
      const key = makeIntegrityKey(t.username, realm, t.credential);
      const signed = (m: Message) =>
        m
          .setAttribute("USERNAME", t.username)
          .setAttribute("REALM", realm)
          .setAttribute("NONCE", nonce)
          .addMessageIntegrity(key)
          .addFingerprint();
      res = await exchange(sock, t.host, t.port, signed(allocate()), deadline).catch(() => {
        throw new Error(`${what} did not answer in ${ms} ms`);
      });
      if (res.messageClass === classes.RESPONSE) {
        // Free it at once (RFC 8656 §7: a Refresh with LIFETIME 0).
        const refresh = signed(new Message(methods.REFRESH, classes.REQUEST).setAttribute("LIFETIME", 0));
        await exchange(sock, t.host, t.port, refresh, Math.min(deadline, Date.now() + 1000)).catch(() => {});
        return;
      }
    }
  } finally {
    sock.close();
  }
}

/** Allocates once and frees it; rejects with a readable reason when the TURN server is unusable. */
export async function probeTurn(t: TurnServer, ms = 5000): Promise<void> {
  if (!t.secure && (t.transport ?? "udp") === "udp") return probeTurnUdp(t, ms);
  const client = createTurnClient(
    { address: [t.host, t.port], username: t.username, password: t.credential },
    { transport: t.secure ? "tls" : (t.transport ?? "udp"), connectTimeoutMs: ms },
  ) as unknown as Promise<TurnLike>;
  let turn: TurnLike;
  try {
    turn = await timeout(client, ms, `TURN server ${t.url} did not answer in ${ms} ms`);
  } catch (err) {
    client.then((c) => c.close()).catch(() => {});
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(reason.startsWith("TURN server") ? reason : `TURN server ${t.url}: ${reason}`);
  }
  await release(turn);
  await turn.close();
}

/** One Binding request over UDP (as werift sends it); rejects when the STUN server does not answer. */
export async function probeStun(s: ParsedIceUrl, ms = 3000): Promise<void> {
  const sock = createSocket(isIP(s.host) === 6 ? "udp6" : "udp4");
  sock.on("error", () => {});
  try {
    const res = await exchange(sock, s.host, s.port, new Message(methods.BINDING, classes.REQUEST), Date.now() + ms).catch(() => {
      throw new Error(`STUN server ${s.url} did not answer in ${ms} ms`);
    });
    if (res.messageClass !== classes.RESPONSE) throw new Error(`STUN server ${s.url} refused the request (${errorOf(res).join(" ")})`);
  } finally {
    sock.close();
  }
}

/** The TURN clients (allocations) of a peer connection: werift keeps them on each ICE connection. */
function turnClients(pc: RTCPeerConnection): TurnLike[] {
  const turns: TurnLike[] = [];
  for (const transport of pc.iceTransports) {
    const protocols = (transport.connection as unknown as { protocols?: Array<{ type?: string; turn?: TurnLike }> }).protocols ?? [];
    for (const p of protocols) if (p.type === "turn" && p.turn) turns.push(p.turn);
  }
  return turns;
}

/** Frees every TURN allocation a peer connection holds (call before pc.close()). */
export async function releaseTurnAllocations(pc: RTCPeerConnection): Promise<void> {
  await Promise.all(turnClients(pc).map((t) => release(t)));
}

/**
 * Installs a TURN permission for each allocation's own relay IP, i.e. for every peer relayed by
 * the same TURN server (permissions are per IP, RFC 8656 §9), before our description goes out.
 *
 * Without it, an allocation accepts nothing until its own side first sends (werift's
 * ChannelBind on the first check), which the offerer does only once the answer and its
 * candidates are back. The answerer's first connectivity check through the relay is dropped
 * until then, and werift gives a check 5 tries over 1.55 s: when the answer takes longer (a
 * loaded machine or server), the answerer's pair fails, it ignores the offerer's nominating
 * check meanwhile (the pair is "in progress"), and it connects only on the offerer's next
 * consent check, ~5 s later, if at all (seen in test/voice-rejoin.test.ts).
 */
export async function permitOwnRelay(pc: RTCPeerConnection, ms = 2000): Promise<void> {
  await Promise.all(
    turnClients(pc).map(async (t) => {
      const relay = t.relayedAddress;
      if (!relay) return;
      await timeout(t.getPermission([relay[0], relay[1]]), ms, "CreatePermission timeout").catch(() => {});
    }),
  );
}
