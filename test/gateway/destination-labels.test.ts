/** The connection metrics' destination labels: only what the route table vouches for, remote names bounded. */
import { DestinationLabeler, NO_LABELS, OTHER_SERVICE_LABEL } from "../../gateway/admin/destination-labels";
import type { RouteDecision } from "../../gateway/routing/router";

const endpoints = [{ address: "127.0.0.1", port: 1 }];
const local = (service: string): RouteDecision => ({
  kind: "local",
  key: service,
  datacenter: "dc1",
  service,
  endpoints,
});
const remote = (service: string, datacenter = "dc2"): RouteDecision => ({
  kind: "remote",
  key: `gw/${datacenter}`,
  datacenter,
  service,
  endpoints,
});

test("local destinations keep their service; refusals keep only what the table knows", () => {
  const labeler = new DestinationLabeler(10);
  expect(labeler.labelsOf(local("web"), "dc1")).toEqual({ datacenter: "dc1", service: "web" });
  expect(
    labeler.labelsOf({ kind: "reject", reason: "unknown-service", datacenter: "dc1", service: "made-up" }, "dc1"),
  ).toEqual({
    datacenter: "dc1",
    service: "",
  });
  expect(labeler.labelsOf({ kind: "reject", reason: "local-datacenter", datacenter: "dc1" }, "dc1")).toEqual({
    datacenter: "dc1",
    service: "",
  });
  expect(
    labeler.labelsOf({ kind: "reject", reason: "no-endpoints", datacenter: "dc1", service: "web" }, "dc1"),
  ).toEqual({
    datacenter: "dc1",
    service: "web",
  });
  for (const reason of [
    "no-sni",
    "foreign-trust-domain",
    "unsupported-name",
    "unknown-datacenter",
    "no-routes",
  ] as const) {
    expect(labeler.labelsOf({ kind: "reject", reason, datacenter: "d9", service: "x" }, "dc1")).toBe(NO_LABELS);
  }
});

test("remote service names: the first ones as they are, later ones as _other; a name seen keeps its label", () => {
  const labeler = new DestinationLabeler(2);
  expect(labeler.labelsOf(remote("a"), "dc1").service).toBe("a");
  expect(labeler.labelsOf(remote("b"), "dc1").service).toBe("b");
  expect(labeler.labelsOf(remote("c"), "dc1")).toEqual({ datacenter: "dc2", service: OTHER_SERVICE_LABEL });
  expect(labeler.labelsOf(remote("a"), "dc1").service).toBe("a");
  // The same name in another datacenter is another series; a datacenter name (no service) costs nothing.
  expect(labeler.labelsOf(remote("a", "dc3"), "dc1").service).toBe(OTHER_SERVICE_LABEL);
  expect(labeler.labelsOf(remote("", "dc3"), "dc1")).toEqual({ datacenter: "dc3", service: "" });
  // A remote destination without endpoints draws from the same budget.
  const noEndpoints: RouteDecision = { kind: "reject", reason: "no-endpoints", datacenter: "dc2", service: "d" };
  expect(labeler.labelsOf(noEndpoints, "dc1")).toEqual({ datacenter: "dc2", service: OTHER_SERVICE_LABEL });
});
