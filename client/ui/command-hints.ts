// The UI's slash commands, as the shared views (client/core/views) point at them.
import type { CommandHints } from "../core/index.js";

export const UI_HINTS: CommandHints = {
  devices: "/devices",
  verify: (user) => `/verify ${user}`,
  confirmVerified: (user) => `/verify ${user} confirm`,
  approve: (fp) => `/devices approve ${fp}`,
  admit: (user) => `/admit ${user}`,
  recover: "/recover <code>",
};
