import { validationSuite } from "./validation-suite.js";

validationSuite("pglite");
