// The signals peers exchange (sealed end to end by session/signaling.ts; the server relays
// ciphertext only). `sid` names one connection attempt, so stale signals are ignored.
import type { CandidateInit } from "./peer.js";

export type SignalMessage =
  | { t: "offer"; sid: string; sdp: string }
  | { t: "answer"; sid: string; sdp: string }
  | { t: "candidate"; sid: string; c: CandidateInit }
  /**
   * "My side of `sid` is connected: send me audio" (werift's sender can be connected first);
   * `ka`: I send a keep-alive at least this often (ms) while silent, so my silence means a
   * broken path.
   */
  | { t: "ready"; sid: string; ka?: number }
  /**
   * From the answerer: "`sid` failed: restart it" or, with reason "refresh", "I have fresh TURN
   * credentials: restart ICE so that they are used".
   */
  | { t: "restart"; sid: string; reason?: "refresh" };

const MAX_TEXT = 60 * 1024;

/** Parses and checks a decrypted signal; throws on anything malformed. */
export function parseSignal(text: string): SignalMessage {
  if (text.length > MAX_TEXT) throw new Error("signal too large");
  const parsed: unknown = JSON.parse(text);
  // Found by the fuzzer (voice-signal): "null", "[]" or "5" are JSON too.
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("signal: not a JSON object");
  const v = parsed as Record<string, unknown>;
  const sid = v.sid;
  if (typeof sid !== "string" || sid.length < 8 || sid.length > 64) throw new Error("signal: bad sid");
  switch (v.t) {
    case "offer":
    case "answer":
      if (typeof v.sdp !== "string" || !v.sdp.startsWith("v=0")) throw new Error(`signal: bad ${v.t} sdp`);
      return { t: v.t, sid, sdp: v.sdp };
    case "candidate": {
      const c = v.c as Record<string, unknown> | undefined;
      if (!c || typeof c.candidate !== "string") throw new Error("signal: bad candidate");
      return {
        t: "candidate",
        sid,
        c: {
          candidate: c.candidate,
          ...(typeof c.sdpMid === "string" ? { sdpMid: c.sdpMid } : {}),
          ...(typeof c.sdpMLineIndex === "number" ? { sdpMLineIndex: c.sdpMLineIndex } : {}),
        },
      };
    }
    case "ready":
      if (v.ka !== undefined && !(Number.isInteger(v.ka) && (v.ka as number) > 0 && (v.ka as number) <= 10_000))
        throw new Error("signal: bad ready ka");
      return v.ka === undefined ? { t: v.t, sid } : { t: v.t, sid, ka: v.ka as number };
    case "restart":
      return v.reason === "refresh" ? { t: "restart", sid, reason: "refresh" } : { t: "restart", sid };
    default:
      throw new Error("signal: unknown type");
  }
}
