/**
 * A gateway in Consul mode that runs with an ACL token at `--log-level trace`, through whatever
 * the soak puts Consul through (in the full run, the real server's crash; in the quick one, a
 * Consul that never answers), so that afterwards every place a token could leak can be read: its
 * log lines, `/metrics`, `/routes`, `/readyz` (error messages).
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import type { CheckList } from "../check";
import { SoakGateway } from "../load/soak-gateway";

const HOST = "127.0.1.4";

/** The token gateway. */
export class TokenWitness {
  private constructor(
    private readonly gateway: SoakGateway,
    private readonly token: string,
  ) {}

  /**
   * Starts it.
   * @param workDir folder for its log.
   * @param agent the agent's HTTP and gRPC addresses and the registered gateway whose routes it
   *   streams. Default: addresses where nothing answers.
   */
  static async start(
    workDir: string,
    agent?: { httpAddress: string; grpcAddress: string; gatewayServiceId: string },
  ): Promise<TokenWitness> {
    const token = randomUUID();
    const { httpAddress, grpcAddress, gatewayServiceId } = agent ?? {
      httpAddress: `http://${HOST}:1`,
      grpcAddress: `${HOST}:1`,
      gatewayServiceId: "mesh-gateway",
    };
    // Not registered: a second mesh gateway in dc1 would change the real mesh's paths under test.
    const routes = [
      ...["--consul", httpAddress, "--consul-grpc", grpcAddress],
      ...["--no-register", "--service-id", gatewayServiceId],
    ];
    const gateway = await SoakGateway.start({
      name: "token-witness-gateway",
      workDir,
      host: HOST,
      routes,
      logLevel: "trace",
      env: { CONSUL_HTTP_TOKEN: token },
      waitReady: agent !== undefined,
    });
    return new TokenWitness(gateway, token);
  }

  /**
   * Stops it and records where the token was seen.
   * @param list the phase's figures.
   */
  async check(list: CheckList): Promise<void> {
    const pages = await Promise.all(["/metrics", "/routes", "/readyz"].map((page) => this.gateway.admin(page)));
    await this.gateway.stop();
    const log = readFileSync(this.gateway.logFile, "utf8");
    const lines = log.split("\n").filter(Boolean);
    const started = lines.some((line) => /"event":"starting"/.test(line) && /"aclToken":true/.test(line));
    const errors = lines.filter((line) => /"level":(50|40)/.test(line)).length;
    const leaks = [log, ...pages].filter((text) => text.includes(this.token)).length;
    list.add(
      "the ACL token in log lines (trace level), /metrics, /routes and /readyz error messages",
      `${leaks} of ${lines.length} log lines and 3 pages hold it (${errors} error and warning lines; the gateway ran with the token: ${started})`,
      "in none, with the token in use",
      leaks === 0 && started,
    );
  }
}
