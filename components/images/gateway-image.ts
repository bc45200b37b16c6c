/**
 * `GatewayImage`: the SNI gateway's Docker image that `MeshGateway` runs. Either built from
 * this package with `@pulumi/docker` (`docker.Image`, kept local by default), or an image
 * that is already published, taken by name (and optionally pulled with `docker.RemoteImage`).
 *
 * The build context holds the compiled gateway and mesh model, their production dependencies
 * only and `gateway/Dockerfile` (`gateway-image-context.ts`), so the build needs no network
 * beyond its base image; unless given, it is prepared from this package as installed. On a
 * machine without a registry, build the base first (`npm run images:local`) and pass it as
 * `baseImage`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { MeshProblem } from "../../mesh";
import { throwIfProblems } from "../plans/arg-problems";
import { prepareGatewayImageContext } from "./gateway-image-context";
import { hostPlatform, isImageName, isImageReference } from "./image-reference";

/** The image name (`repository:tag`) a build gets when `imageName` is not given. */
export const DEFAULT_GATEWAY_IMAGE_NAME = "consul-mesh/sni-gateway:latest";

/** Arguments of {@link GatewayImage}. */
export interface GatewayImageArgs {
  /**
   * A published gateway image to use instead of building one, e.g.
   * `registry.example.com/sni-gateway:0.1.0`. When set, none of the build arguments may be.
   * Default: none (build).
   */
  image?: pulumi.Input<string>;
  /** With `image`: pull it (a `docker.RemoteImage`, kept locally on destroy). Default: `false`. */
  pull?: boolean;
  /** Name (`repository[:tag]`) of the built image. Default: {@link DEFAULT_GATEWAY_IMAGE_NAME}. */
  imageName?: string;
  /**
   * The build context: a directory prepared by `scripts/gateway-image-context.sh DIR`. Default:
   * `dist/gateway-image` under this package's root, prepared there when it is missing.
   */
  context?: string;
  /** The Dockerfile. Default: `Dockerfile` in the context (a copy of `gateway/Dockerfile`). */
  dockerfile?: string;
  /**
   * Base image (`BASE_IMAGE` build argument), e.g. `consul-mesh/node-base:local` from
   * `scripts/node-base-image.sh`. Default: the Dockerfile's, `node:20-bookworm-slim`.
   */
  baseImage?: pulumi.Input<string>;
  /** Further build arguments. Default: none. */
  buildArgs?: Record<string, pulumi.Input<string>>;
  /** Target platform, e.g. `linux/amd64`. Default: this machine's (`hostPlatform()`). */
  platform?: string;
  /** Do not push the built image (keep it on the local engine). Default: `true`. */
  skipPush?: boolean;
  /** Registry credentials to push with (`skipPush: false`). Default: none. */
  registry?: pulumi.Input<docker.types.input.Registry>;
  /** Build during `pulumi preview` as well. Default: `false`. */
  buildOnPreview?: boolean;
}

const BUILD_FIELDS = [
  "imageName",
  "context",
  "dockerfile",
  "baseImage",
  "buildArgs",
  "platform",
  "skipPush",
  "registry",
  "buildOnPreview",
] as const;

/** The root of this package (the directory of its `package.json`), from this file's location. */
export function packageRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, "package.json");
    if (fs.existsSync(manifest) && JSON.parse(fs.readFileSync(manifest, "utf8")).name === "consul-mesh-gateway")
      return dir;
    // No manifest of this name above (a renamed copy): the root of the compiled layout, dist/components/images.
    if (path.dirname(dir) === dir) return path.resolve(from, "..", "..", "..");
  }
}

/**
 * The build context used when `context` is not given: `<package root>/dist/gateway-image`, which
 * `GatewayImage` prepares from the package (`prepareGatewayImageContext`) when it is not there: in
 * a clone after `npm run build`, and in a project that installed the package from npm.
 */
export function defaultGatewayImageContext(): string {
  return path.join(packageRoot(), "dist", "gateway-image");
}

/**
 * Problems of {@link GatewayImageArgs}, each naming its field: a published `image` together
 * with build arguments, `pull` without `image`, an invalid `imageName`, a build context or
 * Dockerfile that does not exist (with the command that makes it).
 * @param args - The arguments.
 * @param field - Field name prefix. Default: `"args"`.
 */
export function gatewayImageProblems(args: GatewayImageArgs, field = "args"): MeshProblem[] {
  const problems: MeshProblem[] = [];
  if (args.image !== undefined) {
    for (const key of BUILD_FIELDS) {
      if (args[key] !== undefined) {
        problems.push({
          path: `${field}.${key}`,
          message: "a published image (`image`) is used as it is: leave the build arguments unset",
        });
      }
    }
    if (typeof args.image === "string" && !isImageReference(args.image)) {
      problems.push({
        path: `${field}.image`,
        message: `${JSON.stringify(args.image)} is not an image reference such as repository[:tag]`,
      });
    }
    return problems;
  }
  if (args.pull !== undefined)
    problems.push({ path: `${field}.pull`, message: "`pull` applies to a published `image` only" });
  if (args.imageName !== undefined && !isImageName(args.imageName)) {
    problems.push({
      path: `${field}.imageName`,
      message: `${JSON.stringify(args.imageName)} is not an image name such as repository[:tag]`,
    });
  }
  // No context given: the default one, prepared from this package when it is not there yet.
  const context = args.context ?? defaultGatewayImageContext();
  if (args.context === undefined && !fs.existsSync(context)) {
    try {
      prepareGatewayImageContext(context, packageRoot());
    } catch (error) {
      problems.push({
        path: `${field}.context`,
        message: `the default build context ${context} could not be prepared: ${(error as Error).message}`,
      });
      return problems;
    }
  }
  if (!fs.existsSync(context) || !fs.statSync(context).isDirectory()) {
    problems.push({
      path: `${field}.context`,
      message:
        `build context ${context} does not exist: run \`scripts/gateway-image-context.sh ${context}\` ` +
        `in this package (after \`npm ci && npm run build\`), or leave \`context\` unset`,
    });
  } else {
    const dockerfile = path.resolve(context, args.dockerfile ?? "Dockerfile");
    if (!fs.existsSync(dockerfile))
      problems.push({ path: `${field}.dockerfile`, message: `Dockerfile ${dockerfile} does not exist` });
  }
  return problems;
}

/** The gateway image: built from this package, or a published one. */
export class GatewayImage extends pulumi.ComponentResource {
  /** The image name to run (`repository[:tag]`), e.g. for `MeshGateway`'s `image`. */
  readonly imageName: pulumi.Output<string>;
  /**
   * A reference unique to the build: the local image ID (or the pushed digest) of a built
   * image, the pulled image's ID, or the published name. Containers given this are replaced
   * when the image changes.
   */
  readonly imageRef: pulumi.Output<string>;
  /** The `docker.Image` of a build, if one was built. */
  readonly image?: docker.Image;
  /** The `docker.RemoteImage` of a pulled image, if one was pulled. */
  readonly remoteImage?: docker.RemoteImage;

  constructor(name: string, args: GatewayImageArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    throwIfProblems(gatewayImageProblems(args), `GatewayImage ${JSON.stringify(name)} arguments`);
    super("consul-mesh:index:GatewayImage", name, {}, opts);

    if (args.image !== undefined) {
      this.imageName = pulumi.output(args.image);
      if (args.pull) {
        this.remoteImage = new docker.RemoteImage(
          `${name}-remote`,
          { name: args.image, keepLocally: true },
          { parent: this },
        );
        this.imageRef = this.remoteImage.imageId;
      } else {
        this.imageRef = this.imageName;
      }
    } else {
      const context = args.context ?? defaultGatewayImageContext();
      const buildArgs: Record<string, pulumi.Input<string>> = {};
      for (const key of Object.keys(args.buildArgs ?? {}).sort()) buildArgs[key] = (args.buildArgs ?? {})[key];
      if (args.baseImage !== undefined) buildArgs.BASE_IMAGE = args.baseImage;
      const build: docker.types.input.DockerBuild = {
        context,
        dockerfile: path.resolve(context, args.dockerfile ?? "Dockerfile"),
        args: buildArgs,
      };
      build.platform = args.platform ?? hostPlatform();
      this.image = new docker.Image(
        `${name}-image`,
        {
          imageName: args.imageName ?? DEFAULT_GATEWAY_IMAGE_NAME,
          build,
          skipPush: args.skipPush ?? true,
          registry: args.registry,
          buildOnPreview: args.buildOnPreview ?? false,
        },
        { parent: this },
      );
      this.imageName = this.image.imageName;
      this.imageRef = this.image.repoDigest;
    }
    this.registerOutputs({ imageName: this.imageName, imageRef: this.imageRef });
  }
}
