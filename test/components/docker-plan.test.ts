import { DEFAULT_RESOURCE_PREFIX, dockerLabels } from "../../components/plans/docker-plan";

describe("docker plan", () => {
  test("labels name the datacenter, the role and the service, in that order, each when given", () => {
    expect(dockerLabels({ service: "web", datacenter: "dc1", role: "app" })).toEqual([
      { label: "consul-mesh.datacenter", value: "dc1" },
      { label: "consul-mesh.role", value: "app" },
      { label: "consul-mesh.service", value: "web" },
    ]);
    expect(dockerLabels({ role: "wan" })).toEqual([{ label: "consul-mesh.role", value: "wan" }]);
    expect(dockerLabels({})).toEqual([]);
  });

  test("the default prefix of Docker object names", () => {
    expect(DEFAULT_RESOURCE_PREFIX).toBe("consul-mesh");
  });
});
