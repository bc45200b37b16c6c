/**
 * The shapes of names, each written once: a Consul name (datacenter, service, namespace,
 * partition) is a DNS label of letters, digits, `-` and `_`; in an SNI name it stands in lower
 * case; a trust domain is a DNS name of lower-case labels.
 */

/** One label of `letters`, digits, `-` and `_`: 1–63 characters, a letter or digit at each end. */
const label = (letters: string) => `^[${letters}0-9]([${letters}0-9_-]{0,61}[${letters}0-9])?$`;

/** A Consul name, in any case: what the routes file and the CLI accept (the model takes them in lower case, {@link SNI_LABEL_PATTERN}). */
export const NAME_PATTERN = new RegExp(label("A-Za-z"));

/** A name as it stands in an SNI name: lower case only. */
export const SNI_LABEL_PATTERN = new RegExp(label("a-z"));

/** A trust domain: two or more dot-separated host-name labels in lower case (no `_`), e.g. `<cluster-id>.consul`. */
export const TRUST_DOMAIN_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

/** A domain name in any case, as the gateway takes a trust domain (`--trust-domain`, a routes file's `trustDomain`). */
export const DOMAIN_PATTERN = /^[A-Za-z0-9.-]+$/;

/** The trust domain Consul draws: `<cluster-id>.consul`, the cluster ID a UUID in lower case. */
export const CLUSTER_TRUST_DOMAIN_PATTERN = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.consul$/;
