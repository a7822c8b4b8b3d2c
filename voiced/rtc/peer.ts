// One WebRTC connection to one remote device, as the mesh sees it: a small interface in the
// manner of ring's BasicPeerConnection, so werift stays in rtc/werift-peer.ts.
import type { IceServer } from "./ice-config.js";

export interface CandidateInit {
  candidate: string;
  sdpMid?: string;
  sdpMLineIndex?: number;
}

export interface RtpIn {
  seq: number;
  timestamp: number;
  marker: boolean;
  payload: Uint8Array;
}

export type PeerState = "new" | "connecting" | "connected" | "disconnected" | "failed" | "closed";

export interface Peer {
  /** Creates the offer and applies it locally; returns its SDP. */
  createOffer(): Promise<string>;
  /** Applies a remote offer, creates and applies the answer; returns its SDP. */
  acceptOffer(sdp: string): Promise<string>;
  acceptAnswer(sdp: string): Promise<void>;
  /**
   * ICE restart in place (offerer): new ICE credentials and candidates on the same connection,
   * gathered with `iceServers` when given (fresh TURN credentials); returns the new offer's SDP.
   * The DTLS session and the media keep going once the new candidate pair is nominated.
   */
  restartIce(iceServers?: IceServer[]): Promise<string>;
  /** The answerer's side of restartIce: applies the restart offer and returns the answer's SDP. */
  acceptRestart(sdp: string, iceServers?: IceServer[]): Promise<string>;
  /** Only after a remote description is set (the mesh buffers before that). */
  addRemoteCandidate(c: CandidateInit): Promise<void>;
  onLocalCandidate(cb: (c: CandidateInit) => void): void;
  /** Connection states; "connected" is also reported again when an ICE restart completes. */
  onStateChange(cb: (s: PeerState) => void): void;
  onRtp(cb: (p: RtpIn) => void): void;
  sendRtp(payload: Uint8Array, seq: number, timestamp: number, marker: boolean): void;
  readonly state: PeerState;
  /** The local candidate type of the selected pair ("relay", "host", "srflx"), once connected. */
  selectedCandidateType(): Promise<string | undefined>;
  /** Closes the connection and frees its TURN allocations. */
  close(): Promise<void>;
}

export interface PeerOptions {
  iceServers: IceServer[];
  relayOnly: boolean;
  /** UDP port range for host/relay sockets, when set. */
  portRange?: [number, number];
}

export type PeerFactory = (o: PeerOptions) => Peer;
