// Structured logs on stderr: one JSON object per line for services and collectors, or one
// `time level msg key=value` line for a person at a terminal. Callers pass ids, codes and counts
// only: never a username, password, token, ciphertext or SDP.
export type Level = "debug" | "info" | "warn" | "error";
const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type Fields = Record<string, string | number | boolean | bigint | null | undefined>;

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
}

export type LogFormat = "json" | "text";

export function createLogger(
  level: Level = "info",
  write: (line: string) => void = (l) => process.stderr.write(l),
  format: LogFormat = "json",
): Logger {
  const emit = (lvl: Level, msg: string, fields?: Fields) => {
    if (order[lvl] < order[level]) return;
    const rec: Record<string, unknown> = { time: new Date().toISOString(), level: lvl, msg };
    for (const [k, v] of Object.entries(fields ?? {})) if (v !== undefined) rec[k] = typeof v === "bigint" ? v.toString() : v;
    write(`${format === "json" ? JSON.stringify(rec) : textLine(rec)}\n`);
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
  };
}

/** `12:04:05 warn  msg key=value key="two words"`: the same record, for eyes. */
function textLine(rec: Record<string, unknown>): string {
  const { time, level, msg, ...fields } = rec;
  const kv = Object.entries(fields).map(
    ([k, v]) => `${k}=${typeof v === "string" && !/[\s"=]/.test(v) && v !== "" ? v : JSON.stringify(v)}`,
  );
  return [String(time).slice(11, 19), String(level).padEnd(5), msg, ...kv].join(" ");
}

/** Holds lines until release(), then passes them (and later ones) on: the start-up banner goes first. */
export function heldWriter(write: (line: string) => void): { write: (line: string) => void; release(): void } {
  let held: string[] | undefined = [];
  return {
    write: (line) => (held ? held.push(line) : write(line)),
    release() {
      for (const line of held ?? []) write(line);
      held = undefined;
    },
  };
}
