import { clusterIdOf } from "../../mesh";
import { trustDomainOfClusterId } from "../../mesh/model/cluster-id";

describe("clusterIdOf", () => {
  it("reads the UUID of a <uuid>.consul trust domain and nothing else", () => {
    expect(clusterIdOf("5fcd4b81-a2ca-405a-ac62-0fac602c1949.consul")).toBe("5fcd4b81-a2ca-405a-ac62-0fac602c1949");
    expect(clusterIdOf("5FCD4B81-a2ca-405a-ac62-0fac602c1949.consul")).toBeUndefined();
    expect(clusterIdOf("example.consul")).toBeUndefined();
    expect(clusterIdOf("5fcd4b81-a2ca-405a-ac62-0fac602c1949.consul.evil")).toBeUndefined();
  });

  it("is the inverse of trustDomainOfClusterId", () => {
    const id = "5fcd4b81-a2ca-405a-ac62-0fac602c1949";
    expect(trustDomainOfClusterId(id)).toBe(`${id}.consul`);
    expect(clusterIdOf(trustDomainOfClusterId(id))).toBe(id);
  });
});
