// Native addons (libopus, PortAudio) are optional dependencies: an install without a C/C++
// toolchain still gives working text chat, and voice says what is missing instead of crashing.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

export class NativeModuleError extends Error {
  override readonly name = "NativeModuleError";
}

/** Loads native addon `name` on first use; if it is absent or unbuilt, says so and what it is for. */
export function requireNative<T>(name: string, purpose: string): T {
  try {
    return require(name) as T;
  } catch (err) {
    // Absent (an optional dependency that failed to install) or present but never built.
    const detail = err instanceof Error ? (err.message.split("\n")[0] ?? "") : String(err);
    throw new NativeModuleError(
      `${purpose} needs the native module ${name}, which is missing or not built (${detail}). It is built when dialtone is installed: ` +
        "install a C/C++ toolchain (Debian/Ubuntu: apt-get install build-essential python3) and reinstall dialtone " +
        "(see the README's Install section). Text chat works without it.",
      { cause: err },
    );
  }
}
