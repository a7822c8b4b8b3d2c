#!/usr/bin/env node
// Runs the TypeScript entry point directly through tsx: no build step after `npm ci`.
import { register } from "tsx/esm/api";

register();
await import("../voiced/main.ts");
