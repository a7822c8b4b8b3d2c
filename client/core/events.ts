// What a DialtoneClient tells its UI: every event name and payload, in decrypted terms.
import type { VoiceJoined, VoiceLeft, VoiceSignal } from "../../gen/dialtone/v1/event_pb.js";
import type { IdentityStatus } from "./identity.js";
import type { KeyScope } from "./keys.js";
import type { ChatMessage } from "./messages.js";
import type { ChannelView, UserView } from "./names.js";
import type { ConnectionState } from "./sync.js";
import type { TrustEvent } from "./trust-book.js";
import type { DeviceTrust, UserStanding } from "./trust.js";

export type VoiceEvent =
  | { readonly type: "joined"; readonly value: VoiceJoined }
  | { readonly type: "left"; readonly value: VoiceLeft }
  | { readonly type: "signal"; readonly value: VoiceSignal };

export interface ClientEvents {
  /** A new message (live, or replayed after a reconnect), each message id once. */
  message: ChatMessage;
  /** A message that arrived before its key (body undefined, error "missing-key") opened now: show it in place. */
  "message-opened": ChatMessage;
  /**
   * Messages held in a channel now show their senders by other names: a name opened after the
   * messages did (its key came later), or someone renamed. Each is the message as it now reads.
   */
  "senders-relabelled": { readonly channelId: string; readonly messages: readonly ChatMessage[] };
  /**
   * A message was deleted (by its sender, or an admin). `message`: it as this client held it
   * (its kind tells a deleted reaction, which is a reaction taken back, from a deleted message).
   */
  "message-deleted": {
    readonly channelId: string;
    readonly messageId: string;
    readonly message: ChatMessage | undefined;
    readonly deletedByUserId: string;
    readonly by: string;
  };
  /** Someone (another device) is typing in a channel, or stopped. Sealed; stale notices are dropped. */
  typing: { readonly channelId: string; readonly userId: string; readonly user: string; readonly typing: boolean };
  /** This account read a channel up to `seq` (here or on another of its devices). */
  "read-marker": { readonly channelId: string; readonly seq: bigint };
  "channel-created": ChannelView;
  "channel-renamed": { readonly channel: ChannelView; readonly previous: string | undefined };
  "channel-deleted": { readonly channelId: string; readonly name: string | undefined };
  /** Keys arrived: names that were "<encrypted>" may open now. */
  "channels-changed": readonly ChannelView[];
  /** A device seen for the first time (pinned). `knownUser`: a new device of someone we knew. */
  "device-added": {
    readonly deviceId: string;
    readonly userId: string;
    readonly user: string;
    readonly fingerprint: string;
    readonly own: boolean;
    readonly knownUser: boolean;
  };
  "device-revoked": { readonly deviceId: string; readonly userId: string; readonly user: string };
  /** A pinned device shows another key: refused, nothing is encrypted to it. */
  "key-change-refused": {
    readonly deviceId: string;
    readonly userId: string;
    readonly user: string;
    readonly pinnedFingerprint: string;
    readonly offeredFingerprint: string;
  };
  /** An envelope addressed to us was refused (forged, moved, or a substituted key). */
  "key-rejected": {
    readonly scope: KeyScope;
    readonly epoch: number;
    readonly senderUserId: string;
    readonly sender: string;
    readonly senderDeviceId: string;
    readonly reason: string;
  };
  /** The server listed a device as lacking keys, and this client did not share with it: why. */
  "keys-withheld": { readonly deviceId: string; readonly userId: string; readonly user: string; readonly reason: string };
  "key-received": { readonly scope: KeyScope; readonly epoch: number; readonly senderDeviceId: string };
  "profile-updated": UserView;
  "user-joined": { readonly userId: string; readonly user: string; readonly isAdmin: boolean };
  /** An admin removed an account (`me`: this one); its devices were revoked just before. */
  "user-removed": { readonly userId: string; readonly user: string; readonly me: boolean };
  /** An account's admin flag was granted or taken (`me`: this account's). */
  "admin-changed": { readonly userId: string; readonly user: string; readonly isAdmin: boolean; readonly me: boolean };
  presence: { readonly userId: string; readonly user: string; readonly online: boolean };
  /** `stopped`: the server ended the session or revoked the device; no reconnect follows. */
  connection: { readonly state: ConnectionState; readonly error?: string; readonly retryInMs?: number; readonly stopped?: boolean };
  /** The server lost our feed position; channels and names were reloaded. */
  resync: Record<string, never>;
  /** Voice room changes and signals addressed to this device (sealed; the voice daemon opens them). */
  voice: VoiceEvent;
  /** Signed-identity news: an unverified device, a pending or newly admitted member, a changed identity or root. */
  trust: { readonly event: TrustEvent; readonly user: string };
  /** This device's identity was settled: created (show `recoveryCode` once), awaiting approval, or in conflict. */
  identity: IdentityStatus;
  /** A background task failed (key sharing, a listener); the client keeps going. */
  error: { readonly message: string; readonly cause: unknown };
}

export interface DeviceView {
  readonly deviceId: string;
  readonly userId: string;
  readonly user: string;
  readonly fingerprint: string;
  /** This install. */
  readonly current: boolean;
  /** "known": pinned earlier with this key; "pinned": first seen now; "changed": refused. */
  readonly status: "known" | "pinned" | "changed" | "invalid";
  readonly verified: boolean;
  /** Signed identities: "certified" (its owner's identity approved it), "unverified" (gets no keys), "revoked". */
  readonly trust: DeviceTrust;
  /** Its owner: admitted, pending (gets no keys), removed, or without an identity yet. */
  readonly standing: UserStanding;
  readonly createdAt: Date | undefined;
  readonly lastSeenAt: Date | undefined;
}
