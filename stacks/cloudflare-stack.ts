/**
 * What the env's Cloudflare stacks (`<env>-dns-validation`, `<env>-dns`) share: each exists only
 * when the env configures `dns.cloudflare`, writes records with the Cloudflare provider (the token
 * comes from `CLOUDFLARE_API_TOKEN` when Terraform runs, never from code or config), keeps its state
 * next to the env's, and follows one stack: it reads that stack's named outputs through S3 remote
 * state and deploys after it.
 */
import { CloudflareProvider } from "@cdktf/provider-cloudflare/lib/provider";
import { TerraformStack, type DataTerraformRemoteStateS3 } from "cdktf";
import type { Construct } from "constructs";
import { siblingStateKey, type EnvConfig } from "../envs/schema.js";
import { readRemoteState, useRemoteState } from "../lib/backend.js";

/** The env's `dns.cloudflare`. */
export type CloudflareConfig = NonNullable<EnvConfig["dns"]>["cloudflare"];

/** The stack a Cloudflare stack follows. */
export interface FollowedStack {
  readonly stack: TerraformStack;
  /** The id of its `terraform_remote_state` data source in the following stack. */
  readonly id: string;
  /** Its state key. */
  readonly stateKey: string;
}

export abstract class CloudflareStack extends TerraformStack {
  protected readonly cloudflare: CloudflareConfig;
  /** The outputs of the followed stack. */
  protected readonly followed: DataTerraformRemoteStateS3;

  /** `suffix` names this stack's state: `siblingStateKey(env, suffix)`. */
  constructor(scope: Construct, id: string, env: EnvConfig, suffix: string, follows: FollowedStack) {
    super(scope, id);
    const cloudflare = env.dns?.cloudflare;
    if (!cloudflare) throw new Error(`${env.name}: the ${id} stack needs dns.cloudflare in the env's config`);
    this.cloudflare = cloudflare;
    new CloudflareProvider(this, "cloudflare", {});
    useRemoteState(this, env.state, siblingStateKey(env, suffix));
    this.followed = readRemoteState(this, follows.id, env.state, follows.stateKey);
    this.addDependency(follows.stack);
  }
}
