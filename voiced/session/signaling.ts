// Sealing of peer signals with the channel key (DESIGN §5, purpose voice-signal, AAD bound to
// channel, sender device and recipient device): the server relays ciphertext and never sees
// SDP, ICE candidates or peer addresses.
import { openText, sealText, type EpochKey } from "../../client/crypto/index.js";
import { parseSignal, type SignalMessage } from "../rtc/signal.js";

export class SignalSealer {
  constructor(
    private readonly key: EpochKey,
    private readonly channelId: string,
    private readonly localDeviceId: string,
  ) {}

  get epoch(): number {
    return this.key.epoch;
  }

  seal(to: string, msg: SignalMessage): Promise<string> {
    return sealText(
      this.key,
      { purpose: "voice-signal", channelId: this.channelId, senderDeviceId: this.localDeviceId, recipientDeviceId: to },
      JSON.stringify(msg),
    );
  }

  /** Opens a signal addressed to us; throws when it was not sealed for this channel, sender and us. */
  async open(from: string, sealed: string): Promise<SignalMessage> {
    const text = await openText(
      this.key,
      { purpose: "voice-signal", channelId: this.channelId, senderDeviceId: from, recipientDeviceId: this.localDeviceId },
      sealed,
    );
    return parseSignal(text);
  }
}
