// Option values that start with "-": node:util's parseArgs refuses `--invite -Xy…` as ambiguous
// (is -Xy… a value or another option?). A value printed by the server (an invite token) must be
// pasteable as printed, so a string option's next argument is its value unless it is one of the
// command's own options.
import type { ParseArgsConfig } from "node:util";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** Rewrites `--name VALUE` to `--name=VALUE` where VALUE starts with "-" and is no option here. */
export function attachDashValues(args: readonly string[], options: Options): string[] {
  const known = new Set<string>();
  for (const [name, o] of Object.entries(options)) {
    known.add(`--${name}`);
    if (o.short) known.add(`-${o.short}`);
  }
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      out.push(...args.slice(i));
      break;
    }
    const next = args[i + 1];
    const name = arg.startsWith("--") ? arg.slice(2) : undefined;
    const isStringOption = name !== undefined && !name.includes("=") && options[name]?.type === "string";
    if (isStringOption && next?.startsWith("-") && next !== "-" && next !== "--" && !known.has(next.split("=", 1)[0]!)) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}
