// /voice join|leave|mute|unmute|deafen|undeafen|volume for the chat screen, through client/core's VoiceSession (which
// finds or starts dialtone-voiced and hands it the session and channel key over its socket).
// Calls run in the background; the header shows what is in progress and then what the daemon
// reports.
import {
  MeshSizeWatch,
  RoomStatus,
  VoiceSession,
  meshSizeNotice,
  type DialtoneClient,
  type UserView,
  type VoiceFlags,
  type VoiceState,
} from "../core/index.js";
import { errorText } from "./errors.js";

export interface VoiceHooks {
  /** A line for the active pane. */
  notice(text: string): void;
  changed(): void;
  /** The display label of a channel. */
  channelLabel(channelId: string): string;
}

type Phase = { readonly kind: "idle" } | { readonly kind: "starting" | "leaving"; readonly channelId: string };

export class VoiceControl {
  readonly #client: DialtoneClient;
  readonly #flags: VoiceFlags;
  readonly #env: NodeJS.ProcessEnv;
  readonly #hooks: VoiceHooks;
  #session: VoiceSession | undefined;
  #phase: Phase = { kind: "idle" };
  #logShown = false;
  readonly #mesh = new MeshSizeWatch();

  constructor(client: DialtoneClient, flags: VoiceFlags, hooks: VoiceHooks, env: NodeJS.ProcessEnv = process.env) {
    this.#client = client;
    this.#flags = flags;
    this.#hooks = hooks;
    this.#env = env;
  }

  get #state(): VoiceState | undefined {
    return this.#session?.state;
  }

  /** The joined room's channel (as the daemon reports it). */
  get channelId(): string | undefined {
    return this.#state?.channelId || undefined;
  }

  /** In a room, or on the way in or out (the header keeps the voice state then, however narrow). */
  get active(): boolean {
    return this.#phase.kind !== "idle" || Boolean(this.channelId);
  }

  /** "voice: off", "voice: starting #x", "voice: connecting #x", "voice: #x (muted)", ... */
  label(): string {
    const s = this.#state;
    const ch = (id: string) => `#${this.#hooks.channelLabel(id)}`;
    if (this.#phase.kind !== "idle") return `voice: ${this.#phase.kind} ${ch(this.#phase.channelId)}`;
    if (!s?.channelId || s.status === RoomStatus.IDLE) return "voice: off";
    if (s.status === RoomStatus.JOINING) return `voice: connecting ${ch(s.channelId)}`;
    if (s.status === RoomStatus.RECONNECTING) return "voice: reconnecting";
    return `voice: ${ch(s.channelId)}${s.deafened ? " (deafened)" : s.muted ? " (muted)" : ""}${s.speaking ? " ●" : ""}`;
  }

  /** The voice state in a word ("voice", "muted", "joining"), for a narrow header. */
  shortLabel(): string {
    if (this.#phase.kind !== "idle") return this.#phase.kind === "leaving" ? "leaving" : "joining";
    const s = this.#state;
    if (!s?.channelId || s.status === RoomStatus.IDLE) return "";
    return s.deafened ? "deaf" : s.muted ? "muted" : s.status === RoomStatus.JOINED ? "voice" : "joining";
  }

  /** Whether a member of the joined room is heard now (the local user: their microphone is open). */
  speaking(userId: string): boolean {
    const s = this.#state;
    if (!s) return false;
    if (userId === this.#client.me.userId) return s.speaking;
    return s.members.some((m) => m.userId === userId && m.speaking);
  }

  /**
   * A word for the voice pane beside a member (short: the pane is 25 columns): "deaf" for oneself
   * when deafened, a volume other than 100 % for others.
   */
  memberNote(userId: string): string {
    const s = this.#state;
    if (!s?.channelId) return "";
    if (userId === this.#client.me.userId) return s.deafened ? "deaf" : "";
    const v = s.volumes[userId];
    return v === undefined ? "" : `${v}%`;
  }

  #sessionFor(): VoiceSession {
    if (!this.#session) {
      const session = new VoiceSession(this.#client, this.#flags, this.#env);
      session.on("update", (u) => {
        if (u.kind === "info") this.#hooks.notice(`voice info: ${u.message}`);
        else if (u.kind === "error") this.#hooks.notice(`voice error: ${u.message}`);
        else if (this.#mesh.update(u.state.channelId || undefined, u.state.members.length + 1))
          this.#hooks.notice(`voice: ${meshSizeNotice(u.state.members.length + 1, `#${this.#hooks.channelLabel(u.state.channelId)}`)}`);
        this.#hooks.changed();
      });
      this.#session = session;
    }
    return this.#session;
  }

  #task(phase: Phase, done: string | undefined, fn: (s: VoiceSession) => Promise<void>): void {
    const session = this.#sessionFor();
    this.#phase = phase;
    this.#hooks.changed();
    fn(session).then(
      () => {
        this.#phase = { kind: "idle" };
        if (!this.#logShown && session.logFile) {
          this.#logShown = true;
          this.#hooks.notice(`voice log: ${session.logFile}`);
        }
        if (done) this.#hooks.notice(done);
        this.#hooks.changed();
      },
      (err: unknown) => {
        this.#phase = { kind: "idle" };
        this.#hooks.notice(`voice error: ${errorText(err)}`);
        this.#hooks.changed();
      },
    );
  }

  join(channelId: string): void {
    this.#hooks.notice(this.#session?.state ? "voice join requested" : "starting voice daemon...");
    this.#task({ kind: "starting", channelId }, "voice connected", (s) => s.join(channelId));
  }

  leave(): void {
    const id = this.channelId;
    if (!id) {
      this.#hooks.notice("voice: not in a voice channel");
      return;
    }
    this.#task({ kind: "leaving", channelId: id }, "left voice", (s) => s.leave());
  }

  setMuted(muted: boolean): void {
    // The daemon keeps the setting for the next join: say so when no room is joined.
    const later = this.channelId ? "" : " (for the next voice join)";
    this.#task({ kind: "idle" }, `${muted ? "microphone muted" : "microphone open"}${later}`, (s) => s.setMuted(muted));
  }

  setDeafened(deafened: boolean): void {
    const later = this.channelId ? "" : " (for the next voice join)";
    this.#task({ kind: "idle" }, `${deafened ? "deafened: nothing is played and your microphone is muted" : "undeafened"}${later}`, (s) =>
      s.setDeafened(deafened),
    );
  }

  /** Sets and remembers one person's volume (handed to every later daemon at join). */
  setVolume(user: UserView, percent: number): void {
    const later = this.channelId ? "" : " (remembered for your next voice join)";
    this.#task({ kind: "idle" }, `${user.label}: volume ${percent} %${later}`, async (s) => {
      await s.setVolume(user.userId, percent);
    });
  }

  /** On quit: a daemon this UI started is stopped; one found running leaves its room and keeps running. */
  async close(): Promise<void> {
    const session = this.#session;
    if (!session) return;
    this.#session = undefined;
    if (session.spawnedDaemon) await session.shutdown().catch(() => {});
    else if (session.state?.channelId) await session.leave().catch(() => {});
    await session.close();
  }
}
