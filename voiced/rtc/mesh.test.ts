import { expect, test } from "@jest/globals";
import { Mesh, receiveStalled, type MeshOptions } from "./mesh.js";
import type { IceServer } from "./ice-config.js";
import type { CandidateInit, Peer, PeerState, RtpIn } from "./peer.js";
import { parseSignal, type SignalMessage } from "./signal.js";

/** Fake peers: connected once both descriptions are applied and a remote candidate was added. */
class FakePeer implements Peer {
  static all: FakePeer[] = [];
  static byId = new Map<string, FakePeer>();
  /** When set, ICE restarts end in "failed". */
  static failRestarts = false;
  /** When set, descriptions carry the candidates found while they were made, as werift's do. */
  static candidatesInSdp = false;
  /** Every remote candidate added, in order. */
  added: string[] = [];
  /** The ICE servers each restart was given. */
  restartServers: Array<IceServer[] | undefined> = [];
  private restarting = false;
  readonly id = `p${FakePeer.all.length}`;
  state: PeerState = "new";
  closed = false;
  remoteSet = false;
  localSet = false;
  remoteCandidates = 0;
  counterpart: string | undefined;
  private cand: Array<(c: CandidateInit) => void> = [];
  private stateCbs: Array<(s: PeerState) => void> = [];
  private rtpCbs: Array<(p: RtpIn) => void> = [];
  constructor() {
    FakePeer.all.push(this);
    FakePeer.byId.set(this.id, this);
  }
  private hostCandidate() {
    return `candidate:1 1 udp 1 10.0.0.1 ${this.id.length} typ host`;
  }
  private description(extra = "") {
    return `v=0\r\no=${this.id}\r\n${extra}${FakePeer.candidatesInSdp ? `a=${this.hostCandidate()}\r\n` : ""}`;
  }
  private gather() {
    // werift finds candidates while setLocalDescription runs, before it returns.
    for (const cb of this.cand) cb({ candidate: this.hostCandidate(), sdpMid: "0" });
    setImmediate(() => this.cand.forEach((cb) => cb({ candidate: "candidate:2 1 udp 1 10.0.0.2 2 typ relay", sdpMid: "0" })));
  }
  async createOffer() {
    this.localSet = true;
    this.gather();
    return this.description();
  }
  async acceptOffer(sdp: string) {
    this.counterpart = /o=(\S+)/.exec(sdp)![1];
    this.remoteSet = this.localSet = true;
    this.gather();
    return this.description();
  }
  async acceptAnswer(sdp: string) {
    this.counterpart = /o=(\S+)/.exec(sdp)![1];
    this.remoteSet = true;
    if (this.restarting) this.finishRestart();
    else this.maybeConnect();
  }
  async restartIce(servers?: IceServer[]) {
    this.restarting = true;
    this.restartServers.push(servers);
    this.gather();
    return `v=0\r\no=${this.id}\r\ns=restart\r\n`;
  }
  async acceptRestart(_sdp: string, servers?: IceServer[]) {
    this.restarting = true;
    this.restartServers.push(servers);
    this.gather();
    setImmediate(() => this.finishRestart());
    return `v=0\r\no=${this.id}\r\ns=restart\r\n`;
  }
  private finishRestart() {
    this.restarting = false;
    this.setState(FakePeer.failRestarts ? "failed" : "connected");
  }
  async addRemoteCandidate(c: CandidateInit) {
    if (!this.remoteSet) throw new Error("candidate before remote description");
    this.added.push(c.candidate);
    this.remoteCandidates++;
    this.maybeConnect();
  }
  private maybeConnect() {
    if (this.state === "new" && this.remoteSet && this.localSet && this.remoteCandidates > 0) this.setState("connected");
  }
  setState(s: PeerState) {
    this.state = s;
    this.stateCbs.forEach((cb) => cb(s));
  }
  onLocalCandidate(cb: (c: CandidateInit) => void) {
    this.cand.push(cb);
  }
  onStateChange(cb: (s: PeerState) => void) {
    this.stateCbs.push(cb);
  }
  onRtp(cb: (p: RtpIn) => void) {
    this.rtpCbs.push(cb);
  }
  deliver(p: RtpIn) {
    this.rtpCbs.forEach((cb) => cb(p));
  }
  sendRtp(payload: Uint8Array, seq: number, timestamp: number, marker: boolean) {
    const other = FakePeer.byId.get(this.counterpart ?? "");
    if (other && !other.closed) other.deliver({ payload, seq, timestamp, marker });
  }
  async selectedCandidateType() {
    return "relay";
  }
  async close() {
    this.closed = true;
    this.state = "closed";
  }
}

const A = "00000000-0000-4000-8000-00000000000a";
const B = "00000000-0000-4000-8000-00000000000b";

function pair(o: { hold?: (from: string, msg: SignalMessage) => boolean; mesh?: Partial<MeshOptions> } = {}) {
  const meshes = new Map<string, Mesh>();
  const sent: Array<{ from: string; to: string; msg: SignalMessage }> = [];
  const held: Array<() => void> = [];
  const rtp: Record<string, RtpIn[]> = { [A]: [], [B]: [] };
  const make = (me: string) =>
    new Mesh(
      {
        localDeviceId: me,
        factory: () => new FakePeer(),
        peerOptions: { iceServers: [], relayOnly: false },
        connectTimeoutMs: 60_000,
        ...o.mesh,
      },
      {
        send: async (to, msg) => {
          sent.push({ from: me, to, msg });
          const go = () => setImmediate(() => meshes.get(to)?.handleSignal(me, msg));
          if (o.hold?.(me, msg)) held.push(go);
          else go();
        },
        onRtp: (_from, p) => rtp[me]!.push(p),
        onChange: () => {},
        log: () => {},
      },
    );
  meshes.set(A, make(A));
  meshes.set(B, make(B));
  return { a: meshes.get(A)!, b: meshes.get(B)!, sent, held, rtp };
}

async function until(pred: () => boolean, ms = 2000) {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 5));
  }
}

const ready = (m: Mesh, id: string) => m.snapshot().some((p) => p.deviceId === id && p.ready);

test("glare-free: both learn of each other at once, only the lower device id offers; audio flows after ready", async () => {
  const { a, b, sent, rtp } = pair();
  a.setMembers([A, B]);
  b.setMembers([A, B]);
  await until(() => ready(a, B) && ready(b, A));
  const offers = sent.filter((s) => s.msg.t === "offer");
  expect(offers.map((s) => s.from)).toEqual([A]);
  // The offer goes out before any of its candidates (queued while it was being made).
  const firstCandidate = sent.findIndex((s) => s.from === A && s.msg.t === "candidate");
  expect(firstCandidate).toBeGreaterThan(sent.findIndex((s) => s.msg.t === "offer"));
  expect(a.sendRtp(new Uint8Array([1]), 7, 960, true)).toBe(1);
  expect(b.sendRtp(new Uint8Array([2]), 9, 960, false)).toBe(1);
  expect(rtp[B]!.map((p) => p.seq)).toEqual([7]);
  expect(rtp[A]!.map((p) => p.seq)).toEqual([9]);
  expect(a.snapshot()[0]).toMatchObject({ deviceId: B, state: "connected", ready: true, candidateType: "relay" });
  await a.close();
  await b.close();
});

test("candidates that arrive before the offer are kept until the remote description is set", async () => {
  const { a, b, held } = pair({ hold: (from, msg) => from === A && msg.t === "offer" });
  a.setMembers([B]);
  b.setMembers([A]);
  await until(() => held.length === 1);
  await new Promise((r) => setTimeout(r, 30)); // A's candidates reach B first
  held[0]!();
  await until(() => ready(a, B) && ready(b, A));
  await a.close();
  await b.close();
});

test("no audio is sent to a peer until it says it is ready", async () => {
  const { a, b } = pair({ hold: (from, msg) => from === B && msg.t === "ready" });
  a.setMembers([B]);
  b.setMembers([A]);
  await until(() => a.snapshot()[0]?.state === "connected");
  await new Promise((r) => setTimeout(r, 20));
  expect(a.snapshot()[0]!.ready).toBe(false);
  expect(a.sendRtp(new Uint8Array([1]), 1, 1, false)).toBe(0);
  await a.close();
  await b.close();
});

const livePeers = () => FakePeer.all.filter((p) => !p.closed);
const answererPeer = (sent: Array<{ from: string; msg: SignalMessage }>) =>
  livePeers().find((p) => sent.some((s) => s.from === B && s.msg.t === "answer" && s.msg.sdp.includes(`o=${p.id}\r`)))!;

test("a failed connection restarts ICE in place: the answerer asks, the offerer re-offers the same connection", async () => {
  let answers = 0;
  const { a, b, sent, rtp, held } = pair({ hold: (from, msg) => from === B && msg.t === "answer" && answers++ >= 1 });
  a.setMembers([B]);
  b.setMembers([A]);
  await until(() => ready(a, B) && ready(b, A));
  const firstSid = sent.find((s) => s.msg.t === "offer")!.msg.sid;
  const peers = livePeers().length;
  answererPeer(sent).setState("failed");
  await until(() => sent.filter((s) => s.msg.t === "offer").length === 2, 3000);
  expect(sent.some((s) => s.from === B && s.msg.t === "restart" && s.msg.sid === firstSid)).toBe(true);
  // No audio while the restart waits for its answer.
  await until(() => held.length === 1);
  expect(a.sendRtp(new Uint8Array([1]), 1, 1, false)).toBe(0);
  held[0]!();
  await until(() => ready(a, B) && ready(b, A));
  const restartOffer = sent.filter((s) => s.msg.t === "offer")[1]!;
  expect(restartOffer.msg.sid).toBe(firstSid);
  expect(livePeers().length).toBe(peers); // the same connections, none new
  // Its candidates follow the restart offer.
  expect(sent.findIndex((s, i) => i > sent.indexOf(restartOffer) && s.from === A && s.msg.t === "candidate")).toBeGreaterThan(
    sent.indexOf(restartOffer),
  );
  expect(a.sendRtp(new Uint8Array([1]), 5, 1, false)).toBe(1);
  expect(rtp[B]!.map((p) => p.seq)).toContain(5);
  await a.close();
  await b.close();
});

test("when the ICE restart fails too, a fresh connection replaces it", async () => {
  const { a, b, sent } = pair();
  a.setMembers([B]);
  b.setMembers([A]);
  await until(() => ready(a, B) && ready(b, A));
  const firstSid = sent.find((s) => s.msg.t === "offer")!.msg.sid;
  FakePeer.failRestarts = true;
  try {
    answererPeer(sent).setState("failed");
    await until(() => sent.some((s) => s.msg.t === "offer" && s.msg.sid !== firstSid), 5000);
  } finally {
    FakePeer.failRestarts = false;
  }
  await until(() => ready(a, B) && ready(b, A), 3000);
  expect(sent.filter((s) => s.msg.t === "offer" && s.msg.sid === firstSid).length).toBe(2); // the first and the restart
  await a.close();
  await b.close();
});

test("a second failure soon after an ICE restart gets a fresh connection, not another restart (no restart loop)", async () => {
  const { a, b, sent } = pair();
  a.setMembers([B]);
  b.setMembers([A]);
  await until(() => ready(a, B) && ready(b, A));
  const firstSid = sent.find((s) => s.msg.t === "offer")!.msg.sid;
  answererPeer(sent).setState("failed");
  await until(() => sent.filter((s) => s.msg.t === "offer").length === 2, 3000);
  await until(() => ready(a, B) && ready(b, A), 3000);
  // The restarted connection fails again at once: within the window, no second in-place restart.
  answererPeer(sent).setState("failed");
  await until(() => sent.some((s) => s.msg.t === "offer" && s.msg.sid !== firstSid), 5000);
  await until(() => ready(a, B) && ready(b, A), 3000);
  expect(sent.filter((s) => s.msg.t === "offer" && s.msg.sid === firstSid).length).toBe(2); // the first and one restart
  await a.close();
  await b.close();
});

test("fresh ICE servers: connected peers restart ICE with them on both sides, new peers start with them", async () => {
  const { a, b, sent } = pair();
  a.setMembers([B]);
  b.setMembers([A]);
  await until(() => ready(a, B) && ready(b, A));
  const fresh: IceServer[] = [{ urls: ["turn:127.0.0.1:3478"], username: "2:u", credential: "new" }];
  const offersBefore = sent.filter((s) => s.msg.t === "offer").length;
  b.updateIceServers(fresh, true); // the answerer asks for a restart
  a.updateIceServers(fresh, false);
  await until(() => sent.filter((s) => s.msg.t === "offer").length === offersBefore + 1);
  await until(() => ready(a, B) && ready(b, A));
  const [pa, pb] = [
    livePeers().find((p) => sent.some((s) => s.from === A && s.msg.t === "offer" && s.msg.sdp.includes(`o=${p.id}\r`)))!,
    answererPeer(sent),
  ];
  expect(pa.restartServers).toEqual([fresh]);
  expect(pb.restartServers).toEqual([fresh]);
  await a.close();
  await b.close();
});

test("a device that leaves is closed; signals from strangers other than offers are ignored", async () => {
  const { a, b } = pair();
  a.setMembers([B]);
  b.setMembers([A]);
  await until(() => ready(a, B));
  const before = FakePeer.all.filter((p) => !p.closed).length;
  a.remove(B);
  expect(a.snapshot()).toEqual([]);
  await until(() => FakePeer.all.filter((p) => !p.closed).length === before - 1);
  a.handleSignal("00000000-0000-4000-8000-00000000000c", { t: "candidate", sid: "xxxxxxxxxxxx", c: { candidate: "candidate:1" } });
  expect(a.snapshot()).toEqual([]);
  await b.close();
  await a.close();
});

test("receive watchdog rules: only a ready peer that promised keep-alives, silent for the timeout since ready or its last packet", () => {
  const base = { ready: true, remoteKeepAliveMs: 300, readyAt: 1000, lastRtpAt: 0, now: 3999, timeoutMs: 3000 };
  expect(receiveStalled(base)).toBe(false); // 2999 ms since ready
  expect(receiveStalled({ ...base, now: 4000 })).toBe(true);
  expect(receiveStalled({ ...base, now: 4000, lastRtpAt: 2000 })).toBe(false); // a packet (keep-alive) 2 s ago
  expect(receiveStalled({ ...base, now: 5000, lastRtpAt: 2000 })).toBe(true);
  expect(receiveStalled({ ...base, now: 60_000, ready: false })).toBe(false); // not ready (connecting, restarting)
  expect(receiveStalled({ ...base, now: 60_000, remoteKeepAliveMs: 0 })).toBe(false); // an older peer: silence means nothing
  expect(receiveStalled({ ...base, now: 4000, remoteKeepAliveMs: 2000 })).toBe(false); // at least 3 keep-alive intervals
  expect(receiveStalled({ ...base, now: 7000, remoteKeepAliveMs: 2000 })).toBe(true);
});

/** Meshes whose watchdog runs on a clock the test moves. */
function watchedPair(keepAliveMs: { a?: number; b?: number }) {
  let now = 1_000_000;
  const opts = (ka: number | undefined): Partial<MeshOptions> => ({
    now: () => now,
    watchdogIntervalMs: 5,
    stallTimeoutMs: 3000,
    ...(ka ? { keepAliveMs: ka } : {}),
  });
  const meshes = new Map<string, Mesh>();
  const sent: Array<{ from: string; to: string; msg: SignalMessage }> = [];
  const make = (me: string, ka: number | undefined) =>
    new Mesh(
      {
        localDeviceId: me,
        factory: () => new FakePeer(),
        peerOptions: { iceServers: [], relayOnly: false },
        connectTimeoutMs: 60_000,
        ...opts(ka),
      },
      {
        send: async (to, msg) => {
          sent.push({ from: me, to, msg });
          setImmediate(() => meshes.get(to)?.handleSignal(me, msg));
        },
        onRtp: () => {},
        onChange: () => {},
        log: () => {},
      },
    );
  meshes.set(A, make(A, keepAliveMs.a));
  meshes.set(B, make(B, keepAliveMs.b));
  return { a: meshes.get(A)!, b: meshes.get(B)!, sent, advance: (ms: number) => (now += ms) };
}

const tick = () => new Promise((r) => setTimeout(r, 30)); // several watchdog rounds

test("receive watchdog: a ready peer that sends nothing for 3 s gets an ICE restart (the offerer re-offers the same connection)", async () => {
  const { a, b, sent, advance } = watchedPair({ a: 300, b: 300 });
  a.setMembers([B]);
  b.setMembers([A]);
  await until(() => ready(a, B) && ready(b, A));
  const sid = sent.find((s) => s.msg.t === "offer")!.msg.sid;
  expect(sent.filter((s) => s.msg.t === "ready").every((s) => s.msg.t === "ready" && s.msg.ka === 300)).toBe(true);
  advance(2900);
  await tick();
  expect(sent.filter((s) => s.msg.t === "offer").length).toBe(1);
  advance(200); // 3.1 s of nothing from either side
  await until(() => sent.filter((s) => s.msg.t === "offer").length === 2);
  expect(sent.filter((s) => s.msg.t === "offer")[1]!.msg.sid).toBe(sid); // in place, not a fresh connection
  await until(() => ready(a, B) && ready(b, A));
  await a.close();
  await b.close();
});

test("receive watchdog: the answerer that hears nothing asks the offerer for a restart, once per readiness", async () => {
  const { a, b, sent, advance } = watchedPair({ a: 300, b: 300 });
  a.setMembers([B]);
  b.setMembers([A]);
  await until(() => ready(a, B) && ready(b, A));
  // B hears nothing while A keeps hearing B's keep-alives.
  for (let i = 0; i < 12; i++) {
    advance(300);
    b.sendRtp(new Uint8Array([72]), i, i * 960, false);
    await new Promise((r) => setImmediate(r));
  }
  await until(() => sent.some((s) => s.from === B && s.msg.t === "restart"));
  await until(() => sent.filter((s) => s.msg.t === "offer").length === 2);
  await until(() => ready(a, B) && ready(b, A));
  expect(sent.filter((s) => s.from === B && s.msg.t === "restart").length).toBe(1);
  await a.close();
  await b.close();
});

test("receive watchdog: packets (keep-alives) keep a quiet peer alive; a peer that promised none is never restarted for silence", async () => {
  const { a, b, sent, advance } = watchedPair({ a: 300, b: 300 });
  a.setMembers([B]);
  b.setMembers([A]);
  await until(() => ready(a, B) && ready(b, A));
  for (let i = 0; i < 40; i++) {
    advance(300); // 12 s, a keep-alive every 300 ms each way
    a.sendRtp(new Uint8Array([72]), i, i * 960, false);
    b.sendRtp(new Uint8Array([72]), i, i * 960, false);
    await new Promise((r) => setImmediate(r));
  }
  await tick();
  expect(sent.filter((s) => s.msg.t === "offer" || s.msg.t === "restart").length).toBe(1);
  await a.close();
  await b.close();

  const old = watchedPair({}); // neither promises keep-alives (an older daemon)
  old.a.setMembers([B]);
  old.b.setMembers([A]);
  await until(() => ready(old.a, B) && ready(old.b, A));
  old.advance(60_000);
  await tick();
  expect(old.sent.filter((s) => s.msg.t === "offer" || s.msg.t === "restart").length).toBe(1);
  await old.a.close();
  await old.b.close();
});

test("a ready signal carries the keep-alive interval; a bad one is refused", () => {
  expect(parseSignal(JSON.stringify({ t: "ready", sid: "abcdefghijkl", ka: 300 }))).toEqual({ t: "ready", sid: "abcdefghijkl", ka: 300 });
  expect(parseSignal(JSON.stringify({ t: "ready", sid: "abcdefghijkl" }))).toEqual({ t: "ready", sid: "abcdefghijkl" });
  expect(() => parseSignal(JSON.stringify({ t: "ready", sid: "abcdefghijkl", ka: -1 }))).toThrow(/ka/);
  expect(() => parseSignal(JSON.stringify({ t: "ready", sid: "abcdefghijkl", ka: "300" }))).toThrow(/ka/);
});

test("candidates already in a description are not trickled again nor added twice (werift would pair them twice)", async () => {
  FakePeer.candidatesInSdp = true;
  try {
    const { a, b, sent } = pair();
    a.setMembers([B]);
    b.setMembers([A]);
    await until(() => ready(a, B) && ready(b, A));
    await new Promise((r) => setTimeout(r, 20)); // late (relay) candidates trickled
    const trickled = sent.filter((s) => s.msg.t === "candidate").map((s) => (s.msg.t === "candidate" ? s.msg.c.candidate : ""));
    expect(trickled.length).toBeGreaterThan(0); // the relay ones, found after the description
    expect(trickled.every((c) => c.includes("typ relay"))).toBe(true);
    // A signal that repeats a described candidate anyway (an older daemon) is not added again.
    const described = (t: "offer" | "answer") => {
      const m = sent.find((s) => s.msg.t === t)!.msg;
      return { sid: m.sid, candidate: /a=(candidate:[^\r\n]*)/.exec(m.t === t ? m.sdp : "")![1]! };
    };
    const bPeer = answererPeer(sent);
    const before = bPeer.added.length;
    const [offered, answered] = [described("offer"), described("answer")];
    b.handleSignal(A, { t: "candidate", sid: offered.sid, c: { candidate: offered.candidate } });
    a.handleSignal(B, { t: "candidate", sid: answered.sid, c: { candidate: answered.candidate } });
    await new Promise((r) => setTimeout(r, 20));
    expect(bPeer.added.length).toBe(before);
    expect(livePeers().every((p) => p.added.every((c) => c.includes("typ relay")))).toBe(true);
    await a.close();
    await b.close();
  } finally {
    FakePeer.candidatesInSdp = false;
  }
});
