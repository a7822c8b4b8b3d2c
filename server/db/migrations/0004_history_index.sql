DROP INDEX "messages_channel_seq_idx";--> statement-breakpoint
CREATE UNIQUE INDEX "messages_channel_seq_idx" ON "messages" USING btree ("channel_id","seq");