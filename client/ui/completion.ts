// Tab completion of the word before the cursor: "@al" → "@alice " (members), "#gen" → "#general "
// (channels), and the user argument of commands that take one ("/verify al" → "/verify alice ").
// Pure: the chat screen gives the input and the names.

export interface CompletionSources {
  /** Member labels (display names, "name#1a2b" where two share one). */
  readonly users: readonly string[];
  /** Channel labels. */
  readonly channels: readonly string[];
}

export interface Completion {
  /** The whole input with the word completed (or extended to what all matches share). */
  readonly text: string;
  /** Several names match: them, to show (empty when the completion was unique). */
  readonly choices: readonly string[];
}

/** Commands whose first argument is a member. */
const USER_COMMANDS = /^\/(?:verify|admit|admin (?:promote|demote|remove)|voice (?:volume|vol))\s+(\S*)$/i;

const fold = (s: string) => s.normalize("NFC").toLowerCase();

function commonPrefix(words: readonly string[]): string {
  let prefix = words[0] ?? "";
  for (const w of words) {
    let i = 0;
    while (i < prefix.length && i < w.length && fold(prefix[i]!) === fold(w[i]!)) i++;
    prefix = prefix.slice(0, i);
  }
  return prefix;
}

/** Completes the last word of `input` (completion happens at the end of the input); undefined when nothing matches. */
export function complete(input: string, sources: CompletionSources): Completion | undefined {
  const cmd = USER_COMMANDS.exec(input);
  let start: number;
  let sigil: string;
  let names: readonly string[];
  if (cmd) {
    start = input.length - cmd[1]!.length;
    sigil = cmd[1]!.startsWith("@") ? "@" : "";
    names = sources.users;
  } else {
    const m = /(^|\s)([@#])(\S*)$/.exec(input);
    if (!m) return undefined;
    start = m.index + m[1]!.length;
    sigil = m[2]!;
    names = sigil === "@" ? sources.users : sources.channels;
  }
  const typed = fold(input.slice(start + sigil.length));
  // Names with spaces cannot be completed into one word: they are offered as they are ("@Ann Lee").
  const matches = [...new Set(names)].filter((n) => fold(n).startsWith(typed)).sort((a, b) => a.localeCompare(b));
  if (matches.length === 0) return undefined;
  const head = input.slice(0, start) + sigil;
  if (matches.length === 1) return { text: `${head}${matches[0]} `, choices: [] };
  const shared = commonPrefix(matches);
  return { text: head + (shared.length > typed.length ? shared : input.slice(start + sigil.length)), choices: matches };
}
