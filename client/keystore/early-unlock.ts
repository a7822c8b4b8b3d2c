// Starts the keystore's scrypt (~0.3 s of CPU) before the client's modules load (~0.25 s), so
// the two overlap on two cores: `dialtone whoami` and `send` pay the longer of them, not both
// (issue 14). Only when the passphrase is already known (DIALTONE_PASSPHRASE) and the keystore
// can be told from the command line without loading the client: `--server`, or the only keystore
// in the config dir. Anything unexpected here is ignored: the command itself opens the keystore
// and reports what is wrong, as if this had not run. Imports little on purpose.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { KEYSTORE_SCRYPT_PARAMS } from "../crypto/keystore-params.js";
import { keystorePaths, resolveConfigDir } from "./paths.js";
import { startEarlyScrypt } from "./scrypt.js";

// Commands that create a keystore (a fresh salt) or never open one.
const NO_UNLOCK = new Set(["register", "login", "help"]);

/** The value of `--server URL` / `--server=URL` in argv. */
function serverFlag(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--server") return argv[i + 1];
    if (a.startsWith("--server=")) return a.slice("--server=".length);
  }
  return undefined;
}

/** The keystore file this command line would open, when that is clear without the client. */
export function keystoreFileFor(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): string | undefined {
  const configDir = resolveConfigDir(env);
  const flag = serverFlag(argv);
  if (flag !== undefined) {
    // A bare `localhost:8080` means http:// (client/core/servers.ts parseServerUrl).
    for (const url of [flag, `http://${flag}`]) {
      try {
        const file = keystorePaths(configDir, url).file;
        if (existsSync(file)) return file;
      } catch {
        // not a URL in this spelling
      }
    }
    return undefined;
  }
  const servers = join(configDir, "servers");
  if (!existsSync(servers)) return undefined;
  const dirs = readdirSync(servers, { withFileTypes: true }).filter((d) => d.isDirectory());
  if (dirs.length !== 1) return undefined;
  const file = join(configDir, "servers", dirs[0]!.name, "keystore.json");
  return existsSync(file) ? file : undefined;
}

/** Starts the scrypt the command will need, if it will need one and it can be known now. */
export function startEarlyUnlock(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): void {
  const passphrase = env["DIALTONE_PASSPHRASE"];
  if (!passphrase || argv.includes("--help") || argv.includes("-h")) return;
  const first = argv.find((a) => !a.startsWith("-"));
  if (first !== undefined && NO_UNLOCK.has(first)) return;
  try {
    const file = keystoreFileFor(argv, env);
    if (!file) return;
    const doc = JSON.parse(readFileSync(file, "utf8")) as { kdf?: { N?: unknown; r?: unknown; p?: unknown; salt?: unknown } };
    const { N, r, p, salt } = doc.kdf ?? {};
    // Only the format's own parameters: a file naming others is refused when opened, and must
    // not make this start a costlier derivation first.
    const want = KEYSTORE_SCRYPT_PARAMS;
    if (N !== want.N || r !== want.r || p !== want.p || typeof salt !== "string") return;
    // The bytes keystore-format.ts passphraseBytes derives from. Were the two to differ, the
    // command's own scrypt would simply not match this one and run again.
    startEarlyScrypt(Buffer.from(passphrase.normalize("NFC"), "utf8"), Buffer.from(salt, "base64"), N, r, p);
  } catch {
    // no config dir yet, unreadable file, not JSON: the command reports it
  }
}
