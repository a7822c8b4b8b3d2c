// Failures on the way to a server (name lookup, TCP, TLS, HTTP), told apart from answers a
// Dialtone server gave: a typo in the host is not "the server said unavailable". The wording is
// here, once, for the CLI and the UI; it names the URL and a plain reason, never a Node error
// code or an OpenSSL string.
import { STATUS_CODES } from "node:http";
import { Code, ConnectError } from "@connectrpc/connect";
import { ApiError, toApiError } from "./errors.js";

export type ConnectionProblem =
  /** The host name does not resolve. */
  | { readonly kind: "no-such-host"; readonly host: string }
  /** Nothing listens on that port. */
  | { readonly kind: "refused" }
  /** No route, or the connection attempt timed out. */
  | { readonly kind: "unreachable"; readonly reason: string }
  /** Something answers, but not the Dialtone API (plain HTTP server, wrong path, not HTTP, TLS mismatch). */
  | { readonly kind: "not-dialtone"; readonly reason: string }
  /** TLS works but the certificate is not one this machine trusts. */
  | { readonly kind: "certificate"; readonly reason: string };

/** The server could not be reached, or what answered is not a Dialtone server. */
export class ConnectionError extends ApiError {
  readonly problem: ConnectionProblem;
  /** The server URL as configured. */
  readonly url: string;
  constructor(base: ApiError, url: string, problem: ConnectionProblem) {
    super(base.code, connectionProblemText(problem, url), { cause: base.cause });
    this.problem = problem;
    this.url = url;
  }
}

/** One line for a connection problem, e.g. "nothing answers at http://127.0.0.1:8080". */
export function connectionProblemText(problem: ConnectionProblem, url: string): string {
  switch (problem.kind) {
    case "no-such-host":
      return `cannot find host ${problem.host} (check the server URL)`;
    case "refused":
      return `nothing answers at ${url} (is dialtone-server running there?)`;
    case "unreachable":
      return `cannot reach ${url} (${problem.reason})`;
    case "not-dialtone":
      return `${url} does not look like a Dialtone server (${problem.reason})`;
    case "certificate":
      return `cannot trust the TLS certificate of ${url} (${problem.reason}; NODE_EXTRA_CA_CERTS=FILE adds a CA to trust)`;
  }
}

const CERTIFICATE_CODES: Readonly<Record<string, string>> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: "it is self-signed",
  SELF_SIGNED_CERT_IN_CHAIN: "its chain ends in a self-signed certificate",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "no trusted authority signed it",
  UNABLE_TO_GET_ISSUER_CERT: "no trusted authority signed it",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "no trusted authority signed it",
  CERT_UNTRUSTED: "no trusted authority signed it",
  CERT_HAS_EXPIRED: "it has expired",
  CERT_NOT_YET_VALID: "it is not valid yet",
  ERR_TLS_CERT_ALTNAME_INVALID: "it is for another host name",
};

/**
 * The codes and messages of an error and its causes. Read by shape, not `instanceof Error`:
 * an error from another realm (a test sandbox, a worker) is an Error all the same.
 */
function chainOf(err: unknown): { codes: Set<string>; messages: string[] } {
  const codes = new Set<string>();
  const messages: string[] = [];
  const seen = new Set<unknown>();
  for (let e = err; typeof e === "object" && e !== null && !seen.has(e); e = (e as { cause?: unknown }).cause) {
    seen.add(e);
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === "string") codes.add(code);
    if (e instanceof ConnectError) messages.push(e.rawMessage);
    else if (typeof message === "string") messages.push(message);
  }
  return { codes, messages };
}

/** What went wrong on the way, or undefined when the error is an answer from a Dialtone server. */
export function connectionProblem(err: unknown, url: string): ConnectionProblem | undefined {
  const { codes, messages } = chainOf(err);
  const text = messages.join("\n");
  const has = (...c: string[]) => c.some((x) => codes.has(x));
  const parsed = new URL(url);
  const https = parsed.protocol === "https:";
  const other = `${https ? "http" : "https"}://${parsed.host}${parsed.pathname.replace(/\/$/, "")}`;
  if (has("ENOTFOUND", "EAI_AGAIN", "EAI_NONAME", "EAI_FAIL")) return { kind: "no-such-host", host: parsed.hostname };
  if (has("ECONNREFUSED")) return { kind: "refused" };
  if (has("EHOSTUNREACH", "ENETUNREACH")) return { kind: "unreachable", reason: "no route to that host" };
  if (has("ETIMEDOUT")) return { kind: "unreachable", reason: "the connection timed out" };
  for (const [code, reason] of Object.entries(CERTIFICATE_CODES)) if (codes.has(code)) return { kind: "certificate", reason };
  if (
    https &&
    (has("ERR_SSL_WRONG_VERSION_NUMBER", "EPROTO") || /wrong version number|packet length too long|unknown protocol/.test(text))
  ) {
    return { kind: "not-dialtone", reason: `it does not speak TLS: try ${other}` };
  }
  if ([...codes].some((c) => c.startsWith("HPE_"))) return { kind: "not-dialtone", reason: "it does not answer in HTTP" };
  if (has("EPIPE", "ECONNRESET") || /socket hang up/.test(text)) {
    const tls = https ? "" : `; if it serves TLS, use ${other}`;
    return { kind: "not-dialtone", reason: `it closed the connection without answering${tls}` };
  }
  if (!(err instanceof ConnectError) || err.cause !== undefined) return undefined;
  // A Dialtone server, but the URL has a path it serves nothing under.
  const path = parsed.pathname.replace(/\/$/, "");
  if (path !== "" && err.code === Code.Unimplemented && err.rawMessage.startsWith(`method not found: ${path}/`)) {
    return { kind: "not-dialtone", reason: `nothing is served under ${path}: try ${parsed.origin}` };
  }
  // connect-node's words for a response that is not the Connect protocol at all; a Dialtone
  // server answers every path of its API with a Connect error body instead.
  const status = /^HTTP (\d{3})$/.exec(err.rawMessage);
  if (status) {
    const n = Number(status[1]);
    const phrase = `HTTP ${n}${STATUS_CODES[n] ? ` ${STATUS_CODES[n]}` : ""}`;
    if (n === 502 || n === 503 || n === 504)
      return { kind: "unreachable", reason: `${phrase} from a proxy: is the Dialtone server behind it running?` };
    return { kind: "not-dialtone", reason: n === 404 ? `${phrase} for the API: a wrong path?` : `it answered ${phrase}` };
  }
  const type = /^unsupported content type (.*)$/.exec(err.rawMessage);
  if (type) return { kind: "not-dialtone", reason: `it answered ${type[1] || "something"} instead of the Dialtone API` };
  return undefined;
}

/** Any error of a Connect call to `url`, as a ConnectionError or an ApiError (others pass through). */
export function toClientError(err: unknown, url: string): unknown {
  if (err instanceof ApiError) return err;
  const mapped = toApiError(err);
  if (!(mapped instanceof ApiError)) return mapped;
  const problem = connectionProblem(err, url);
  return problem ? new ConnectionError(mapped, url, problem) : mapped;
}
