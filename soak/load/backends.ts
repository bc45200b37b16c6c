/**
 * The soak's backend process ({@link SoakChild} running `backend.ts`) seen from the soak.
 */
import path from "node:path";
import { SoakChild } from "../child";
import type { BackendStats } from "./backend";

/** An endpoint a backend listens on. */
export interface Endpoint {
  /** Loopback address. */
  address: string;
  /** Port. */
  port: number;
}

/** The backend process. */
export class Backends {
  private constructor(private readonly child: SoakChild) {}

  /**
   * Starts the process.
   * @param workDir folder for its log.
   */
  static start(workDir: string): Backends {
    return new Backends(SoakChild.start("backends", "load/backend.ts", [], path.join(workDir, "backends.log")));
  }

  /**
   * A new echo endpoint.
   * @param address the loopback address to listen on.
   */
  listen(address: string): Promise<Endpoint> {
    return this.child.call<Endpoint>({ type: "listen", address });
  }

  /** What the backends have seen. */
  stats(): Promise<BackendStats> {
    return this.child.call<BackendStats>({ type: "stats" });
  }

  /** Connections accepted over all endpoints. */
  async accepted(): Promise<number> {
    return Object.values((await this.stats()).accepted).reduce((a, b) => a + b, 0);
  }

  /** Stops the process. */
  async stop(): Promise<void> {
    await this.child.stop();
  }
}

/**
 * The soak's client process (`clients.ts`): connections to one gateway with one server name.
 * @param workDir folder for its log.
 * @param host the gateway's address.
 * @param port its data port.
 * @param sni the server name every connection sends.
 */
export function startClients(workDir: string, host: string, port: number, sni: string): SoakChild {
  return SoakChild.start(
    "clients",
    "load/clients.ts",
    [host, String(port), sni],
    path.join(workDir, `clients-${port}.log`),
  );
}
