/**
 * `SidecarImage`: the image `Workload` runs as a service's sidecar, Envoy with Consul's CLI
 * beside it (`consul connect envoy`). Built from this package's `images/sidecar/Dockerfile` on a
 * Consul image and an Envoy image, or a published image taken by name.
 */
import * as path from "node:path";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { MeshProblem } from "../../mesh";
import { throwIfProblems } from "../plans/arg-problems";
import { packageRoot } from "./gateway-image";
import { hostPlatform, isImageName, isImageReference } from "./image-reference";
import { CONSUL_IMAGE } from "../datacenter";

/** The Envoy image the sidecar image is built on unless told otherwise (a version Consul 1.16 supports). */
export const DEFAULT_ENVOY_IMAGE = "envoyproxy/envoy:v1.26.8";
/** The name a built sidecar image gets when `imageName` is not given. */
export const DEFAULT_SIDECAR_IMAGE_NAME = "consul-mesh/sidecar:latest";

/** Arguments of {@link SidecarImage}. */
export interface SidecarImageArgs {
  /** A published image whose entry point is `consul connect envoy`. Default: none (build). */
  image?: pulumi.Input<string>;
  /** The Consul image whose `/bin/consul` the build copies. Default: `CONSUL_IMAGE`. */
  consulImage?: pulumi.Input<string>;
  /** The Envoy image the build starts from (`/usr/local/bin/envoy`). Default: {@link DEFAULT_ENVOY_IMAGE}. */
  envoyImage?: pulumi.Input<string>;
  /** Name of the built image. Default: {@link DEFAULT_SIDECAR_IMAGE_NAME}. */
  imageName?: string;
}

/** The sidecar image: built, or published. */
export class SidecarImage extends pulumi.ComponentResource {
  /** A reference unique to the image (the build's local ID, or the published name): containers follow it. */
  readonly imageRef: pulumi.Output<string>;

  constructor(name: string, args: SidecarImageArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    const problems: MeshProblem[] = [];
    for (const field of ["image", "consulImage", "envoyImage"] as const) {
      const value = args[field];
      if (typeof value === "string" && !isImageReference(value))
        problems.push({ path: `args.${field}`, message: `${JSON.stringify(value)} is not an image reference` });
    }
    if (args.imageName !== undefined && !isImageName(args.imageName))
      problems.push({ path: "args.imageName", message: `${JSON.stringify(args.imageName)} is not an image name` });
    if (args.image !== undefined) {
      for (const field of ["consulImage", "envoyImage", "imageName"] as const)
        if (args[field] !== undefined)
          problems.push({ path: `args.${field}`, message: "a published `image` is used as it is: leave it unset" });
    }
    throwIfProblems(problems, `SidecarImage ${JSON.stringify(name)} arguments`);
    super("consul-mesh:index:SidecarImage", name, {}, opts);

    if (args.image !== undefined) {
      this.imageRef = pulumi.output(args.image);
    } else {
      const context = path.join(packageRoot(), "images", "sidecar");
      const image = new docker.Image(
        `${name}-image`,
        {
          imageName: args.imageName ?? DEFAULT_SIDECAR_IMAGE_NAME,
          build: {
            context,
            dockerfile: path.join(context, "Dockerfile"),
            platform: hostPlatform(),
            args: {
              CONSUL_IMAGE: args.consulImage ?? CONSUL_IMAGE,
              ENVOY_IMAGE: args.envoyImage ?? DEFAULT_ENVOY_IMAGE,
            },
          },
          skipPush: true,
          buildOnPreview: false,
        },
        { parent: this },
      );
      this.imageRef = image.repoDigest;
    }
    this.registerOutputs({ imageRef: this.imageRef });
  }
}
