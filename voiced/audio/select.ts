// --audio-backend device|tone:FREQ[:pulse]|file:PATH → an AudioBackend.
import type { AudioBackend } from "./backend.js";
import { deviceBackend } from "./device.js";
import { fileBackend } from "./file.js";
import { parseToneSpec, toneBackend } from "./tone.js";

export function audioBackend(spec: string): AudioBackend {
  if (spec === "device") return deviceBackend();
  if (spec.startsWith("tone:")) return toneBackend(spec);
  if (spec.startsWith("file:")) return fileBackend(spec);
  throw new Error(`--audio-backend: "${spec}" is not device, tone:FREQ[:pulse] or file:PATH`);
}

/** Checks the spec at flag-parsing time (a bad tone or an empty path stops start-up). */
export function validateAudioSpec(spec: string): void {
  if (spec.startsWith("tone:")) parseToneSpec(spec);
  else audioBackend(spec);
}
