// Structured log: one JSON object per line, to --log FILE (0600) or standard error. Secrets
// are never passed in, and as a second fence every registered secret is masked in each line.
import { appendFileSync, openSync, closeSync } from "node:fs";

export type Level = "debug" | "info" | "warn" | "error";
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** Masks this value wherever it would appear in a line (session tokens, keys). */
  redact(secret: string): void;
}

export function createLogger(o: { level: Level; file?: string; write?: (line: string) => void }): Logger {
  const secrets = new Set<string>();
  let write = o.write;
  if (!write && o.file) {
    const file = o.file;
    closeSync(openSync(file, "a", 0o600));
    write = (line) => appendFileSync(file, line);
  }
  write ??= (line) => void process.stderr.write(line);
  const emit = (level: Level, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[level] < ORDER[o.level]) return;
    let line = JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields });
    for (const s of secrets) if (line.includes(s)) line = line.split(s).join("[redacted]");
    // SDP or candidates in a library's error text say where peers are: keep them out too.
    if (/v=0\\r\\n|candidate:/.test(line))
      line = line.replace(/v=0\\r\\n(?:[^"\\]|\\.)*/g, "[sdp]").replace(/candidate:[^"]*/g, "[candidate]");
    try {
      write!(`${line}\n`);
    } catch {
      // A full disk must not take the call down.
    }
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    redact(secret) {
      if (secret.length >= 8) secrets.add(secret);
    },
  };
}
