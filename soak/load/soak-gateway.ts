/**
 * A gateway under soak: {@link SoakChild} running the compiled `gateway-host.ts` (the `sni-gateway` command)
 * on a loopback address with an admin server, with its metrics and process probes at hand.
 */
import path from "node:path";
import { metricSum } from "../../test/gateway/helpers";
import { eventually, freePorts } from "../../test/support/processes";
import { SoakChild } from "../child";
import { REPO_ROOT } from "../paths";
import { compiledGatewayHost } from "./compiled-host";
import type { GatewayProbe } from "./gateway-host";

/** Options of {@link SoakGateway.start}. */
export interface SoakGatewayOptions {
  /** A short name, also the log file's (`<workDir>/<name>.log`). */
  name: string;
  /** Folder for the log. */
  workDir: string;
  /** The loopback address to listen on (data and admin). */
  host: string;
  /** Routes: `["--routes", file]` or `["--consul", url, …]`. */
  routes: string[];
  /** `--max-connections`. Default: the gateway's default. */
  maxConnections?: number;
  /** `--log-level`. Default: `"warn"`. */
  logLevel?: string;
  /** More flags. Default: none. */
  extraArgs?: string[];
  /** Wait for `/readyz` to answer 200 (else `/healthz`). Default: `true`. */
  waitReady?: boolean;
  /** More environment variables (`CONSUL_HTTP_TOKEN`). Default: none. */
  env?: NodeJS.ProcessEnv;
}

/** A running gateway. */
export class SoakGateway {
  private constructor(
    /** The process. */
    readonly child: SoakChild,
    /** Where it accepts mesh traffic. */
    readonly host: string,
    /** Its data port. */
    readonly port: number,
    /** `http://host:port` of its admin server. */
    readonly adminUrl: string,
    /** Its log file. */
    readonly logFile: string,
  ) {}

  /**
   * Starts a gateway and waits until it answers (ready, unless told not to wait for it).
   * @param options see {@link SoakGatewayOptions}.
   */
  static async start(options: SoakGatewayOptions): Promise<SoakGateway> {
    const [port, adminPort] = await freePorts(options.host, 2);
    const args = [
      "--datacenter",
      "dc1",
      "--listen",
      `${options.host}:${port}`,
      "--admin",
      `${options.host}:${adminPort}`,
      ...options.routes,
    ];
    if (options.maxConnections !== undefined) args.push("--max-connections", String(options.maxConnections));
    args.push("--log-level", options.logLevel ?? "warn", ...(options.extraArgs ?? []));
    const logFile = path.join(options.workDir, `${options.name}.log`);
    const host = await compiledGatewayHost(options.workDir);
    const env = { NODE_PATH: path.join(REPO_ROOT, "node_modules"), ...options.env };
    const child = SoakChild.start(options.name, host, args, logFile, { execArgv: ["--expose-gc"], env });
    const gateway = new SoakGateway(child, options.host, port, `http://${options.host}:${adminPort}`, logFile);
    const page = options.waitReady === false ? "/healthz" : "/readyz";
    try {
      await eventually(
        `${options.name} to answer ${page}`,
        async () => (await fetch(`${gateway.adminUrl}${page}`)).status === 200,
        { timeoutMs: 30_000, intervalMs: 100 },
      );
    } catch (error) {
      // Not handed to the caller, so stopped here: it would outlive its phase.
      await gateway.stop(2000).catch(() => undefined);
      throw error;
    }
    return gateway;
  }

  /** Reads the gateway process: descriptors, memory, timers. */
  probe(): Promise<GatewayProbe> {
    return this.child.call<GatewayProbe>({ type: "probe" });
  }

  /**
   * A metric from `/metrics`, summed over the samples whose labels include `labels`.
   * @param name the metric.
   * @param labels labels to match. Default: all samples.
   */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    return metricSum(await this.admin("/metrics"), name, labels);
  }

  /**
   * The body of an admin page.
   * @param page e.g. `/routes`.
   */
  async admin(page: string): Promise<string> {
    return (await fetch(`${this.adminUrl}${page}`, { signal: AbortSignal.timeout(10_000) })).text();
  }

  /**
   * SIGTERM (drain), then SIGKILL after `graceMs`; resolves with the exit code.
   * @param graceMs how long it may drain, in ms. Default: `15000`.
   */
  stop(graceMs = 15_000): Promise<number | string> {
    return this.child.stop("SIGTERM", graceMs);
  }
}
