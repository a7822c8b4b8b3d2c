#!/usr/bin/env node
// dialtone-voiced: runs the compiled bundle, or the TypeScript sources when it is stale (see launch.js).
import { launch } from "./launch.js";

await launch("dialtone-voiced", "voiced/main.ts");
