// Decrypted names: channel names (channel key), profile names (directory key). A missing or
// wrong key gives a placeholder, never an exception: the UI shows "<encrypted>" and retries
// when keys arrive. Also the resolution of what a user types ("#general", an id prefix).
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Channel } from "../../gen/dialtone/v1/channel_pb.js";
import type { Profile } from "../../gen/dialtone/v1/profile_pb.js";
import { openText, sealedFieldEpoch, type EpochKey } from "../crypto/index.js";
import type { Api } from "./api.js";
import { UsageError } from "./errors.js";

export const ENCRYPTED_PLACEHOLDER = "<encrypted>";

export interface ChannelView {
  readonly id: string;
  /** The decrypted name; undefined while we hold no key that opens it. */
  readonly name: string | undefined;
  /** The name, or the placeholder. */
  readonly label: string;
  readonly keyEpoch: number;
  readonly createdByUserId: string;
  readonly createdAt: Date | undefined;
  /** The raw row (sealed name), for key confirmation and re-sealing. */
  readonly row: Channel;
}

export interface UserView {
  readonly userId: string;
  readonly name: string | undefined;
  /** The name, or "user-<first 8 of the id>". */
  readonly label: string;
  readonly isAdmin: boolean;
  /** An admin removed the account: a tombstone kept for its past messages, not a member. */
  readonly removed?: boolean;
}

export const shortId = (id: string): string => id.replaceAll("-", "").slice(0, 8);

export const userLabel = (userId: string, name: string | undefined): string => name ?? `user-${shortId(userId)}`;

/** Opens a sealed name; undefined if there is no key for its epoch or it does not open. */
export async function openName(
  sealed: string,
  keyFor: (epoch: number) => EpochKey | undefined,
  context: Parameters<typeof openText>[1],
): Promise<string | undefined> {
  if (!sealed) return undefined;
  try {
    const key = keyFor(sealedFieldEpoch(sealed));
    return key ? await openText(key, context, sealed) : undefined;
  } catch {
    return undefined;
  }
}

export async function channelView(row: Channel, keyFor: (epoch: number) => EpochKey | undefined): Promise<ChannelView> {
  const name = await openName(row.encryptedName, keyFor, { purpose: "channel-name", channelId: row.channelId });
  return {
    id: row.channelId,
    name,
    label: name ?? ENCRYPTED_PLACEHOLDER,
    keyEpoch: row.keyEpoch,
    createdByUserId: row.createdByUserId,
    createdAt: row.createdAt ? timestampDate(row.createdAt) : undefined,
    row,
  };
}

/** The member directory: profiles with their names opened by the directory key. */
export class Directory {
  readonly #api: Pick<Api, "directory">;
  readonly #keyFor: (epoch: number) => EpochKey | undefined;
  readonly #users = new Map<string, UserView>();
  readonly #rows = new Map<string, Profile>();
  readonly #namesChanged: () => void;

  /** `namesChanged`: after a refresh, reopen or apply in which a name opened or changed. */
  constructor(api: Pick<Api, "directory">, keyFor: (epoch: number) => EpochKey | undefined, namesChanged: () => void = () => {}) {
    this.#api = api;
    this.#keyFor = keyFor;
    this.#namesChanged = namesChanged;
  }

  async refresh(): Promise<void> {
    const { profiles } = await this.#api.directory.listProfiles({});
    await this.#applyAll(profiles);
  }

  /** Re-opens every profile (after the directory key arrived). */
  async reopen(): Promise<void> {
    await this.#applyAll([...this.#rows.values()]);
  }

  async apply(profile: Profile): Promise<UserView> {
    if (await this.#set(profile)) this.#namesChanged();
    return this.#view(profile.userId)!;
  }

  async #applyAll(profiles: readonly Profile[]): Promise<void> {
    let changed = false;
    for (const p of profiles) changed = (await this.#set(p)) || changed;
    if (changed) this.#namesChanged();
  }

  /** Stores a profile with its name opened; true when the name differs from the one held. */
  async #set(profile: Profile): Promise<boolean> {
    this.#rows.set(profile.userId, profile);
    const name = await openName(profile.encryptedName, this.#keyFor, { purpose: "profile-name", userId: profile.userId });
    const before = this.#users.get(profile.userId);
    this.#users.set(profile.userId, {
      userId: profile.userId,
      name,
      label: userLabel(profile.userId, name),
      isAdmin: profile.isAdmin,
      removed: profile.removedAt !== undefined,
    });
    return before?.name !== name;
  }

  /**
   * Display names are claims anyone can make: two accounts showing the same name are told
   * apart by a mark from their account ids ("alice#1a2b"), so neither can pass as the other.
   */
  #view(userId: string): UserView | undefined {
    const v = this.#users.get(userId);
    if (!v || v.name === undefined) return v;
    const n = normalise(v.name);
    const twin = [...this.#users.values()].some((u) => u.userId !== userId && u.name !== undefined && normalise(u.name) === n);
    return twin ? { ...v, label: `${v.name}#${shortId(userId).slice(0, 4)}` } : v;
  }

  /** Marks an account removed (a UserRemoved event): it leaves member lists, keeps its name. */
  markRemoved(userId: string): void {
    const u = this.#users.get(userId);
    if (u) this.#users.set(userId, { ...u, removed: true });
  }

  nameOf(userId: string): string | undefined {
    return this.#users.get(userId)?.name;
  }

  labelOf(userId: string): string {
    return this.#view(userId)?.label ?? userLabel(userId, undefined);
  }

  /** Whether anyone's profile carries a (sealed) name. */
  anyNamed(): boolean {
    return [...this.#rows.values()].some((p) => p.encryptedName !== "");
  }

  users(): UserView[] {
    return [...this.#users.keys()].map((id) => this.#view(id)!);
  }
}

function normalise(text: string): string {
  return text.normalize("NFC").trim().toLowerCase();
}

/**
 * Picks one item by exact name (case-insensitive, a leading # stripped for channels) or by id
 * prefix (dashes ignored). Several matches raise an "ambiguous" UsageError listing them.
 */
export function resolveByNameOrId<T>(
  items: readonly T[],
  arg: string,
  view: (item: T) => { readonly id: string; readonly name: string | undefined; readonly label: string },
  what: "channel" | "user" | "device",
): T {
  const wanted = normalise(what === "channel" ? arg.trim().replace(/^#/, "") : arg);
  if (!wanted) throw new UsageError("invalid-input", `empty ${what} name`);
  const describe = (t: T) => `${view(t).label} (${shortId(view(t).id)})`;
  const byName = items.filter((t) => {
    const n = view(t).name;
    return n !== undefined && normalise(n) === wanted;
  });
  if (byName.length === 1) return byName[0]!;
  // A marked label ("alice#1a2b") picks one of two people sharing a name.
  const byLabel = items.filter((t) => normalise(view(t).label) === wanted);
  if (byLabel.length === 1) return byLabel[0]!;
  const unknown = `unknown-${what}` as const;
  const ambiguous = `ambiguous-${what}` as const;
  if (byName.length > 1) {
    throw new UsageError(ambiguous, `${arg} names ${byName.length} ${what}s; use an id prefix`, byName.map(describe));
  }
  const compact = wanted.replaceAll("-", "");
  const byId = /^[0-9a-f]+$/.test(compact) ? items.filter((t) => view(t).id.replaceAll("-", "").toLowerCase().startsWith(compact)) : [];
  if (byId.length === 1) return byId[0]!;
  if (byId.length > 1) {
    throw new UsageError(ambiguous, `${arg} is a prefix of ${byId.length} ${what} ids; type more of it`, byId.map(describe));
  }
  throw new UsageError(
    unknown,
    what === "device" ? `no device with an id starting ${JSON.stringify(arg)}` : `no ${what} named ${JSON.stringify(arg)}`,
  );
}
