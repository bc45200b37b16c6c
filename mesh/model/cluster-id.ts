/**
 * Consul's Connect trust domain is `<cluster-id>.consul`, where the cluster ID is a UUID the
 * primary datacenter draws when its CA first starts, unless the servers' configuration pins
 * it (`connect.ca_config.cluster_id`, read on first bootstrap only). Pinning it makes the
 * trust domain the one the model, the route plan and the routes files name.
 */
import { CLUSTER_TRUST_DOMAIN_PATTERN } from "./names";

/** The cluster ID (a UUID) of a trust domain `<uuid>.consul`, or `undefined` for any other form. */
export function clusterIdOf(trustDomain: string): string | undefined {
  const m = CLUSTER_TRUST_DOMAIN_PATTERN.exec(trustDomain);
  return m ? m[1] : undefined;
}

/** The trust domain `<clusterId>.consul` of a cluster ID (a UUID): the inverse of {@link clusterIdOf}. */
export function trustDomainOfClusterId(clusterId: string): string {
  return `${clusterId}.consul`;
}
