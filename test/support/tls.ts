// Self-signed certificates for the TLS tests, made by openssl at test time (P-256, one day).
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";

export interface SelfSigned {
  /** Paths of the PEM files written: `name.key`, `name.crt`. */
  readonly keyPath: string;
  readonly certPath: string;
  readonly key: Buffer;
  readonly cert: Buffer;
  /** SHA-256 fingerprint as node prints it ("AB:CD:…"), to tell two certificates apart. */
  readonly fingerprint: string;
}

/**
 * Writes a fresh key and self-signed certificate to `dir`. `names`: its subjectAltName
 * (default localhost and 127.0.0.1); `subject` tells certificates of the same names apart.
 */
export function selfSigned(dir: string, name: string, opts: { names?: string; subject?: string } = {}): SelfSigned {
  const keyPath = path.join(dir, `${name}.key`);
  const certPath = path.join(dir, `${name}.crt`);
  const args = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"];
  args.push("-subj", `/CN=${opts.subject ?? "localhost"}`, "-addext", `subjectAltName=${opts.names ?? "DNS:localhost,IP:127.0.0.1"}`);
  execFileSync("openssl", [...args, "-keyout", keyPath, "-out", certPath], { stdio: "ignore" });
  const cert = readFileSync(certPath);
  return { keyPath, certPath, key: readFileSync(keyPath), cert, fingerprint: new X509Certificate(cert).fingerprint256 };
}
