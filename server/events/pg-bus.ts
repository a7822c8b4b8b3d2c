// EventBus over PostgreSQL LISTEN/NOTIFY. Durable events are announced by seq only
// (receivers read the rows, which are committed before the announcement); ephemeral
// events and cluster state travel in the payload, split into chunks under NOTIFY's
// 8000-byte limit. Lost notifications (a listener reconnecting) are harmless for
// durable events: the feed polls the head seq and reads any gap.
//
// A process that has heard no other process for PEER_SILENCE_MS (the single-process
// deployment, the common one) sends only its own hello, heartbeats and bye: nobody would read
// the rest, and a NOTIFY per Send was a database round trip on the hot path. The first message
// from a process it did not know counts as that process's hello (state is announced to it
// then), and durable events committed meanwhile reach it through its head poll.
import { randomUUID } from "node:crypto";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import postgres from "postgres";
import { EventSchema } from "../../gen/dialtone/v1/event_pb.js";
import type { EventRow } from "../db/repos/events.js";
import type { Logger } from "../log.js";
import { BusBase, type EphemeralMessage, type EventBus, type StateMessage } from "./bus.js";

const CHANNEL = "dialtone_bus";
const CHUNK = 7000;
/** A peer silent this long is gone (the cluster heartbeat is 2 s). */
const PEER_SILENCE_MS = 10_000;

type Wire =
  | { t: "d"; p: string; s: string } // durable up to seq s
  | { t: "e"; p: string; a: EphemeralMessage["audience"]; e: string } // ephemeral, base64 Event
  | { t: "s"; p: string; m: StateMessage };

export class PgBus extends BusBase implements EventBus {
  readonly processId = randomUUID();
  private readonly sql: postgres.Sql;
  private readonly partial = new Map<string, { parts: string[]; got: number; at: number }>();
  private unlisten: (() => Promise<void>) | undefined;
  private announcing = false;
  private nextAnnounce: bigint | undefined;
  /** Other processes heard from, and when. */
  private readonly peers = new Map<string, number>();

  private constructor(
    url: string,
    private readonly log: Logger,
  ) {
    super();
    this.sql = postgres(url, { max: 2, onnotice: () => {} });
  }

  static async connect(url: string, log: Logger): Promise<PgBus> {
    const bus = new PgBus(url, log);
    const { unlisten } = await bus.sql.listen(CHANNEL, (payload) => bus.receive(payload));
    bus.unlisten = unlisten;
    return bus;
  }

  publishDurable(rows: readonly EventRow[]) {
    if (!rows.length) return;
    for (const f of this.h.durable) f(rows);
    if (!this.hasPeers()) return;
    let seq = rows[0]!.seq;
    for (const r of rows) if (r.seq > seq) seq = r.seq;
    this.announce(seq);
  }

  private hasPeers(): boolean {
    const cutoff = Date.now() - PEER_SILENCE_MS;
    for (const [p, at] of this.peers) {
      if (at >= cutoff) return true;
      this.peers.delete(p);
    }
    return false;
  }

  /**
   * One NOTIFY in flight at a time; seqs committed meanwhile are announced together by the
   * next one (seqs become visible in commit order, so the highest covers the rest). Under a
   * burst of sends this is a round trip per batch instead of per event.
   */
  private announce(seq: bigint) {
    if (this.announcing) {
      if (this.nextAnnounce === undefined || seq > this.nextAnnounce) this.nextAnnounce = seq;
      return;
    }
    this.announcing = true;
    const text = JSON.stringify({ t: "d", p: this.processId, s: seq.toString() } satisfies Wire);
    this.sql
      .notify(CHANNEL, `-:${text}`)
      .catch((err: Error) => this.log.error("bus notify failed", { name: err.name }))
      .finally(() => {
        this.announcing = false;
        const next = this.nextAnnounce;
        this.nextAnnounce = undefined;
        if (next !== undefined) this.announce(next);
      });
  }

  publishEphemeral(msg: EphemeralMessage) {
    for (const f of this.h.ephemeral) f(msg);
    if (this.hasPeers())
      this.send({ t: "e", p: this.processId, a: msg.audience, e: Buffer.from(toBinary(EventSchema, msg.event)).toString("base64") });
  }

  publishState(m: StateMessage) {
    const always = m.kind === "hello" || m.kind === "heartbeat" || m.kind === "bye";
    if (always || this.hasPeers()) this.send({ t: "s", p: this.processId, m });
  }

  async close() {
    this.clearHandlers();
    await this.unlisten?.().catch(() => {});
    await this.sql.end({ timeout: 2 });
  }

  private send(w: Wire) {
    const text = JSON.stringify(w);
    const id = randomUUID().slice(0, 8);
    const n = Math.ceil(text.length / CHUNK);
    // Each chunk: "<id>:<index>:<count>:" + part; single-chunk messages skip reassembly.
    for (let i = 0; i < n; i++) {
      const payload = n === 1 ? `-:${text}` : `${id}:${i}:${n}:${text.slice(i * CHUNK, (i + 1) * CHUNK)}`;
      this.sql.notify(CHANNEL, payload).catch((err: Error) => this.log.error("bus notify failed", { name: err.name }));
    }
  }

  private receive(payload: string) {
    let text: string | undefined;
    if (payload.startsWith("-:")) text = payload.slice(2);
    else {
      const m = /^([0-9a-f]{8}):(\d+):(\d+):/.exec(payload);
      if (!m) return;
      const [head, id, idx, count] = m;
      let entry = this.partial.get(id!);
      if (!entry) this.partial.set(id!, (entry = { parts: new Array<string>(Number(count)).fill(""), got: 0, at: Date.now() }));
      entry.parts[Number(idx)] = payload.slice(head.length);
      if (++entry.got < entry.parts.length) return this.sweep();
      this.partial.delete(id!);
      text = entry.parts.join("");
    }
    let w: Wire;
    try {
      w = JSON.parse(text) as Wire;
    } catch {
      return;
    }
    if (w.p === this.processId) return;
    const known = this.peers.has(w.p);
    if (w.t === "s" && w.m.kind === "bye") this.peers.delete(w.p);
    else this.peers.set(w.p, Date.now());
    if (!known && !(w.t === "s" && (w.m.kind === "hello" || w.m.kind === "bye"))) {
      for (const f of this.h.state) f({ kind: "hello" }, w.p);
    }
    if (w.t === "d") for (const f of this.h.announce) f(BigInt(w.s));
    else if (w.t === "e") {
      const msg = { audience: w.a, event: fromBinary(EventSchema, Buffer.from(w.e, "base64")) };
      for (const f of this.h.ephemeral) f(msg);
    } else for (const f of this.h.state) f(w.m, w.p);
  }

  private sweep() {
    const old = Date.now() - 30_000;
    for (const [id, e] of this.partial) if (e.at < old) this.partial.delete(id);
  }
}
