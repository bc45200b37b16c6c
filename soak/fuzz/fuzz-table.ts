/**
 * The route table the fuzzer routes every name it gets against: a gateway in `dc1` with local
 * services (one with a subset, one in a partition) and the gateways of two other datacenters.
 */
import { routeTableFromRoutesFile, type RouteTable } from "../../gateway/routing/route-table";

/** The trust domain of the fuzzed mesh. */
export const FUZZ_TRUST_DOMAIN = "5fcd4b81-a2ca-405a-ac62-0fac602c1949.consul";

/** The fuzzed gateway's datacenter. */
export const FUZZ_DATACENTER = "dc1";

const endpoint = [{ address: "127.0.0.1", port: 9 }];

/** The table. */
export const FUZZ_TABLE: RouteTable = routeTableFromRoutesFile({
  datacenter: FUZZ_DATACENTER,
  trustDomain: FUZZ_TRUST_DOMAIN,
  services: [
    { name: "web", endpoints: endpoint },
    { name: "web", subset: "v1", endpoints: endpoint },
    { name: "billing", namespace: "payments", partition: "finance", endpoints: endpoint },
  ],
  gateways: [
    { datacenter: "dc2", endpoints: endpoint },
    { datacenter: "dc3", partition: "finance", endpoints: endpoint },
  ],
});

/** Names the table routes, as a client sends them: the bases the name mutations start from. */
export const ROUTED_NAMES = [
  `web.default.dc1.internal.${FUZZ_TRUST_DOMAIN}`,
  `v1.web.default.dc1.internal.${FUZZ_TRUST_DOMAIN}`,
  `billing.payments.finance.dc1.internal-v1.${FUZZ_TRUST_DOMAIN}`,
  `api.default.dc2.internal.${FUZZ_TRUST_DOMAIN}`,
  `dc2.internal.${FUZZ_TRUST_DOMAIN}`,
  `finance.dc3.internal-v1.${FUZZ_TRUST_DOMAIN}`,
];

/**
 * Names the table must refuse: unknown service and datacenter, the gateway's own datacenter,
 * a foreign trust domain, a prepared query, a peered service, a server name.
 */
export const REFUSED_NAMES = [
  `nope.default.dc1.internal.${FUZZ_TRUST_DOMAIN}`,
  `web.default.dc9.internal.${FUZZ_TRUST_DOMAIN}`,
  `dc1.internal.${FUZZ_TRUST_DOMAIN}`,
  `web.default.dc1.internal.11111111-2222-3333-4444-555555555555.consul`,
  `geo-db.default.dc1.query.${FUZZ_TRUST_DOMAIN}`,
  `web.default.default.peer1.external.${FUZZ_TRUST_DOMAIN}`,
  `server.dc1.${FUZZ_TRUST_DOMAIN}`,
];
