import { trustSuite } from "./trust-suite.js";

trustSuite("pglite");
