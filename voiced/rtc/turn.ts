// TURN checks werift does not do: a probe allocation at join (a wrong secret otherwise stalls
// setLocalDescription for ~13 s without an error), and releasing allocations on close
// (werift's close leaves them to expire, holding a relay port for up to 10 minutes).
import { Message, classes, createTurnClient, methods, type RTCPeerConnection } from "werift";
import type { IceConfig } from "./ice-config.js";

interface TurnLike {
  server: [string, number];
  requestWithRetry(request: Message, addr: [string, number], signal?: AbortSignal): Promise<unknown>;
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

/** Allocates once and frees it; rejects with a readable reason when the TURN server is unusable. */
export async function probeTurn(config: IceConfig, ms = 5000): Promise<void> {
  const t = config.turn;
  if (!t) return;
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
    throw new Error(/40[13]|Unauthorized|Forbidden/i.test(reason) ? `TURN server ${t.url} refused the credentials (${reason})` : `TURN server ${t.url}: ${reason}`);
  }
  await release(turn);
  await turn.close();
}

/** Frees every TURN allocation a peer connection holds (call before pc.close()). */
export async function releaseTurnAllocations(pc: RTCPeerConnection): Promise<void> {
  const turns: TurnLike[] = [];
  for (const transport of pc.iceTransports) {
    const protocols = (transport.connection as unknown as { protocols?: Array<{ type?: string; turn?: TurnLike }> }).protocols ?? [];
    for (const p of protocols) if (p.type === "turn" && p.turn) turns.push(p.turn);
  }
  await Promise.all(turns.map((t) => release(t)));
}
