// Raw terminal input → key bytes for terminal-kit's key parser, and pasted text. It does two
// things terminal-kit does not: bracketed paste (a paste arrives as one string with its newlines,
// never as a burst of ENTER keys that would send half of it), and UTF-8 sequences split across
// reads (terminal-kit cannot parse half a character). Pure: no I/O.

export const PASTE_ON = "\x1b[?2004h";
export const PASTE_OFF = "\x1b[?2004l";
const START = Buffer.from("\x1b[200~");
const END = Buffer.from("\x1b[201~");

export type FilterOutput = { readonly kind: "keys"; readonly data: Buffer } | { readonly kind: "paste"; readonly text: string };

/** How many bytes at the end of `buf` form a proper prefix of `marker` (at least `min` long). */
function partialMarker(buf: Buffer, marker: Buffer, min: number): number {
  for (let n = Math.min(marker.length - 1, buf.length); n >= min; n--) {
    if (buf.subarray(buf.length - n).equals(marker.subarray(0, n))) return n;
  }
  return 0;
}

/** How many bytes at the end of `buf` are an incomplete UTF-8 sequence. */
export function incompleteUtf8(buf: Buffer): number {
  for (let back = 1; back <= Math.min(3, buf.length); back++) {
    const b = buf[buf.length - back]!;
    if ((b & 0xc0) === 0x80) continue; // continuation byte: look further back
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? back : 0;
  }
  return 0;
}

/**
 * The bytes with every invalid UTF-8 sequence replaced by U+FFFD: terminal-kit's parser loops
 * forever on a stray continuation byte.
 */
function validUtf8(bytes: Buffer): Buffer {
  return Buffer.from(bytes.toString("utf8"), "utf8");
}

export class InputFilter {
  /** Bytes held back: half a character or half a paste marker. */
  #held = Buffer.alloc(0);
  /** Inside a bracketed paste: what it held so far. */
  #paste: Buffer[] | undefined;

  /**
   * Whether half an escape sequence is held back (the caller flushes it after a pause: it may be
   * all there is). Half a character is simply kept until the rest arrives.
   */
  get holding(): boolean {
    return this.#held.length > 0 && this.#held[0] === 0x1b && this.#paste === undefined;
  }

  push(chunk: Buffer): FilterOutput[] {
    let buf = this.#held.length > 0 ? Buffer.concat([this.#held, chunk]) : chunk;
    this.#held = Buffer.alloc(0);
    const out: FilterOutput[] = [];
    while (buf.length > 0) {
      if (this.#paste) {
        const end = buf.indexOf(END);
        if (end < 0) {
          const keep = partialMarker(buf, END, 1);
          this.#paste.push(buf.subarray(0, buf.length - keep));
          this.#held = Buffer.from(buf.subarray(buf.length - keep));
          return out;
        }
        this.#paste.push(buf.subarray(0, end));
        out.push({ kind: "paste", text: Buffer.concat(this.#paste).toString("utf8").replace(/\r\n?/g, "\n") });
        this.#paste = undefined;
        buf = buf.subarray(end + END.length);
        continue;
      }
      const start = buf.indexOf(START);
      if (start >= 0) {
        if (start > 0) out.push({ kind: "keys", data: validUtf8(buf.subarray(0, start)) });
        this.#paste = [];
        buf = buf.subarray(start + START.length);
        continue;
      }
      // A lone ESC is the escape key: only hold back "\x1b[" and longer.
      const keep = Math.max(partialMarker(buf, START, 2), incompleteUtf8(buf));
      if (buf.length > keep) out.push({ kind: "keys", data: validUtf8(buf.subarray(0, buf.length - keep)) });
      this.#held = Buffer.from(buf.subarray(buf.length - keep));
      return out;
    }
    return out;
  }

  /** Gives up waiting for the rest of held-back bytes (called after a short pause). */
  flush(): FilterOutput[] {
    if (!this.holding) return [];
    const data = this.#held;
    this.#held = Buffer.alloc(0);
    return [{ kind: "keys", data: validUtf8(data) }];
  }
}
