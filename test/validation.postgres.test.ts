import { validationSuite } from "./validation-suite.js";

validationSuite("postgres");
