import { trustSuite } from "./trust-suite.js";

trustSuite("postgres");
