// Identity keys and the signed statements about accounts: device certificates, admissions,
// removals (written by users.ts with the account's tombstone) and admission requests. Each write
// commits with its durable events; a refusal is a result value, decided before anything is written.
import { and, asc, eq, inArray, isNull } from "drizzle-orm";
import type { Db, Executor } from "../client.js";
import { admissionRequests, admissions, devices, identities, removals, users } from "../schema.js";
import { appendEvents, type EventRow, type NewEvent } from "./events.js";

export type IdentityRow = typeof identities.$inferSelect;
export type AdmissionRow = typeof admissions.$inferSelect;
export type RemovalRow = typeof removals.$inferSelect;
export type AdmissionRequestRow = typeof admissionRequests.$inferSelect;

/** An identity with every statement about it, as ListIdentities returns it. */
export interface IdentityRecord extends IdentityRow {
  admissions: AdmissionRow[];
  removal: RemovalRow | undefined;
  admissionRequest: AdmissionRequestRow | undefined;
}

export async function findIdentity(db: Executor, userId: string): Promise<IdentityRow | undefined> {
  const [row] = await db.select().from(identities).where(eq(identities.userId, userId));
  return row;
}

/** An account with its identity key (null when it published none), or undefined when there is no such account. */
export async function findAccountIdentity(db: Executor, userId: string) {
  const [row] = await db
    .select({ userId: users.id, removedAt: users.removedAt, publicKey: identities.publicKey })
    .from(users)
    .leftJoin(identities, eq(identities.userId, users.id))
    .where(eq(users.id, userId));
  return row;
}

/** Identities (all, or those of `userIds`) oldest first, each with its statements oldest first. */
export async function listIdentities(db: Executor, userIds: string[]): Promise<IdentityRecord[]> {
  const rows = await db
    .select()
    .from(identities)
    .where(userIds.length ? inArray(identities.userId, userIds) : undefined)
    .orderBy(asc(identities.createdAt), asc(identities.userId));
  if (!rows.length) return [];
  const ids = rows.map((r) => r.userId);
  const [adms, rems, reqs] = await Promise.all([
    db
      .select()
      .from(admissions)
      .where(inArray(admissions.userId, ids))
      .orderBy(asc(admissions.createdAt), asc(admissions.signerUserId), asc(admissions.role)),
    db.select().from(removals).where(inArray(removals.userId, ids)),
    db.select().from(admissionRequests).where(inArray(admissionRequests.userId, ids)),
  ]);
  const byUser = new Map<string, AdmissionRow[]>();
  for (const a of adms) {
    let list = byUser.get(a.userId);
    if (!list) byUser.set(a.userId, (list = []));
    list.push(a);
  }
  const removalOf = new Map(rems.map((r) => [r.userId, r]));
  const requestOf = new Map(reqs.map((r) => [r.userId, r]));
  return rows.map((r) => ({
    ...r,
    admissions: byUser.get(r.userId) ?? [],
    removal: removalOf.get(r.userId),
    admissionRequest: requestOf.get(r.userId),
  }));
}

/** The root's user id: the one account with a self-signed admission (at most one, by index). */
export async function findRootUserId(db: Executor): Promise<string | undefined> {
  const [row] = await db
    .select({ userId: admissions.userId })
    .from(admissions)
    .where(eq(admissions.userId, admissions.signerUserId))
    .limit(1);
  return row?.userId;
}

/** What a PublishIdentity stored (each one becomes an IdentityUpdated event). */
export type PublishChange = "published" | "device_certified" | "admission_requested";

export interface PublishInput {
  userId: string;
  deviceId: string;
  publicKey: string;
  certificate: string;
  admissionMac: string | undefined;
  now: Date;
  events: (changes: PublishChange[]) => NewEvent[];
}

export type PublishResult =
  | { kind: "other_key" }
  | { kind: "no_invite" }
  | { kind: "stored"; changes: PublishChange[]; events: EventRow[] };

/**
 * Stores the account's identity key unless it has one (another key: other_key), the calling
 * device's certificate unless it has one, and the first admission request (an account registered
 * without an invite record: no_invite), with their events, in one transaction.
 */
export async function publishIdentity(db: Db, input: PublishInput): Promise<PublishResult> {
  return db.transaction(async (tx) => {
    let inviteId: string | null = null;
    if (input.admissionMac !== undefined) {
      const [user] = await tx.select({ inviteId: users.inviteId }).from(users).where(eq(users.id, input.userId));
      inviteId = user?.inviteId ?? null;
      if (!inviteId) return { kind: "no_invite" };
    }
    const changes: PublishChange[] = [];
    const [inserted] = await tx
      .insert(identities)
      .values({ userId: input.userId, publicKey: input.publicKey, createdAt: input.now })
      .onConflictDoNothing()
      .returning();
    if (inserted) changes.push("published");
    else if ((await findIdentity(tx, input.userId))?.publicKey !== input.publicKey) return { kind: "other_key" };
    const certified = await tx
      .update(devices)
      .set({ certificate: input.certificate })
      .where(and(eq(devices.id, input.deviceId), eq(devices.userId, input.userId), isNull(devices.certificate)))
      .returning({ id: devices.id });
    // A first publication announces the calling device's certificate with it.
    if (certified.length && !inserted) changes.push("device_certified");
    if (inviteId) {
      const [request] = await tx
        .insert(admissionRequests)
        .values({ userId: input.userId, inviteId, mac: input.admissionMac!, createdAt: input.now })
        .onConflictDoNothing()
        .returning({ userId: admissionRequests.userId });
      if (request) changes.push("admission_requested");
    }
    return { kind: "stored", changes, events: await appendEvents(tx, input.events(changes), input.now) };
  });
}

/** Stores a live device's first certificate with its event; undefined when it had one already (or was revoked meanwhile). */
export async function certifyDevice(db: Db, deviceId: string, certificate: string, now: Date, event: NewEvent) {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(devices)
      .set({ certificate })
      .where(and(eq(devices.id, deviceId), isNull(devices.certificate), isNull(devices.revokedAt)))
      .returning({ id: devices.id });
    if (!row) return undefined;
    return { events: await appendEvents(tx, [event], now) };
  });
}

export type AdmitResult = { kind: "root_taken" } | { kind: "stored" | "exists"; admission: AdmissionRow; events: EventRow[] };

/**
 * Stores an admission with its event. The same statement again is `exists` (idempotent); a
 * self-signed one while another root is stored is `root_taken` (admissions_root_idx decides
 * between racing roots).
 */
export async function insertAdmission(db: Db, row: AdmissionRow, event: NewEvent): Promise<AdmitResult> {
  return db.transaction(async (tx) => {
    const [inserted] = await tx.insert(admissions).values(row).onConflictDoNothing().returning();
    if (inserted) return { kind: "stored", admission: inserted, events: await appendEvents(tx, [event], row.createdAt) };
    const [stored] = await tx
      .select()
      .from(admissions)
      .where(
        and(
          eq(admissions.userId, row.userId),
          eq(admissions.identityPublicKey, row.identityPublicKey),
          eq(admissions.role, row.role),
          eq(admissions.signerUserId, row.signerUserId),
        ),
      );
    if (!stored) return { kind: "root_taken" };
    return { kind: "exists", admission: stored, events: [] };
  });
}
