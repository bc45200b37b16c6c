/**
 * The gateway host compiled to JavaScript, once per soak run. Everything else in the soak runs
 * from its sources through the TypeScript compiler; the gateway must not, or the compiler would
 * sit in the very process whose memory the soak measures.
 */
import { compileProgram } from "../../test/support/gateway-program";

let compiled: Promise<string> | undefined;

/**
 * The path of the compiled `gateway-host.js` (compiled on the first call, about 5 s).
 * @param workDir the run's folder, where the compiled files go.
 */
export function compiledGatewayHost(workDir: string): Promise<string> {
  compiled ??= compileProgram("soak/load/gateway-host.ts", workDir).then((program) => program.main);
  return compiled;
}
