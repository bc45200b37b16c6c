import { MeshValidationError } from "../../mesh";

describe("MeshValidationError", () => {
  it("carries a stable code, the problems and a message naming every path", () => {
    const e = new MeshValidationError([
      { path: "a.b", message: "first" },
      { path: "c[0]", message: "second" },
    ]);
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe("MeshValidationError");
    expect(e.code).toBe("E_MESH_INVALID");
    expect(e.problems).toHaveLength(2);
    expect(e.message).toBe("invalid mesh: 2 problems\n  - a.b: first\n  - c[0]: second");
  });
  it("names the subject and uses the singular for one problem", () => {
    expect(new MeshValidationError([{ path: "x", message: "y" }], "routes").message).toBe(
      "invalid routes: 1 problem\n  - x: y",
    );
  });
});
