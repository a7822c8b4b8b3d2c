// coturn REST credentials (use-auth-secret): username "expiry:user_id", password
// base64(HMAC-SHA1(secret, username)). Short-lived: never a shared static password.
import { createHmac } from "node:crypto";

export interface IceServerInit {
  urls: string[];
  username: string;
  credential: string;
}

export function iceServers(
  urls: readonly string[],
  secret: string | undefined,
  userId: string,
  ttlSeconds: number,
  nowMs: number,
): IceServerInit[] {
  if (!urls.length) return [];
  const stun = urls.filter((u) => u.startsWith("stun:"));
  const turn = urls.filter((u) => !u.startsWith("stun:"));
  const out: IceServerInit[] = [];
  if (stun.length) out.push({ urls: stun, username: "", credential: "" });
  if (turn.length && secret) {
    const username = `${Math.floor(nowMs / 1000) + ttlSeconds}:${userId}`;
    const credential = createHmac("sha1", secret).update(username).digest("base64");
    out.push({ urls: turn, username, credential });
  }
  return out;
}
