// A modal list drawn as a box over the screen: saved servers on the login screen, channels when
// a name is ambiguous. up/k and down/j move, enter picks, esc cancels.
import { overlayRow, seg, type Row, type Segment } from "./frame.js";
import type { KeyPress } from "./keys.js";
import { displayWidth, padEnd, truncate } from "./text.js";

export interface PickerItem<T> {
  readonly label: string;
  readonly value: T;
}

export interface PickerOptions<T> {
  readonly title: string;
  readonly items: readonly PickerItem<T>[];
  /** Shown instead of the list when there are no items. */
  readonly empty?: string;
  onPick(value: T): void;
  onCancel(): void;
}

export class Picker<T> {
  readonly #o: PickerOptions<T>;
  #index = 0;

  constructor(options: PickerOptions<T>) {
    this.#o = options;
  }

  get selected(): T | undefined {
    return this.#o.items[this.#index]?.value;
  }

  /** Handles every key while open (the picker is modal). */
  key(k: KeyPress): void {
    const n = this.#o.items.length;
    const name = k.name === "char" ? k.char : k.name;
    if (name === "up" || name === "k" || name === "ctrl+p") this.#index = Math.max(0, this.#index - 1);
    else if (name === "down" || name === "j" || name === "ctrl+n") this.#index = Math.min(Math.max(0, n - 1), this.#index + 1);
    else if (name === "home") this.#index = 0;
    else if (name === "end") this.#index = Math.max(0, n - 1);
    else if (name === "enter") {
      const item = this.#o.items[this.#index];
      if (item) this.#o.onPick(item.value);
      else this.#o.onCancel();
    } else if (name === "esc" || name === "ctrl+c") this.#o.onCancel();
  }

  /** The rows with the box drawn over their middle. */
  overlay(rows: readonly Row[], width: number, height: number): Row[] {
    const items = this.#o.items;
    const hint = "enter: select  esc: cancel";
    const body = items.length === 0 ? [this.#o.empty ?? "(nothing to pick)"] : items.map((i) => i.label);
    const inner = Math.min(
      width - 4,
      Math.max(displayWidth(this.#o.title) + 2, displayWidth(hint), ...body.map((b) => displayWidth(b) + 2)),
    );
    if (inner < 4 || height < 5) return [...rows];
    // Scroll the list so the selection stays inside the box.
    const room = Math.max(1, height - 6);
    const first = Math.min(Math.max(0, this.#index - room + 1), Math.max(0, body.length - room));
    const shown = body.slice(first, first + room);
    const line = (segments: Segment[]): Segment[] => [seg("| ", "border"), ...segments, seg(" |", "border")];
    const box: Segment[][] = [
      [seg(`+${"-".repeat(inner + 2)}+`, "border")],
      line([seg(padEnd(truncate(this.#o.title, inner), inner), "title")]),
      line([seg(" ".repeat(inner))]),
      ...shown.map((label, i) => {
        const at = first + i === this.#index && items.length > 0;
        return line([
          seg(padEnd(truncate(`${at ? "> " : "  "}${label}`, inner), inner), at ? "selected" : items.length ? "normal" : "dim"),
        ]);
      }),
      line([seg(" ".repeat(inner))]),
      line([seg(padEnd(truncate(hint, inner), inner), "dim")]),
      [seg(`+${"-".repeat(inner + 2)}+`, "border")],
    ];
    const top = Math.max(0, Math.floor((height - box.length) / 2));
    const left = Math.max(0, Math.floor((width - (inner + 4)) / 2));
    const out = [...rows];
    box.forEach((segments, i) => {
      const y = top + i;
      if (y < out.length) out[y] = overlayRow(out[y]!, left, segments, width);
    });
    return out;
  }
}
