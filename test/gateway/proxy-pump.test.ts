/** The data path on the TypeScript pump (`--relay pump`, and the fallback without the addon): see `proxy-suite.ts`. */
import { proxySuite } from "./proxy-suite";

proxySuite("pump");
