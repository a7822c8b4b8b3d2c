import { identitySuite } from "./identity-suite.js";
import { serverSuite } from "./server-suite.js";

serverSuite("postgres");
identitySuite("postgres");
