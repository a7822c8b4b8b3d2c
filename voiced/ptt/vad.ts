// Voice activity detection: an energy gate on the mean absolute sample value of each frame,
// with attack (a few loud frames in a row open it) and hangover (it stays open through short
// pauses), so speech is not chopped the way a per-frame threshold chops it.

export interface VadOptions {
  /** Mean absolute sample value at or above which a frame counts as voice (default 500). */
  threshold: number;
  /** Consecutive voiced frames needed to open the gate (default 2 = 40 ms). */
  attackFrames?: number;
  /** Unvoiced frames the gate stays open for after the last voiced one (default 15 = 300 ms). */
  hangoverFrames?: number;
}

export class Vad {
  readonly attackFrames: number;
  readonly hangoverFrames: number;
  threshold: number;
  private voicedRun = 0;
  private quietRun = 0;
  private open = false;

  constructor(o: VadOptions) {
    this.threshold = o.threshold;
    this.attackFrames = Math.max(1, o.attackFrames ?? 2);
    this.hangoverFrames = Math.max(0, o.hangoverFrames ?? 15);
  }

  /** Feeds one frame's level; returns whether the gate is open for this frame. */
  update(level: number): boolean {
    if (level >= this.threshold) {
      this.voicedRun++;
      this.quietRun = 0;
      if (this.voicedRun >= this.attackFrames) this.open = true;
    } else {
      this.voicedRun = 0;
      if (this.open && ++this.quietRun > this.hangoverFrames) {
        this.open = false;
        this.quietRun = 0;
      }
    }
    return this.open;
  }

  get isOpen(): boolean {
    return this.open;
  }

  reset(): void {
    this.voicedRun = 0;
    this.quietRun = 0;
    this.open = false;
  }
}
