/**
 * What a connection's events count and log, whichever data path carries it: `connection.ts`
 * (Node.js sockets and the TypeScript pump) or `native-connections.ts` (the addon's front). One
 * home for each metric and log line, so both paths report alike.
 */
import type { RouteEndpoint } from "../../mesh/model/routes-file";
import { type DestinationLabels, NO_LABELS } from "../admin/destination-labels";
import type { HelloFailureReason } from "./client-hello";
import type { ConnectionHost, Destination } from "./connection-host";
import type { RouteDecision } from "../routing/router";

/** The part of {@link ConnectionHost} these events need. */
export type EventHost = Pick<ConnectionHost, "metrics" | "count" | "observeConnect" | "log">;

/**
 * A client whose hello was refused (or never came). A connect-and-close with no bytes is what TCP
 * health checks do: counted apart as a `probe`, logged at debug, never warned of.
 * @param host - The proxy.
 * @param reason - Why.
 * @param received - Bytes the client had sent.
 * @param remote - The client's address.
 */
export function helloRefused(
  host: EventHost,
  reason: HelloFailureReason,
  received: number,
  remote: string | undefined,
): void {
  const probe = reason === "eof" && received === 0;
  if (probe) host.count("probe", NO_LABELS);
  else {
    host.metrics.helloFailures.inc({ reason });
    host.count("rejected", NO_LABELS);
  }
  host.log(probe ? "debug" : "warn", "hello-refused", { reason, bytes: received, remote });
}

/**
 * A server name the table does not route.
 * @param host - The proxy.
 * @param destination - The refusal.
 * @param sni - The name.
 * @param remote - The client's address.
 */
export function routeRefused(host: EventHost, destination: Destination, sni: string, remote: string | undefined): void {
  const reason = (destination.decision as Extract<RouteDecision, { kind: "reject" }>).reason;
  host.metrics.routeRejections.inc({ reason });
  host.count("rejected", destination.labels);
  host.log("warn", "connection-rejected", { reason, sni, remote });
}

/**
 * One upstream connect attempt failed (the next endpoint is tried, if any).
 * @param host - The proxy.
 * @param destination - Where the connection goes.
 * @param endpoint - The endpoint that failed.
 * @param attempt - Its attempt, from 0.
 * @param why - `timeout`, or the error code (`ECONNREFUSED`…).
 * @param seconds - How long the attempt took.
 */
export function connectFailed(
  host: EventHost,
  destination: Destination,
  endpoint: RouteEndpoint,
  attempt: number,
  why: string,
  seconds: number,
): void {
  const decision = destination.decision as Exclude<RouteDecision, { kind: "reject" }>;
  const labels: DestinationLabels = destination.labels;
  host.observeConnect("failure", seconds);
  host.metrics.connectFailures.inc({ datacenter: labels.datacenter, service: labels.service });
  host.log("warn", "upstream-connect-failed", {
    reason: why,
    upstream: `${endpoint.address}:${endpoint.port}`,
    attempt: attempt + 1,
    of: decision.endpoints.length,
    datacenter: decision.datacenter,
    service: decision.service,
  });
}
