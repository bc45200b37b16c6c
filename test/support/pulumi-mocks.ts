/**
 * A reusable harness for Pulumi's mock runtime: every resource (components, providers and
 * custom resources) is recorded with its type, name, inputs, parent and options, so tests
 * can assert on the children a component creates without a Pulumi engine.
 *
 * Usage:
 *   const mocks = await setupMocks();            // before any resource is constructed
 *   new MyComponent("x", args);
 *   await mocks.settle();                        // wait for every registration
 *   mocks.byType("docker:index/container:Container")
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- the mock monitor's wire data is untyped */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as runtimeSettings from "@pulumi/pulumi/runtime/settings";

/** Pulumi's wire marker for a secret value (`{ [sigKey]: secretSig, value }`). */
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** One registered resource as the mock monitor saw it. */
export interface RecordedResource {
  /** The resource's URN. */
  urn: string;
  /** Type token, e.g. `docker:index/container:Container` or `consul-mesh:index:Datacenter`. */
  type: string;
  /** Logical name. */
  name: string;
  /** `true` for custom resources (and providers), `false` for components. */
  custom: boolean;
  /** Inputs with every secret unwrapped to its plain value. */
  inputs: Record<string, any>;
  /** Inputs as the engine received them: secrets still wrapped in Pulumi's secret marker. */
  rawInputs: Record<string, any>;
  /** Top-level input names whose value is, or contains, a secret. */
  secretInputs: string[];
  /** URN of the parent resource (the stack for top-level resources). */
  parent: string;
  /** Resource options as the engine received them. */
  options: {
    /** URNs this resource depends on (explicit `dependsOn` and input dependencies). */
    dependencies: string[];
    /** Provider reference (`urn::id`), or `""` for the default provider. */
    provider: string;
    /** `additionalSecretOutputs`. */
    additionalSecretOutputs: string[];
    /** `ignoreChanges`. */
    ignoreChanges: string[];
    /** `replaceOnChanges`. */
    replaceOnChanges: string[];
    /** `deleteBeforeReplace`. */
    deleteBeforeReplace: boolean;
    /** `protect`. */
    protect: boolean;
  };
}

/** A recorded provider function call (an invoke such as `consul.getAclTokenSecretId`). */
export interface RecordedCall {
  token: string;
  inputs: Record<string, any>;
  provider?: string;
}

/** Options of {@link setupMocks}. */
export interface MockOptions {
  /** Project name. Default: `"project"`. */
  project?: string;
  /** Stack name. Default: `"stack"`. */
  stack?: string;
  /** Run as a preview (`pulumi preview`). Default: `false`. */
  preview?: boolean;
  /**
   * Extra state a resource reports back (computed outputs), merged over its inputs and
   * {@link defaultState}. Default: none.
   */
  state?: (args: pulumi.runtime.MockResourceArgs) => Record<string, unknown> | undefined;
  /** Results of provider function calls. Default: {@link defaultCall}. */
  call?: (args: pulumi.runtime.MockCallArgs) => Record<string, unknown>;
}

/** What {@link setupMocks} returns: the recordings and helpers over them. */
export interface MockHarness {
  /** Every registered resource, in registration order. */
  resources: RecordedResource[];
  /** Every provider function call. */
  calls: RecordedCall[];
  /** Waits until every outstanding registration has reached the mock monitor. */
  settle(): Promise<void>;
  /** Resources of one type token. */
  byType(type: string): RecordedResource[];
  /** The resource with this logical name (and type, if given); throws if absent or ambiguous. */
  get(name: string, type?: string): RecordedResource;
  /** Direct children of the resource with this URN. */
  childrenOf(urn: string): RecordedResource[];
  /** Forgets every recording (e.g. between tests). */
  reset(): void;
}

/** A UUID (version 4 in form) that depends only on `name`: what the mocks draw for a resource of that name. */
export function mockUuidOf(name: string): string {
  const hex = createHash("sha256").update(name).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * Computed outputs the real providers would report, for the resource types this project
 * creates: `RemoteImage.imageId`, `Image.repoDigest` (a local build's image ID),
 * `AclToken.accessorId`, the generated token's `value`, the generated trust domain's `value` (a
 * UUID made of the resource's name, {@link mockUuidOf}), the CA's and certificate's PEM (stand-ins
 * naming the resource), a gossip key (32 bytes of the name's hash), a preset token's accessor ID.
 */
export function defaultState(args: pulumi.runtime.MockResourceArgs): Record<string, unknown> {
  switch (args.type) {
    case "docker:index/remoteImage:RemoteImage":
      return { imageId: `sha256:mock-image-of-${args.inputs.name}` };
    case "docker:index/image:Image":
      return { repoDigest: `sha256:mock-build-of-${args.inputs.imageName}` };
    case "consul:index/aclToken:AclToken":
      return { accessorId: `accessor-of-${args.name}` };
    case "pulumi-nodejs:dynamic:GeneratedToken":
      return { value: { [SIG_KEY]: SECRET_SIG, value: `generated-secret-of-${args.name}` } };
    case "pulumi-nodejs:dynamic:GeneratedTrustDomain":
      return { value: mockUuidOf(args.name) };
    case "pulumi-nodejs:dynamic:ConsulCertificateAuthority":
      return { caPem: `ca-pem-of-${args.name}`, caKeyPem: { [SIG_KEY]: SECRET_SIG, value: `ca-key-of-${args.name}` } };
    case "pulumi-nodejs:dynamic:ConsulServerCertificate":
      return { certPem: `cert-pem-of-${args.name}`, keyPem: { [SIG_KEY]: SECRET_SIG, value: `key-of-${args.name}` } };
    case "pulumi-nodejs:dynamic:GossipKey":
      return { value: { [SIG_KEY]: SECRET_SIG, value: createHash("sha256").update(args.name).digest("base64") } };
    case "pulumi-nodejs:dynamic:PresetAclToken":
      return { accessorId: `accessor-of-${args.name}` };
    default:
      return {};
  }
}

/**
 * Results of the provider functions this project calls: `consul.getAclTokenSecretId`
 * answers `secret-of-<accessorId>`; anything else echoes its inputs.
 */
export function defaultCall(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
  if (args.token === "consul:index/getAclTokenSecretId:getAclTokenSecretId") {
    return { ...args.inputs, id: args.inputs.accessorId, secretId: `secret-of-${args.inputs.accessorId}` };
  }
  return { ...args.inputs };
}

/** Whether a wire value is Pulumi's secret marker. */
export function isSecretMarker(value: unknown): value is { value: unknown } {
  return typeof value === "object" && value !== null && (value as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}

/** Removes every secret marker, keeping the plain values. */
export function unwrapSecrets(value: unknown): any {
  if (isSecretMarker(value)) return unwrapSecrets(value.value);
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = unwrapSecrets(v);
    return out;
  }
  return value;
}

/** Whether a wire value is, or contains, a secret. */
export function containsSecret(value: unknown): boolean {
  if (isSecretMarker(value)) return true;
  if (Array.isArray(value)) return value.some(containsSecret);
  if (typeof value === "object" && value !== null) return Object.values(value).some(containsSecret);
  return false;
}

/** Whether an output's value is known (`false` for what a preview cannot know yet). */
export function isKnown(output: pulumi.Output<unknown>): Promise<boolean> {
  return (output as unknown as { isKnown: Promise<boolean> }).isKnown;
}

/**
 * The outputs each component registers (`registerOutputs`), by URN, as the engine receives them.
 * Call after {@link setupMocks}, before the components are constructed.
 */
export function recordOutputs(): Map<string, Record<string, unknown>> {
  const outputs = new Map<string, Record<string, unknown>>();
  const monitor = pulumi.runtime.getMonitor() as any;
  const original = monitor.registerResourceOutputs.bind(monitor);
  monitor.registerResourceOutputs = (req: any, callback: (err: any, res: any) => void) => {
    outputs.set(req.getUrn(), req.getOutputs().toJavaScript());
    return original(req, callback);
  };
  return outputs;
}

/** Resolves an output's value (never resolves for an unknown: only use on known values). */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => resolve(v)));
}

/**
 * Installs Pulumi's mock runtime with a recorder. Call before constructing any resource;
 * calling it again starts a fresh runtime and fresh recordings.
 */
export async function setupMocks(options: MockOptions = {}): Promise<MockHarness> {
  const resources: RecordedResource[] = [];
  const calls: RecordedCall[] = [];

  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const extra = { ...defaultState(args), ...(options.state?.(args) ?? {}) };
        const id = args.custom === false ? undefined : `${args.name}-id`;
        // Keep secret markers in the returned state so outputs stay secret, as the engine does.
        return { id, state: { ...args.inputs, ...extra } };
      },
      call(args) {
        calls.push({ token: args.token, inputs: unwrapSecrets(args.inputs), provider: args.provider });
        return options.call ? options.call(args) : defaultCall(args);
      },
    },
    options.project ?? "project",
    options.stack ?? "stack",
    options.preview ?? false,
  );

  // Wrap the mock monitor so the request's parent and options are recorded as well.
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource(req: any, callback: (err: any, res: any) => void): Promise<void>;
  };
  const original = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, callback: (err: any, res: any) => void) => {
    const raw = req.getObject().toJavaScript() as Record<string, any>;
    const rawInputs: Record<string, any> = {};
    for (const [k, v] of Object.entries(raw)) if (v !== undefined) rawInputs[k] = v;
    const record: Omit<RecordedResource, "urn"> = {
      type: req.getType(),
      name: req.getName(),
      custom: req.getCustom(),
      inputs: unwrapSecrets(rawInputs),
      rawInputs,
      secretInputs: Object.keys(rawInputs)
        .filter((k) => containsSecret(rawInputs[k]))
        .sort(),
      parent: req.getParent(),
      options: {
        dependencies: [...req.getDependenciesList()].sort(),
        provider: req.getProvider(),
        additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
        ignoreChanges: req.getIgnorechangesList(),
        replaceOnChanges: req.getReplaceonchangesList(),
        deleteBeforeReplace: req.getDeletebeforereplace(),
        protect: req.getProtect() ?? false,
      },
    };
    return original(req, (err, res) => {
      if (!err && res) resources.push({ urn: res.getUrn(), ...record });
      callback(err, res);
    });
  };

  // `waitForRPCs` is exported at runtime but marked internal in the declarations.
  const settings = runtimeSettings as unknown as { waitForRPCs(): Promise<void> };

  const harness: MockHarness = {
    resources,
    calls,
    async settle() {
      // Registrations chain on each other's outputs: drain the RPC queue until it stays empty.
      for (let i = 0; i < 50; i++) {
        const before = resources.length;
        await settings.waitForRPCs();
        await new Promise((r) => setImmediate(r));
        if (resources.length === before) {
          await settings.waitForRPCs();
          if (resources.length === before) return;
        }
      }
    },
    byType(type) {
      return resources.filter((r) => r.type === type);
    },
    get(name, type) {
      const found = resources.filter((r) => r.name === name && (type === undefined || r.type === type));
      if (found.length !== 1) {
        throw new Error(`expected one resource named ${name}${type ? ` of type ${type}` : ""}, found ${found.length}`);
      }
      return found[0];
    },
    childrenOf(urn) {
      return resources.filter((r) => r.parent === urn);
    },
    reset() {
      resources.length = 0;
      calls.length = 0;
    },
  };
  return harness;
}
