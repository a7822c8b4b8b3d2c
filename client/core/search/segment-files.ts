// Where the search cache's sealed segments live: `<keystore dir>/search/<name>.seg` (0700 / 0600),
// beside the server's keystore. A name is 16 hex digits of the writer's clock in ms, 8 random hex
// digits and a 4-hex-digit generation ("0000" appended, "0001"… a compaction of everything up to
// that stem), so sorting names sorts segments in the order their records apply.
import { randomBytes } from "node:crypto";
import { readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { ensurePrivateDir, keystorePaths, writeFileAtomic } from "../../keystore/index.js";

const SUFFIX = ".seg";
const NAME = /^[0-9a-f]{24}-[0-9a-f]{4}$/;

export class SegmentFiles {
  readonly #configDir: string;
  readonly dir: string;

  constructor(configDir: string, server: string) {
    this.#configDir = configDir;
    this.dir = join(keystorePaths(configDir, server).dir, "search");
  }

  /** A fresh name for an appended segment, sorting after the segments written before it. */
  static newName(now: number = Date.now()): string {
    return `${now.toString(16).padStart(16, "0")}${randomBytes(4).toString("hex")}-0000`;
  }

  /** The name of the compaction of every segment up to and including `last`. */
  static compactedName(last: string): string {
    const generation = Number.parseInt(last.slice(25), 16) + 1;
    return `${last.slice(0, 24)}-${Math.min(generation, 0xffff).toString(16).padStart(4, "0")}`;
  }

  path(name: string): string {
    return join(this.dir, `${name}${SUFFIX}`);
  }

  /** Segment names in apply order (other files, such as interrupted writes' temp files, are skipped). */
  async list(): Promise<string[]> {
    const entries = await readdir(this.dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return [] as string[];
      throw err;
    });
    return entries
      .filter((f) => f.endsWith(SUFFIX) && NAME.test(f.slice(0, -SUFFIX.length)))
      .map((f) => f.slice(0, -SUFFIX.length))
      .sort();
  }

  async read(name: string): Promise<Uint8Array> {
    return readFile(this.path(name)); // a Buffer is a Uint8Array: no copy of a large segment
  }

  async write(name: string, bytes: Uint8Array): Promise<void> {
    await ensurePrivateDir(this.#configDir, this.dir);
    await writeFileAtomic(this.path(name), bytes);
  }

  async remove(name: string): Promise<void> {
    await rm(this.path(name), { force: true });
  }

  /** Bytes on disk, for the bench and `search --json`'s report. */
  async size(): Promise<number> {
    let total = 0;
    for (const name of await this.list()) total += (await this.read(name)).length;
    return total;
  }
}
