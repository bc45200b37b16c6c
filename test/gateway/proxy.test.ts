/** The data path on the native splice relay (the default where the addon is built): see `proxy-suite.ts`. */
import { proxySuite } from "./proxy-suite";

proxySuite("splice");
