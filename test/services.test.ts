/**
 * The three services (modules/services) in both envs: exact env and secret sets, no secret in
 * plain env, LiteLLM's generated config and catalog-scoped Bedrock IAM, internal-only routing,
 * Open WebUI's per-user KMS grants and placeholders (Bedrock invocation logging: test/account.test.ts).
 */
import { Testing } from "cdktf";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { looksSecret } from "../lib/secret-names.js";
import { ConfigErrors } from "../lib/errors.js";
import { Compute } from "../modules/compute/index.js";
import type { IdentityOutputs } from "../modules/identity/index.js";
import { PlatformServices, resolveModels } from "../modules/services/index.js";
import { CertificateStack } from "../stacks/certificate-stack.js";
import { PlatformStack } from "../stacks/platform-stack.js";
import {
  containerOf,
  containersOf,
  ENVS,
  envOf,
  envWith,
  expectedAuthEnv,
  expectedAuthSecrets,
  dataFixture,
  openWebUiServiceEnv,
  openWebUiServiceSecrets,
  policyOf,
  secretsOf,
  synthPlatform,
  type Json,
  type Synthesized,
} from "./support/synth.js";

const mainContainer = containerOf;
const containers = containersOf;

/** The inline policy document of a role, by a fragment of the role resource's logical name. */
function rolePolicy(s: Synthesized, roleFragment: string): Json {
  const hits = s.resources("aws_iam_role_policy").filter(([, p]) => String(p.role).includes(roleFragment));
  expect(hits).toHaveLength(1);
  return policyOf(s, hits[0]![1].policy);
}
const statement = (doc: Json, sid: string) => doc.statement.find((st: Json) => st.sid === sid);

const P = "${data.aws_partition.partition.partition}";
const ACCOUNT = "${data.aws_caller_identity.current.account_id}";

describe.each([
  ["nonprod", ENVS.nonprod],
  ["prod", ENVS.prod],
  ["sandbox", ENVS.sandbox],
] as const)("services in %s", (envName, env) => {
  const s = synthPlatform(env);

  describe("Open WebUI", () => {
    const c = mainContainer(s, "openwebui");

    it(`sets exactly the intended plain environment: its own and the identity layer's (${env.auth.mode}+${env.auth.idp})`, () => {
      const e = envOf(c);
      expect(Object.keys(e).sort()).toEqual([...openWebUiServiceEnv(env), ...expectedAuthEnv(env)].sort());
      expect(e).toMatchObject({
        // The upgrade gate's migration task migrates; replicas never do at start.
        ENABLE_DB_MIGRATIONS: "false",
        ENABLE_PERSISTENT_CONFIG: "false",
        BYPASS_MODEL_ACCESS_CONTROL: "true",
        ENABLE_DIRECT_CONNECTIONS: "false",
        ENABLE_OPENAI_API: "true",
        ENABLE_OLLAMA_API: "false",
        OPENAI_API_BASE_URLS: `http://litellm.owui-${envName}.internal:4000/v1`,
        // Retrieval the same on every replica: pgvector in Aurora, embeddings through LiteLLM.
        VECTOR_DB: "pgvector",
        PGVECTOR_CREATE_EXTENSION: "false",
        RAG_EMBEDDING_ENGINE: "openai",
        RAG_EMBEDDING_MODEL: "embeddings",
        RAG_OPENAI_API_BASE_URL: `http://litellm.owui-${envName}.internal:4000/v1`,
        HF_HUB_OFFLINE: "1",
      });
      // No key ids, no AWS_REGION: encryption.enabled is off in every committed env (test/encryption.test.ts).
      for (const name of ["KMS_HMAC_KEY_ID", "KMS_APPLICATION_CMK_ID", "AWS_REGION"]) expect(e).not.toHaveProperty(name);
    });

    it("injects exactly the intended secrets (its own and the identity layer's): the LiteLLM master key and the tool-server JSON among them", () => {
      const from = secretsOf(c);
      expect(Object.keys(from).sort()).toEqual([...openWebUiServiceSecrets(env), ...expectedAuthSecrets(env)].sort());
      expect(from.OPENAI_API_KEYS).toMatch(/^\$\{aws_secretsmanager_secret\.services_litellm-master-key_\w+\.arn\}$/);
      expect(from.RAG_OPENAI_API_KEY).toBe(from.OPENAI_API_KEYS);
      expect(from.TOOL_SERVER_CONNECTIONS).toMatch(/^\$\{aws_secretsmanager_secret\.services_tool-server-connections_\w+\.arn\}$/);
      // The secret key keeps the address it had before the services moved into their module.
      expect(from.WEBUI_SECRET_KEY).toBe("${aws_secretsmanager_secret.openwebui-secret-key.arn}");
    });

    // The per-user KMS grants exist only with encryption.enabled: test/encryption.test.ts.
  });

  describe("LiteLLM", () => {
    const c = mainContainer(s, "litellm");

    it("sets exactly the intended environment and secrets", () => {
      const e = envOf(c);
      expect(Object.keys(e).sort()).toEqual(["AWS_REGION", "LITELLM_CONFIG_BUCKET_NAME", "LITELLM_CONFIG_SHA256"]);
      expect(e.LITELLM_CONFIG_BUCKET_NAME).toMatch(/^\$\{aws_s3_bucket\.services_litellm-config_\w+\.bucket\}$/);
      const from = secretsOf(c);
      expect(Object.keys(from).sort()).toEqual(["DATABASE_URL", "LITELLM_CONFIG_BUCKET_OBJECT_KEY", "LITELLM_MASTER_KEY"]);
      expect(from.DATABASE_URL).toMatch(/^\$\{aws_secretsmanager_secret\.data_db-bootstrap_secret-litellm_\w+\.arn\}:url::$/);
      expect(from.LITELLM_MASTER_KEY).toMatch(/^\$\{aws_secretsmanager_secret\.services_litellm-master-key_\w+\.arn\}$/);
      expect(from.LITELLM_CONFIG_BUCKET_OBJECT_KEY).toMatch(/^\$\{aws_ssm_parameter\.services_litellm-config-object-key_\w+\.arn\}$/);
      expect(s.resource("aws_ssm_parameter", "litellm-config-object-key")).toMatchObject({ type: "String", value: "litellm/config.yaml" });
      expect(c.portMappings).toEqual([{ containerPort: 4000, protocol: "tcp", name: "litellm-4000" }]);
    });

    it("delivers a config.yaml that parses back to exactly the catalog, with references instead of secrets", () => {
      const object = s.resource("aws_s3_object", "litellm-config-object");
      expect(object).toMatchObject({ key: "litellm/config.yaml", server_side_encryption: "aws:kms", content_type: "application/yaml" });
      expect(object.kms_key_id).toMatch(/aws_kms_key\.security_workload-key_\w+\.arn/);
      const config = parse(object.content as string);
      expect(config).toEqual({
        model_list: [
          ...env.services.litellm.models.map((m) => ({ model_name: m.name, litellm_params: { model: `bedrock/${m.modelId}`, aws_region_name: m.region ?? env.region } })),
          // Open WebUI's retrieval embeddings, served by the same gateway.
          { model_name: "embeddings", litellm_params: { model: "bedrock/amazon.titan-embed-text-v2:0", aws_region_name: env.region }, model_info: { mode: "embedding" } },
        ],
        litellm_settings: { drop_params: true },
        general_settings: { master_key: "os.environ/LITELLM_MASTER_KEY", database_url: "os.environ/DATABASE_URL" },
      });
      expect(object.content).not.toMatch(/sk-/);
      const families = env.services.litellm.models.map((m) => m.modelId);
      for (const family of ["anthropic.claude", "meta.llama", "mistral.", "amazon.titan"]) expect(families.some((id) => id.includes(family))).toBe(true);
    });

    it("starts its service only after the config object exists (depends_on in the JSON: cdktf drops a node.addDependency)", () => {
      const [objectName] = s.resources("aws_s3_object").find(([n]) => n.includes("litellm-config-object"))!;
      // Besides the object, a Spot service (nonprod) waits for the cluster's capacity-provider association.
      const dependsOn = s.resource("aws_ecs_service", "compute_litellm_").depends_on as string[];
      expect(dependsOn.filter((d) => !d.startsWith("aws_ecs_cluster_capacity_providers."))).toEqual([`aws_s3_object.${objectName}`]);
      expect(dependsOn.length).toBe(env.services.litellm.capacity === "spot" ? 2 : 1);
    });

    it("keeps the config bucket versioned, KMS-encrypted, private and TLS-only", () => {
      expect(s.resource("aws_s3_bucket_versioning", "litellm-config").versioning_configuration).toEqual({ status: "Enabled" });
      const sse = s.resource("aws_s3_bucket_server_side_encryption_configuration", "litellm-config").rule[0];
      expect(sse.apply_server_side_encryption_by_default.sse_algorithm).toBe("aws:kms");
      expect(sse.apply_server_side_encryption_by_default.kms_master_key_id).toMatch(/aws_kms_key\.security_workload-key_\w+\.arn/);
      expect(s.resource("aws_s3_bucket_public_access_block", "litellm-config")).toMatchObject({ block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true });
      const policy = policyOf(s, s.resource("aws_s3_bucket_policy", "litellm-config").policy);
      expect(policy.statement[0]).toMatchObject({ sid: "DenyInsecureTransport", effect: "Deny", condition: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }] });
    });

    it("scopes Bedrock and S3 access on the task role to exactly the catalog and the config object", () => {
      const doc = rolePolicy(s, "compute_litellm_task-role");
      expect(doc.statement.map((st: Json) => st.sid).sort()).toEqual(
        ["DecryptLiteLlmConfig", "DescribeCatalogModels", "InvokeCatalogModels", "ListModelsInCatalogRegions", "ReadLiteLlmConfig", ...(env.compute.enableExecuteCommand ? ["EcsExecChannels"] : [])].sort(),
      );
      const expected = new Set<string>();
      const embedding = { name: "embeddings", modelId: env.services.openwebui.retrieval.embeddingModelId };
      for (const m of resolveModels([...env.services.litellm.models, embedding], env.region)) {
        if (m.profile) {
          expected.add(`arn:${P}:bedrock:${m.region}:${ACCOUNT}:inference-profile/${m.modelId}`);
          expected.add(`arn:${P}:bedrock:*::foundation-model/${m.foundationModelId}`);
        } else {
          expected.add(`arn:${P}:bedrock:${m.region}::foundation-model/${m.modelId}`);
        }
      }
      const invoke = statement(doc, "InvokeCatalogModels");
      expect(invoke.actions).toEqual(["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]);
      expect(invoke.resources).toEqual([...expected].sort());
      expect(invoke.resources).toContain(`arn:${P}:bedrock:us-east-1:${ACCOUNT}:inference-profile/us.anthropic.claude-3-7-sonnet-20250219-v1:0`);
      expect(invoke.resources).toContain(`arn:${P}:bedrock:*::foundation-model/anthropic.claude-3-7-sonnet-20250219-v1:0`);
      expect(invoke.resources).toContain(`arn:${P}:bedrock:us-east-1::foundation-model/mistral.mistral-large-2402-v1:0`);
      expect(statement(doc, "DescribeCatalogModels")).toMatchObject({ actions: ["bedrock:GetFoundationModel"] });
      for (const arn of statement(doc, "DescribeCatalogModels").resources) expect(arn).toMatch(/::foundation-model\//);
      expect(statement(doc, "ListModelsInCatalogRegions")).toMatchObject({
        actions: ["bedrock:ListFoundationModels"],
        resources: ["*"],
        condition: [{ test: "StringEquals", variable: "aws:RequestedRegion", values: [env.region] }],
      });
      expect(statement(doc, "ReadLiteLlmConfig")).toMatchObject({ actions: ["s3:GetObject"], resources: [expect.stringMatching(/^\$\{aws_s3_bucket\.services_litellm-config_\w+\.arn\}\/litellm\/config\.yaml$/)] });
      expect(statement(doc, "DecryptLiteLlmConfig").condition).toEqual([{ test: "StringEquals", variable: "kms:ViaService", values: [`s3.${env.region}.amazonaws.com`] }]);
      for (const st of doc.statement) for (const a of st.actions) expect(a).not.toMatch(/\*/);
    });

    it("leaves Bedrock invocation logging to the account stack (test/account.test.ts)", () => {
      expect(s.resources("aws_bedrock_model_invocation_logging_configuration")).toEqual([]);
      expect(s.resources("aws_cloudwatch_log_group").filter(([n]) => n.includes("bedrock"))).toEqual([]);
    });
  });

  describe("mcpo", () => {
    const c = mainContainer(s, "mcpo");

    it("runs mcpo with its key from the secret and its config written from the env at start", () => {
      expect(Object.keys(envOf(c))).toEqual(["MCPO_CONFIG_JSON"]);
      expect(JSON.parse(envOf(c).MCPO_CONFIG_JSON!)).toEqual({ mcpServers: env.services.mcpo.servers });
      expect(Object.keys(secretsOf(c))).toEqual(["MCPO_API_KEY"]);
      expect(secretsOf(c).MCPO_API_KEY).toMatch(/^\$\{aws_secretsmanager_secret\.services_mcpo-api-key_\w+\.arn\}$/);
      // The image's ENTRYPOINT is ["mcpo"]: the shell must replace it, or ECS would run `mcpo sh -c …`.
      expect(c.entryPoint).toEqual(["sh", "-c"]);
      expect(c.command).toEqual([`printf '%s' "$MCPO_CONFIG_JSON" > /tmp/mcpo.json && exec mcpo --host 0.0.0.0 --port 8000 --api-key "$MCPO_API_KEY" --config /tmp/mcpo.json`]);
      expect(c.healthCheck).toEqual({ command: ["CMD-SHELL", "curl --silent --fail --output /dev/null http://127.0.0.1:8000/docs || exit 1"], interval: 15, timeout: 5, retries: 3, startPeriod: 120 });
      expect(c.portMappings).toEqual([{ containerPort: 8000, protocol: "tcp", name: "mcpo-8000" }]);
    });
  });

  it("no container env name looks secret and no env value carries an sk- key", () => {
    for (const [, task] of s.resources("aws_ecs_task_definition")) {
      for (const c of containers(task)) {
        for (const e of c.environment as Json[]) {
          expect(looksSecret(e.name), `${c.name}: ${e.name}`).toBe(false);
          expect(String(e.value)).not.toContain("sk-");
        }
      }
    }
  });

  it("keeps LiteLLM and mcpo internal: no target group, no listener rule, discoverable in the namespace", () => {
    expect(s.resources("aws_lb_target_group").map(([n]) => n)).toEqual([expect.stringContaining("openwebui")]);
    expect(s.resources("aws_lb_listener_rule").filter(([n]) => /litellm|mcpo/.test(n))).toEqual([]);
    for (const name of ["litellm", "mcpo"]) {
      const svc = s.resource("aws_ecs_service", `compute_${name}_`);
      expect(svc.load_balancer).toBeUndefined();
      expect(svc.network_configuration.assign_public_ip).toBe(false);
      expect(s.resource("aws_service_discovery_service", `compute_${name}_discovery`).name).toBe(name);
    }
  });

  it("creates every secret of its own as an empty placeholder encrypted with the workload CMK (the auth secrets are the identity layer's)", () => {
    const own = s.resources("aws_secretsmanager_secret").filter(([n]) => n.startsWith("services_") || n === "openwebui-secret-key");
    expect(own.map(([, x]) => x.name as string).sort()).toEqual(
      [`owui/${envName}/litellm/master-key`, `owui/${envName}/mcpo/api-key`, `owui/${envName}/openwebui/secret-key`, `owui/${envName}/openwebui/tool-server-connections`].sort(),
    );
    for (const [, secret] of s.resources("aws_secretsmanager_secret")) expect(secret.kms_key_id).toMatch(/aws_kms_key\.security_workload-key_\w+\.arn/);
    expect(s.resources("aws_secretsmanager_secret_version").filter(([n]) => !n.startsWith("identity_cognito_"))).toEqual([]);
    const tools = s.resource("aws_secretsmanager_secret", "tool-server-connections");
    expect(tools.description).toContain(`"url":"http://mcpo.owui-${envName}.internal:8000/time"`);
    expect(tools.description).toContain(`"auth_type":"bearer"`);
    expect(s.resource("aws_secretsmanager_secret", "litellm-master-key").description).toContain("sk- followed by a random string");
  });
});

describe("retrieval across replicas", () => {
  it("refuses embedded Chroma with more than one replica, and an embedding name a chat model already uses", () => {
    expect(() => envWith((raw) => (raw.services = { openwebui: { maxCount: 3, retrieval: { vectorDb: "chroma" } } }))).toThrow(
      /test: services\.openwebui\.retrieval\.vectorDb: "chroma" keeps vectors in files under DATA_DIR, which the 3 replicas allowed by services\.openwebui\.maxCount would write concurrently on the shared EFS\. Fix: use "pgvector" \(the default\), or set services\.openwebui\.maxCount to 1/,
    );
    expect(() => envWith((raw) => (raw.services = { openwebui: { retrieval: { embeddingName: "titan" } }, litellm: { models: [{ name: "titan", modelId: "amazon.titan-text-express-v1" }] } }))).toThrow(
      /services\.openwebui\.retrieval\.embeddingName: "titan" is also the name of a chat model in services\.litellm\.models\. Fix: give the embedding model a name no chat model uses/,
    );
    expect(() => envWith((raw) => (raw.services = { openwebui: { retrieval: { embeddingModelId: "anthropic.claude-3-haiku-20240307-v1:0" } } }))).toThrow(/services\.openwebui\.retrieval\.embeddingModelId.*must be a Bedrock embedding model id/);
  });

  it("runs one replica on Chroma when asked, without the pgvector settings", () => {
    const s = synthPlatform(envWith((raw) => (raw.services = { openwebui: { retrieval: { vectorDb: "chroma" } } })));
    const e = envOf(mainContainer(s, "openwebui"));
    expect(e.VECTOR_DB).toBe("chroma");
    expect(e.PGVECTOR_CREATE_EXTENSION).toBeUndefined();
  });
});

describe("config switches", () => {
  it("flips the Open WebUI switches", () => {
    const s = synthPlatform(
      envWith((raw) => {
        raw.services = { openwebui: { persistentConfig: true, bypassModelAccessControl: false, directConnections: true } };
      }),
    );
    expect(envOf(mainContainer(s, "openwebui"))).toMatchObject({ ENABLE_PERSISTENT_CONFIG: "true", BYPASS_MODEL_ACCESS_CONTROL: "false", ENABLE_DIRECT_CONNECTIONS: "true" });
  });

  it("scopes ARNs of a foundation model in another region to that region", () => {
    const s = synthPlatform(
      envWith((raw) => {
        raw.services = { litellm: { models: [{ name: "titan", modelId: "amazon.titan-text-express-v1", region: "us-west-2" }, { name: "claude-eu", modelId: "eu.anthropic.claude-3-7-sonnet-20250219-v1:0", region: "eu-central-1" }] } };
      }),
    );
    const doc = rolePolicy(s, "compute_litellm_task-role");
    expect(statement(doc, "InvokeCatalogModels").resources).toEqual([
      `arn:${P}:bedrock:*::foundation-model/anthropic.claude-3-7-sonnet-20250219-v1:0`,
      `arn:${P}:bedrock:eu-central-1:${ACCOUNT}:inference-profile/eu.anthropic.claude-3-7-sonnet-20250219-v1:0`,
      // The retrieval embedding model, in the env's own region.
      `arn:${P}:bedrock:us-east-1::foundation-model/amazon.titan-embed-text-v2:0`,
      `arn:${P}:bedrock:us-west-2::foundation-model/amazon.titan-text-express-v1`,
    ]);
    expect(statement(doc, "ListModelsInCatalogRegions").condition[0].values).toEqual(["eu-central-1", "us-east-1", "us-west-2"]);
  });
});

describe("the identity layer's wiring", () => {
  /** The services layer on the foundation, data and compute layers, with a hand-made identity wiring. */
  function servicesWith(openwebui: IdentityOutputs["openwebui"]) {
    const env = ENVS.nonprod;
    const { stack, aws, network, security, data } = dataFixture(env);
    const compute = new Compute(stack, "compute", { envName: env.name, aws, network, security, hostname: env.hostname, certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/x", logRetentionDays: env.logRetentionDays });
    try {
      new PlatformServices(stack, "services", { env, aws, compute, data, security, identity: { openwebui } });
    } catch (e) {
      return e as Error;
    }
    throw new Error("expected the services layer to refuse the wiring");
  }

  it("refuses a variable both layers set, naming each one", () => {
    const err = servicesWith({ environment: { WEBUI_AUTH: "true", DATA_DIR: "/tmp", HF_HUB_OFFLINE: "0" }, secrets: {}, sidecars: [] });
    expect(err).toBeInstanceOf(ConfigErrors);
    expect((err as ConfigErrors).errors.map((e) => e.path)).toEqual(["services.openwebui.environment.DATA_DIR", "services.openwebui.environment.HF_HUB_OFFLINE"]);
    expect(err.message).toMatch(/services\.openwebui\.environment\.DATA_DIR: "DATA_DIR" is set by both the services layer and the identity layer\. Fix: let one layer own it/);
  });

  it("refuses a secret both layers set", () => {
    expect(servicesWith({ environment: {}, secrets: { WEBUI_SECRET_KEY: { secret: { secretArn: "arn:x", secretName: "x" } } }, sidecars: [] }).message).toMatch(/services\.openwebui\.secrets\.WEBUI_SECRET_KEY: "WEBUI_SECRET_KEY" is set by both/);
  });

  it("refuses (in the factory) a variable one layer sets plain and the other as a secret", () => {
    expect(servicesWith({ environment: { DATABASE_URL: "postgresql://x" }, secrets: {}, sidecars: [] }).message).toMatch(/services\.openwebui\.environment\.DATABASE_URL: "DATABASE_URL" is set both as a plain value and as a secret/);
  });

  it("keeps its placeholders to its own secrets (the identity layer lists the auth ones)", () => {
    const app = Testing.app();
    const env = ENVS.sandbox;
    const platform = new PlatformStack(app, env.name, { env, certificate: new CertificateStack(app, `${env.name}-certificate`, env) });
    expect(platform.services.placeholders.map((p) => p.name)).toEqual(["litellm-master-key", "mcpo-api-key", "tool-server-connections", "openwebui-secret-key"]);
    expect(platform.identity.placeholders.map((p) => p.name)).toEqual(["scim-token", "admin-password", "oauth2-proxy-cookie-secret"]);
  });
});
