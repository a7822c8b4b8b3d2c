import { serverSuite } from "./server-suite.js";

serverSuite("pglite");
