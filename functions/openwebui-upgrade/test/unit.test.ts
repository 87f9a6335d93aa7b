/** Event validation, timing settings and the migration command's shape. No AWS, no fake. */
import { describe, expect, it } from "vitest";
import { familyOf, parseEvent } from "../src/event.js";
import { MIGRATION_COMMAND, MIGRATION_ENTRY_POINT, MIGRATION_SCRIPT, NOT_AT_HEAD_EXIT_CODE } from "../src/migration-command.js";
import { MAX_LAMBDA_MS, settingsFromEnv } from "../src/settings.js";

const TD = "arn:aws:ecs:us-east-1:123456789012:task-definition/owui-test-openwebui:7";
const MIGRATION_TD = "arn:aws:ecs:us-east-1:123456789012:task-definition/owui-test-openwebui-migrate:3";
const valid = {
  cluster: "owui-test-cluster",
  service: "owui-test-openwebui",
  containerName: "openwebui",
  image: "ghcr.io/open-webui/open-webui:v0.10.2",
  taskDefinitionArn: TD,
  migrationTaskDefinitionArn: MIGRATION_TD,
  subnets: ["subnet-0123456789abcdef0"],
  securityGroups: ["sg-0123456789abcdef0"],
  minCount: 2,
};

describe("parseEvent", () => {
  it("accepts the event Terraform sends, also as a JSON string", () => {
    expect(parseEvent(valid)).toMatchObject(valid);
    expect(parseEvent(JSON.stringify(valid))).toMatchObject(valid);
  });

  it("takes the cluster name from a cluster ARN (the scalable target's resource id needs the name)", () => {
    expect(parseEvent({ ...valid, cluster: "arn:aws:ecs:us-east-1:123456789012:cluster/owui-test-cluster" }).cluster).toBe("owui-test-cluster");
  });

  it("defaults minCount to 1", () => {
    const { minCount: _m, ...rest } = valid;
    expect(parseEvent(rest).minCount).toBe(1);
  });

  it.each([
    [{ taskDefinitionArn: "owui-test-openwebui:7" }, 'invalid event: taskDefinitionArn must be a task definition ARN with its revision (got "owui-test-openwebui:7")'],
    [{ migrationTaskDefinitionArn: TD.replace(":7", ":8") }, "migrationTaskDefinitionArn must be of another family"],
    [{ subnets: [] }, "invalid event: subnets must be a list of 1 to 16 ids (got [])"],
    [{ subnets: ["subnet-0123456789abcdef0", "x"] }, 'invalid event: subnets[1] must be a subnet id (got "x")'],
    [{ securityGroups: ["sg-xyz"] }, 'invalid event: securityGroups[0] must be a security group id (got "sg-xyz")'],
    [{ minCount: 0 }, "invalid event: minCount must be an integer from 1 to 1000 (got 0)"],
    [{ minCount: "2" }, 'invalid event: minCount must be an integer from 1 to 1000 (got "2")'],
    [{ image: "has space" }, "invalid event: image must be an image reference"],
    [{ service: undefined }, "invalid event: service must be a service name"],
  ])("refuses %j naming the field and the value", (patch, message) => {
    expect(() => parseEvent({ ...valid, ...patch })).toThrow(message);
  });

  it("refuses a non-object", () => {
    expect(() => parseEvent([])).toThrow("invalid event: (root) must be an object (got [])");
  });

  it("familyOf reads the family of a revisioned ARN", () => {
    expect(familyOf(MIGRATION_TD)).toBe("owui-test-openwebui-migrate");
  });
});

describe("settingsFromEnv", () => {
  it("stops waiting DEADLINE_MARGIN_SECONDS before the function's own timeout", () => {
    const s = settingsFromEnv({}, 300_000, () => 1_000);
    expect(s.pollMs).toBe(10_000);
    expect(s.deadline).toBe(1_000 + 300_000 - 20_000);
    expect(settingsFromEnv({ POLL_SECONDS: "0.5", DEADLINE_MARGIN_SECONDS: "5" }, 60_000, () => 0)).toMatchObject({ pollMs: 500, deadline: 55_000 });
  });

  it("budgets Lambda's 15-minute maximum without a context", () => {
    expect(settingsFromEnv({}, undefined, () => 0).deadline).toBe(MAX_LAMBDA_MS - 20_000);
  });

  it("refuses a poll interval that is not a positive number", () => {
    expect(() => settingsFromEnv({ POLL_SECONDS: "0" }, 1000)).toThrow('POLL_SECONDS must be a positive number of seconds (got "0")');
  });
});

describe("the migration command", () => {
  it("is python3 -c <script> as entryPoint + command, independent of the image's ENTRYPOINT", () => {
    expect(MIGRATION_ENTRY_POINT).toEqual(["python3", "-c"]);
    expect(MIGRATION_COMMAND).toEqual([MIGRATION_SCRIPT]);
  });

  it("runs the migrations by importing open_webui.config with ENABLE_DB_MIGRATIONS forced on", () => {
    const lines = MIGRATION_SCRIPT.split("\n");
    const importAt = lines.indexOf("import open_webui.config");
    expect(importAt).toBeGreaterThan(0);
    expect(lines.findIndex((l) => l.includes("os.environ['ENABLE_DB_MIGRATIONS'] = 'true'"))).toBeLessThan(importAt);
  });

  it("sets an ephemeral secret key only when the task has none (the image sets it to the empty string)", () => {
    expect(MIGRATION_SCRIPT).toContain("if not os.environ.get('WEBUI_SECRET_KEY'): os.environ['WEBUI_SECRET_KEY'] = secrets.token_hex(32)");
  });

  it("then compares the stored Alembic revision with the image's heads and exits non-zero when they differ", () => {
    expect(MIGRATION_SCRIPT).toContain("ScriptDirectory.from_config(cfg).get_heads()");
    expect(MIGRATION_SCRIPT).toContain("MigrationContext.configure(conn).get_current_heads()");
    expect(MIGRATION_SCRIPT).toContain("cfg.set_main_option('script_location', str(OPEN_WEBUI_DIR / 'migrations'))");
    expect(MIGRATION_SCRIPT.split("\n").at(-1)).toBe(`sys.exit(0 if ok else ${NOT_AT_HEAD_EXIT_CODE})`);
    expect(NOT_AT_HEAD_EXIT_CODE).not.toBe(1); // 1 is Python's own exit code for an uncaught exception
  });

  it("is plain Python without shell quoting (ECS passes argv; no shell runs it)", () => {
    expect(MIGRATION_SCRIPT).not.toMatch(/["`$\\]/);
    expect(MIGRATION_SCRIPT.length).toBeLessThan(2_000);
  });
});
