#!/usr/bin/env node
// dialtone-server: runs the compiled bundle, or the TypeScript sources when it is stale (see launch.js).
import { launch } from "./launch.js";

await launch("dialtone-server", "server/main.ts");
