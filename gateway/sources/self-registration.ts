/**
 * Consul mode: the gateway registers itself with its local agent exactly as
 * `consul connect envoy -gateway=mesh -register` does (body from `mesh/`), retrying with
 * back-off while the agent is unreachable, and deregisters on shutdown.
 */
import type { Logger } from "pino";
import {
  GatewayRegistrationInput,
  GatewayRegistrationJson,
  toGatewayRegistration,
} from "../../mesh/render/gateway-registration";
import type { ConsulClient } from "../../consul/client";

/** Options of a {@link SelfRegistration}. */
export interface SelfRegistrationOptions {
  /** First retry delay after a failed registration, in ms; doubles up to 30 s. Default: `1000`. */
  retryMinMs?: number;
}

/** Registers and deregisters one gateway instance. */
export class SelfRegistration {
  /** The exact body sent to `PUT /v1/agent/service/register`. */
  readonly body: GatewayRegistrationJson;
  private registered = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;

  /**
   * @param client the Consul client.
   * @param input name, ID, addresses, `Proxy.Config`.
   * @param logger where failures are reported.
   * @param options retry timing.
   */
  constructor(
    private readonly client: ConsulClient,
    input: GatewayRegistrationInput,
    private readonly logger: Logger,
    private readonly options: SelfRegistrationOptions = {},
  ) {
    this.body = toGatewayRegistration(input);
  }

  /** Whether the agent has accepted the registration. */
  get isRegistered(): boolean {
    return this.registered;
  }

  /** Tries to register now; on failure keeps retrying in the background. Resolves after the first attempt. */
  start(): Promise<void> {
    return this.attempt(this.options.retryMinMs ?? 1000);
  }

  private attempt(nextDelay: number): Promise<void> {
    this.inFlight = this.client.put("/v1/agent/service/register", this.body).then(
      () => {
        this.registered = true;
        this.logger.info(
          { event: "registered", id: this.body.ID, consul: this.client.address },
          "registered with Consul",
        );
      },
      (error: Error) => {
        this.logger.error(
          { event: "register-failed", id: this.body.ID, error: error.message, retryInMs: nextDelay },
          "registration failed",
        );
        if (this.stopped) return;
        this.timer = setTimeout(() => void this.attempt(Math.min(nextDelay * 2, 30_000)), nextDelay);
        this.timer.unref();
      },
    );
    return this.inFlight;
  }

  /** Stops retrying and, if registered, deregisters (`PUT /v1/agent/service/deregister/<ID>`). Never rejects. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.inFlight;
    if (!this.registered) return;
    try {
      await this.client.put(`/v1/agent/service/deregister/${encodeURIComponent(this.body.ID)}`);
      this.registered = false;
      this.logger.info({ event: "deregistered", id: this.body.ID }, "deregistered from Consul");
    } catch (error) {
      this.logger.error(
        { event: "deregister-failed", id: this.body.ID, error: (error as Error).message },
        "deregistration failed",
      );
    }
  }
}
