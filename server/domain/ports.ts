// What the domain needs from the live side of the server, declared here and implemented by
// server/events (the bus, the feed and its streams, presence): domain depends on these
// shapes, never on those classes.
import type { Event } from "../../gen/dialtone/v1/event_pb.js";
import type { EventRow } from "../db/repos/events.js";

/** Who receives an ephemeral event. */
export type Audience =
  | { kind: "all" }
  | { kind: "user"; userId: string }
  | { kind: "device"; deviceId: string }
  | { kind: "stream"; streamId: string };

export interface EphemeralMessage {
  event: Event;
  audience: Audience;
}

/** What a process tells the others about the state it holds. */
export type StateMessage =
  | { kind: "hello" } // a process started: the others re-announce their state
  | { kind: "heartbeat" }
  | { kind: "bye" } // a process stops: drop its state now
  | { kind: "stream-open"; streamId: string; userId: string; deviceId: string }
  | { kind: "stream-close"; streamId: string }
  | { kind: "voice-join"; channelId: string; userId: string; deviceId: string; streamId: string }
  | { kind: "voice-leave"; channelId: string; deviceId: string }
  | { kind: "session-end"; sessionKey: string }; // a Logout: end its streams, forget it

/** Tells every server process what changed. */
export interface Publisher {
  /** Committed durable events (rows as stored). */
  publishDurable(rows: readonly EventRow[]): void;
  publishEphemeral(msg: EphemeralMessage): void;
  /** Cluster state for the other processes. */
  publishState(msg: StateMessage): void;
}

/** Takes a stream's live events as they come. */
export interface Sink {
  /** Sends one event; false when the stream cannot take more for now (call resume() later). */
  write(event: Event): boolean;
  /** The stream ended: closed, or failed with `err`. */
  end(err?: Error): void;
}

/** One open event stream: its live events, queued from the moment it opened. */
export interface LiveStream {
  readonly id: string;
  /** Highest durable seq sent or skipped (at opening: the feed's head). */
  readonly lastSeq: bigint;
  /** The next event, "idle" after `idleMs` without one, or "closed"; throws the stream's failure. */
  next(idleMs: number): Promise<Event | "idle" | "closed">;
  /** From now on, events go to `sink` as they come, the queued ones first. */
  attach(sink: Sink): void;
  /** The sink can take events again. */
  resume(): void;
}

/** The open event streams of this process. */
export interface Streams {
  open(userId: string, deviceId: string, sessionKey: string): LiveStream;
  /** Idempotent. */
  close(stream: LiveStream): void;
  /** A session ended: its streams end (unauthenticated). */
  endSession(sessionKey: string): void;
  /** How many streams this process holds open for the session and for the device. */
  openCount(sessionKey: string, deviceId: string): { session: number; device: number };
}

/** One open stream anywhere in the cluster. */
export interface StreamRecord {
  streamId: string;
  userId: string;
  deviceId: string;
  processId: string;
}

/** Who is online across the cluster. */
export interface PresenceView {
  stream(streamId: string): StreamRecord | undefined;
  isOnline(userId: string): boolean;
  /** user id → ids of their connected devices. */
  onlineDevices(): Map<string, Set<string>>;
}
