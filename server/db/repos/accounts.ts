// Users, devices and sessions: registration, login and session lookup.
import { and, count, eq, gt, isNull, ne, sql } from "drizzle-orm";
import type { Db, Executor } from "../client.js";
import { Refusal } from "../refusal.js";
import { devices, invites, sessions, users } from "../schema.js";
import { appendEvents, type EventRow, type NewEvent } from "./events.js";

export type UserRow = typeof users.$inferSelect;
export type DeviceRow = typeof devices.$inferSelect;

export interface NewSession {
  tokenHash: string;
  expiresAt: Date;
}

export interface RegisterInput {
  userId: string;
  usernameHash: string;
  passwordHash: string;
  deviceId: string;
  publicKey: string;
  inviteTokenHash: string;
  session: NewSession;
  now: Date;
  /** Builds the UserJoined and DeviceAdded events once the admin flag is known. */
  events: (user: UserRow, device: DeviceRow) => NewEvent[];
}

/**
 * Registers an account in one transaction: the invite use, the user, the device,
 * the session and the events commit together or not at all, so a failed
 * registration never burns the invite. Concurrent registrations on one invite
 * queue on the invite's row lock; only as many as it allows succeed.
 */
export async function registerAccount(db: Db, input: RegisterInput) {
  return db.transaction(async (tx) => {
    const used = await tx
      .update(invites)
      .set({ uses: sql`${invites.uses} + 1` })
      .where(
        and(
          eq(invites.tokenHash, input.inviteTokenHash),
          isNull(invites.revokedAt),
          gt(invites.expiresAt, input.now),
          sql`${invites.uses} < ${invites.maxUses}`,
        ),
      )
      .returning({ id: invites.id });
    if (used.length === 0) throw await classifyUnusableInvite(tx, input.inviteTokenHash, input.now);

    // Serialises first registrations so exactly one account becomes admin.
    await tx.execute(sql`LOCK TABLE ${users} IN SHARE ROW EXCLUSIVE MODE`);
    const existing = await tx.select({ id: users.id }).from(users).where(eq(users.usernameHash, input.usernameHash));
    if (existing.length) throw new Refusal("username_taken");
    const [{ n }] = (await tx.select({ n: count() }).from(users)) as [{ n: number }];
    const [user] = await tx
      .insert(users)
      .values({
        id: input.userId,
        usernameHash: input.usernameHash,
        passwordHash: input.passwordHash,
        isAdmin: Number(n) === 0,
        createdAt: input.now,
        inviteId: used[0]!.id,
      })
      .returning();
    await refuseKeyOfAnotherAccount(tx, input.publicKey, input.userId);
    const [device] = await tx
      .insert(devices)
      .values({ id: input.deviceId, userId: input.userId, publicKey: input.publicKey, createdAt: input.now, lastSeenAt: input.now })
      .returning();
    await insertSession(tx, input.session, input.userId, input.deviceId, input.now);
    const rows = await appendEvents(tx, input.events(user!, device!), input.now);
    return { user: user!, device: device!, events: rows };
  });
}

/**
 * A device key identifies one device of one account: the key of another account's device
 * (anyone can read it from ListDevices) would give a second identity the same fingerprint
 * and safety numbers, and a reused keystore would mix two accounts' keys and pins.
 */
async function refuseKeyOfAnotherAccount(tx: Executor, publicKey: string, userId: string): Promise<void> {
  const [other] = await tx
    .select({ id: devices.id })
    .from(devices)
    .where(and(eq(devices.publicKey, publicKey), ne(devices.userId, userId)))
    .limit(1);
  if (other) throw new Refusal("device_key_of_another_account");
}

async function classifyUnusableInvite(tx: Executor, tokenHash: string, now: Date): Promise<Refusal> {
  const [invite] = await tx.select().from(invites).where(eq(invites.tokenHash, tokenHash));
  if (!invite) return new Refusal("invite_unknown");
  if (invite.revokedAt) return new Refusal("invite_revoked");
  if (invite.expiresAt <= now) return new Refusal("invite_expired");
  return new Refusal("invite_used");
}

async function insertSession(tx: Executor, s: NewSession, userId: string, deviceId: string, now: Date) {
  await tx.insert(sessions).values({
    tokenHash: s.tokenHash,
    userId,
    deviceId,
    createdAt: now,
    lastUsedAt: now,
    expiresAt: s.expiresAt,
  });
}

export async function findUserByUsernameHash(db: Executor, usernameHash: string) {
  const [row] = await db.select().from(users).where(eq(users.usernameHash, usernameHash));
  return row;
}

export interface LoginInput {
  userId: string;
  publicKey: string;
  newDeviceId: string;
  session: NewSession;
  now: Date;
  deviceAddedEvent: (device: DeviceRow) => NewEvent;
}

/**
 * Opens a session on the device holding `publicKey`, registering that device
 * (with its DeviceAdded event) when the account has none with this key.
 */
export async function loginDevice(db: Db, input: LoginInput) {
  return db.transaction(async (tx) => {
    let created = false;
    let events: EventRow[] = [];
    let [device] = await tx
      .select()
      .from(devices)
      .where(and(eq(devices.userId, input.userId), eq(devices.publicKey, input.publicKey)));
    if (device?.revokedAt) throw new Refusal("device_revoked");
    if (!device) {
      await refuseKeyOfAnotherAccount(tx, input.publicKey, input.userId);
      [device] = await tx
        .insert(devices)
        .values({ id: input.newDeviceId, userId: input.userId, publicKey: input.publicKey, createdAt: input.now })
        .returning();
      events = await appendEvents(tx, [input.deviceAddedEvent(device!)], input.now);
      created = true;
    }
    await tx.update(devices).set({ lastSeenAt: input.now }).where(eq(devices.id, device!.id));
    await insertSession(tx, input.session, input.userId, device!.id, input.now);
    return { device: device!, created, events };
  });
}

export interface SessionInfo {
  tokenHash: string;
  userId: string;
  deviceId: string;
  isAdmin: boolean;
  expiresAt: Date;
  lastUsedAt: Date;
}

/** The live session for a token hash, or undefined (unknown, expired or revoked device). */
export async function findSession(db: Executor, tokenHash: string, now: Date): Promise<SessionInfo | undefined> {
  const [row] = await db
    .select({
      tokenHash: sessions.tokenHash,
      userId: sessions.userId,
      deviceId: sessions.deviceId,
      isAdmin: users.isAdmin,
      expiresAt: sessions.expiresAt,
      lastUsedAt: sessions.lastUsedAt,
    })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .innerJoin(devices, eq(devices.id, sessions.deviceId))
    .where(and(eq(sessions.tokenHash, tokenHash), isNull(devices.revokedAt), gt(sessions.expiresAt, now)));
  return row;
}

/** Slides a session's expiry and records the device as seen. */
export async function touchSession(db: Executor, s: SessionInfo, now: Date, expiresAt: Date) {
  await db.update(sessions).set({ lastUsedAt: now, expiresAt }).where(eq(sessions.tokenHash, s.tokenHash));
  await db.update(devices).set({ lastSeenAt: now }).where(eq(devices.id, s.deviceId));
}

export async function deleteSession(db: Executor, tokenHash: string) {
  await db.delete(sessions).where(eq(sessions.tokenHash, tokenHash));
}

export async function userCount(db: Executor): Promise<number> {
  const [row] = await db.select({ n: count() }).from(users);
  return Number(row?.n ?? 0);
}
