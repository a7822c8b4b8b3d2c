// What the app asks of a screen (login, chat): a frame for the current size, and the input.
import type { Frame } from "./frame.js";
import type { KeyPress } from "./keys.js";

export interface Screen {
  render(width: number, height: number): Frame;
  key(k: KeyPress): void;
  paste(text: string): void;
  /** Mouse wheel over the screen: -1 up, +1 down. */
  wheel(delta: -1 | 1, x: number, y: number): void;
}
