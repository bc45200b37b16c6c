/**
 * `DockerHost`: the Docker daemon one datacenter's containers run on — a `docker.Provider` for any
 * `DOCKER_HOST`, to pass to that datacenter's components as `opts.providers` — checked at every
 * preview and update: a daemon that does not answer fails the run naming the datacenter and the
 * host within 10 s, rather than as a bare provider error on the first resource.
 */
import * as docker from "@pulumi/docker";
import * as http from "node:http";
import * as pulumi from "@pulumi/pulumi";
import { DockerHostError } from "./errors";
import { dockerHostAddress } from "./stack/stack-config";

/** Time limit of the check, in ms. */
const PING_TIMEOUT_MS = 10_000;

/** Arguments of {@link DockerHost}. */
export interface DockerHostArgs {
  /** The datacenter whose containers run there (named by errors). */
  datacenter: string;
  /**
   * The daemon, as `DOCKER_HOST` takes it: `unix:///var/run/docker.sock`, `tcp://10.0.0.6:2376`,
   * `ssh://me@10.0.0.5`.
   */
  host: string;
  /** Check at preview and update that the daemon answers (`unix://` and `tcp://`; `ssh://` is left to the provider). Default: `true`. */
  check?: boolean;
}

/** One datacenter's Docker daemon, and a provider for it. */
export class DockerHost extends pulumi.ComponentResource {
  /** The datacenter whose containers run there. */
  readonly datacenter: string;
  /** The daemon, as given. */
  readonly host: string;
  /** The address other machines may reach the host at, when `host` names one (`tcp://`, `ssh://`). */
  readonly address?: string;
  /** A `docker.Provider` for the daemon. */
  readonly provider: docker.Provider;
  /** The daemon's API version, once it answered (with `check`, for `unix://` and `tcp://` hosts). */
  readonly checked?: pulumi.Output<string>;

  constructor(name: string, args: DockerHostArgs, opts?: pulumi.ComponentResourceOptions) {
    super("consul-mesh:index:DockerHost", name, {}, opts);
    this.datacenter = args.datacenter;
    this.host = args.host;
    this.address = dockerHostAddress(args.host);
    this.provider = new docker.Provider(`${name}-provider`, { host: args.host }, { parent: this });
    if (args.check !== false && /^(unix|tcp):\/\//.test(args.host)) {
      this.checked = pulumi.output(pingDockerHost(args.datacenter, args.host));
    }
    this.registerOutputs({ host: this.host, checked: this.checked });
  }
}

/**
 * Asks a daemon whether it answers (`GET /_ping`); any HTTP answer counts (a TLS daemon asked in
 * plain HTTP answers 400).
 * @param datacenter - The datacenter whose host it is, for errors.
 * @param host - A `unix://` or `tcp://` `DOCKER_HOST`.
 * @param timeoutMs - Time limit. Default: 10 s.
 * @returns The daemon's API version (`Api-Version`), or `""` when it did not say.
 * @throws {@link DockerHostError} naming the datacenter and the host.
 */
export function pingDockerHost(datacenter: string, host: string, timeoutMs = PING_TIMEOUT_MS): Promise<string> {
  const url = new URL(host);
  const target: http.RequestOptions =
    url.protocol === "unix:"
      ? { socketPath: url.pathname }
      : { host: url.hostname.replace(/^\[(.*)\]$/, "$1"), port: Number(url.port || 2375) };
  return new Promise((resolve, reject) => {
    const fail = (reason: string) => reject(new DockerHostError(datacenter, host, reason));
    const req = http.get({ ...target, path: "/_ping", timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(String(res.headers["api-version"] ?? ""));
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", (e: NodeJS.ErrnoException) =>
      fail(e.code ? `${e.code}: is a Docker daemon listening there?` : e.message),
    );
  });
}
