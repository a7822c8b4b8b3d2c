// A message's sender and body as shown, for `history`/`tail` lines and the UI's panes alike.
import type { ChatMessage } from "../messages.js";

/** The sender, flagged when the name sealed in the message differs from the directory's. */
export const senderText = (m: ChatMessage): string =>
  m.senderMismatch ? `${m.sender} (claims ${JSON.stringify(m.claimedSender)})` : m.sender;

/** What stands in for a body that did not open. */
export const unopenedBody = (m: ChatMessage): string =>
  m.error === "undecryptable" ? "[this message could not be decrypted]" : "[encrypted: waiting for the key to this channel]";

export const bodyText = (m: ChatMessage): string => m.body ?? unopenedBody(m);
