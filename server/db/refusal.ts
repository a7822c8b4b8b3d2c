// A write the database refused part-way through a transaction (which then rolls back, so the
// reason travels as an exception). The domain says it to the caller in its own terms.
export type RefusalReason =
  | "username_taken"
  | "device_key_of_another_account"
  | "device_revoked"
  | "invite_unknown"
  | "invite_revoked"
  | "invite_expired"
  | "invite_used";

export class Refusal extends Error {
  override readonly name = "Refusal";
  constructor(readonly reason: RefusalReason) {
    super(reason);
  }
}
