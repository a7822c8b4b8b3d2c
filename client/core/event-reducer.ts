// The feed and the key manager, reduced to the client's events (events.ts) in decrypted terms:
// each server event updates the books it concerns (channels, directory, history, keys) and is
// re-emitted with names filled in.
import type { Event } from "../../gen/dialtone/v1/event_pb.js";
import { background, type ClientParts } from "./client-parts.js";
import type { Inbox } from "./inbox.js";
import type { KeyWaiting } from "./key-waiting.js";
import type { KeyEvent } from "./keys.js";
import { rotateAfterRemoval } from "./rotation.js";
import { openTypingNotice } from "./typing.js";
import type { HelloInfo } from "./sync.js";
import { timestampDate } from "@bufbuild/protobuf/wkt";

export class EventReducer {
  readonly #p: ClientParts;
  readonly #inbox: Inbox;
  readonly #keyWaiting: KeyWaiting;

  readonly #identityArrived: () => void;
  /** This account's admin flag as the server now says (the one saved at login may be stale). */
  readonly #setMyAdmin: (isAdmin: boolean) => void;

  constructor(
    parts: ClientParts,
    inbox: Inbox,
    keyWaiting: KeyWaiting,
    hooks: { readonly identityArrived: () => void; readonly setMyAdmin: (isAdmin: boolean) => void },
  ) {
    this.#p = parts;
    this.#inbox = inbox;
    this.#keyWaiting = keyWaiting;
    this.#identityArrived = hooks.identityArrived;
    this.#setMyAdmin = hooks.setMyAdmin;
  }

  async onHello(info: HelloInfo): Promise<void> {
    // Markers moved while we were away (another device read on).
    background(this.#p, "loading read markers", this.#p.readState.load());
    if (info.resync) {
      await Promise.all([this.#p.channels.refresh(), this.#p.directory.refresh()]);
      this.#p.events.emit("resync", {});
    }
    // Devices may have appeared while we were away: share in the background, never blocking the feed.
    background(this.#p, "key reconciliation", this.#keyWaiting.reconcile());
    // An admin flag granted or taken while we were away (or before a saved session resumed).
    background(
      this.#p,
      "reading the session",
      this.#p.api.auth.getSession({}).then((s) => this.#setMyAdmin(s.isAdmin)),
    );
  }

  async onEvent(event: Event): Promise<void> {
    const { keys, channels, directory, history, store, events } = this.#p;
    const p = event.payload;
    switch (p.case) {
      case "messageCreated":
        if (p.value.message) await this.#inbox.receive(p.value.message);
        return;
      case "messageDeleted": {
        const { channelId, messageId, deletedByUserId } = p.value;
        const message = history.timeline(channelId).markDeleted(messageId);
        this.#p.search.remove(messageId); // search hook: a deleted message leaves the local cache
        events.emit("message-deleted", { channelId, messageId, message, deletedByUserId, by: directory.labelOf(deletedByUserId) });
        return;
      }
      case "typingChanged": {
        const opened = await openTypingNotice(this.#p, p.value);
        if (opened) {
          const { channelId, senderUserId: userId } = p.value;
          events.emit("typing", { channelId, userId, user: directory.labelOf(userId), typing: opened.typing });
        }
        return;
      }
      case "readMarkerMoved":
        if (p.value.marker) this.#p.readState.apply(p.value.marker);
        return;
      case "channelCreated":
        if (!p.value.channel) return;
        if (!keys.channelKey(p.value.channel.channelId)) await keys.fetchKeys(); // the creator shares at once
        events.emit("channel-created", await channels.set(p.value.channel));
        return;
      case "channelRenamed": {
        if (!p.value.channel) return;
        const previous = channels.get(p.value.channel.channelId)?.name;
        events.emit("channel-renamed", { channel: await channels.set(p.value.channel), previous });
        return;
      }
      case "channelDeleted": {
        const id = p.value.channelId;
        const gone = channels.remove(id);
        history.drop(id);
        this.#p.readState.forget(id);
        store.forgetChannel(id);
        events.emit("channel-deleted", { channelId: id, name: gone?.name });
        return;
      }
      case "deviceAdded": {
        const d = p.value.device;
        if (!d) return;
        await keys.checkDevice(d.deviceId, d.userId, d.publicKey); // pins it and announces it
        this.#p.trust.invalidate();
        background(this.#p, "sharing keys with a new device", this.#keyWaiting.reconcile());
        return;
      }
      case "identityUpdated":
        this.#p.trust.invalidate();
        background(this.#p, "checking signed identities", this.#keyWaiting.reconcile());
        return;
      case "channelKeyRotated": {
        if (!p.value.channel) return;
        if (!keys.channelKeyAt(p.value.channel.channelId, p.value.channel.keyEpoch)) await keys.fetchKeys();
        await channels.set(p.value.channel);
        return;
      }
      case "userRemoved": {
        const { userId } = p.value;
        directory.markRemoved(userId);
        events.emit("user-removed", { userId, user: directory.labelOf(userId), me: userId === this.#p.session.userId });
        this.#rotate(event);
        return;
      }
      case "deviceRevoked":
        this.#rotate(event);
        events.emit("device-revoked", { deviceId: p.value.deviceId, userId: p.value.userId, user: directory.labelOf(p.value.userId) });
        return;
      case "profileUpdated": {
        const profile = p.value.profile;
        if (!profile) return;
        if (profile.encryptedName && !keys.directoryKeyAt(profile.keyEpoch)) await keys.fetchKeys();
        events.emit("profile-updated", await directory.apply(profile));
        return;
      }
      case "adminChanged": {
        const { userId, isAdmin } = p.value;
        if (userId === this.#p.session.userId) this.#setMyAdmin(isAdmin);
        await directory.refresh(); // profiles carry the flag: badges follow
        events.emit("admin-changed", { userId, user: directory.labelOf(userId), isAdmin, me: userId === this.#p.session.userId });
        return;
      }
      case "userJoined":
        events.emit("user-joined", { userId: p.value.userId, user: directory.labelOf(p.value.userId), isAdmin: p.value.isAdmin });
        return;
      case "presenceChanged":
        events.emit("presence", { userId: p.value.userId, user: directory.labelOf(p.value.userId), online: p.value.online });
        return;
      case "keyShared":
        await keys.fetchKeys();
        await this.#keyWaiting.reopenNamesIfKeysArrived();
        return;
      case "voiceJoined":
        events.emit("voice", { type: "joined", value: p.value });
        return;
      case "voiceLeft":
        events.emit("voice", { type: "left", value: p.value });
        return;
      case "voiceSignal":
        events.emit("voice", { type: "signal", value: p.value });
        return;
      default:
        return;
    }
  }

  /**
   * A device or member is gone: new key epochs for the channels, so what it holds opens nothing
   * sent from now on. Every online client tries after a short random pause; the server keeps the
   * first rotation per epoch and the others adopt it.
   */
  #rotate(event: Event): void {
    this.#p.trust.invalidate();
    const since = event.createdAt ? timestampDate(event.createdAt) : new Date();
    const pause = new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 400)));
    background(
      this.#p,
      "rotating channel keys",
      pause.then(() => rotateAfterRemoval(this.#p, since)),
    );
  }

  onKeyEvent(e: KeyEvent): void {
    const { directory, events } = this.#p;
    switch (e.type) {
      case "device-pinned":
        events.emit("device-added", {
          deviceId: e.deviceId,
          userId: e.userId,
          user: directory.labelOf(e.userId),
          fingerprint: e.fingerprint,
          own: e.own,
          knownUser: e.knownUser,
        });
        return;
      case "device-key-changed":
        events.emit("key-change-refused", {
          deviceId: e.deviceId,
          userId: e.userId,
          user: directory.labelOf(e.userId),
          pinnedFingerprint: e.pinnedFingerprint,
          offeredFingerprint: e.offeredFingerprint,
        });
        return;
      case "key-rejected":
        events.emit("key-rejected", {
          scope: e.scope,
          epoch: e.epoch,
          senderUserId: e.senderUserId,
          sender: directory.labelOf(e.senderUserId),
          senderDeviceId: e.senderDeviceId,
          reason: e.reason,
        });
        this.#keyWaiting.wake();
        return;
      case "key-received":
        this.#keyWaiting.keyArrived(); // waiters resume after this handler: the books are current by then
        events.emit("key-received", { scope: e.scope, epoch: e.epoch, senderDeviceId: e.senderDeviceId });
        if (e.scope.kind === "channel") {
          const channelId = e.scope.channelId;
          // Names first: a directory key that came in the same batch opens the senders' names,
          // which the messages are then shown with (a message keeps the label it opened with).
          background(
            this.#p,
            "opening messages",
            directory.reopen().then(() => this.#inbox.reopenLocked(channelId)),
          );
        }
        return;
      case "keys-shared":
        return;
      case "keys-withheld":
        events.emit("keys-withheld", { deviceId: e.deviceId, userId: e.userId, user: directory.labelOf(e.userId), reason: e.reason });
        return;
      case "identity-received":
        this.#identityArrived();
        background(this.#p, "settling the identity handed over", this.#keyWaiting.reconcile());
        return;
    }
  }
}
