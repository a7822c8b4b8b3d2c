ALTER TABLE "envelopes" DROP CONSTRAINT "envelopes_kind_scope_id_epoch_recipient_device_id_pk";--> statement-breakpoint
ALTER TABLE "envelopes" ADD CONSTRAINT "envelopes_kind_scope_id_epoch_recipient_device_id_sender_device_id_pk" PRIMARY KEY("kind","scope_id","epoch","recipient_device_id","sender_device_id");--> statement-breakpoint
ALTER TABLE "envelopes" ADD COLUMN "accepted_at" timestamp with time zone;--> statement-breakpoint
-- Envelopes stored before this migration were first-write-wins per recipient: count them as accepted.
UPDATE "envelopes" SET "accepted_at" = "created_at";--> statement-breakpoint
-- Two devices that raced to create the directory key each wrote to themselves; keep the earliest.
DELETE FROM "envelopes" e USING "envelopes" f
  WHERE e."kind" = 2 AND f."kind" = 2 AND e."scope_id" = f."scope_id" AND e."epoch" = f."epoch"
    AND e."sender_device_id" = e."recipient_device_id" AND f."sender_device_id" = f."recipient_device_id"
    AND (f."created_at", f."sender_device_id") < (e."created_at", e."sender_device_id");--> statement-breakpoint
CREATE UNIQUE INDEX "envelopes_directory_creator_idx" ON "envelopes" USING btree ("kind","scope_id","epoch") WHERE "envelopes"."kind" = 2 AND "envelopes"."sender_device_id" = "envelopes"."recipient_device_id";