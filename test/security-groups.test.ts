/**
 * The security layer's per-service group API on its own: service groups, paths that open once,
 * and client groups that target a named service (or the one service on a port).
 */
import { describe, expect, it } from "vitest";
import { ENVS, foundationFixture, ruleTable, synthStack } from "./support/synth.js";

/** Rules without the ALB's CIDR ingress, the endpoints' and db-bootstrap's (not part of these fixtures). */
const rows = (stack: Parameters<typeof synthStack>[0]) => ruleTable(synthStack(stack)).filter((r) => !r.startsWith("alb in") && !r.startsWith("endpoints"));

describe("per-service security groups", () => {
  it("start with HTTPS egress only, and open each path once however often it is asked for", () => {
    const { stack, security } = foundationFixture(ENVS.nonprod);
    security.addServiceSecurityGroup("api", 9000);
    security.addServiceSecurityGroup("worker", 9100);
    for (let i = 0; i < 2; i++) {
      security.allowServiceToStore("api", "database");
      security.allowServiceToService("api", "worker");
      security.allowAlbToService("api", 9000);
    }
    expect(rows(stack)).toEqual([
      "alb out tcp/9000-9000 sg:service-api",
      "database in tcp/5432-5432 sg:service-api",
      "service-api in tcp/9000-9000 sg:alb",
      "service-api out tcp/443-443 0.0.0.0/0",
      "service-api out tcp/5432-5432 sg:database",
      "service-api out tcp/9100-9100 sg:service-worker",
      "service-worker in tcp/9100-9100 sg:service-api",
      "service-worker out tcp/443-443 0.0.0.0/0",
    ]);
    const group = synthStack(stack).resources("aws_security_group").find(([n]) => n.startsWith("security_service-api_"))![1];
    expect(group).toMatchObject({ name_prefix: "owui-nonprod-api-", tags: { Name: "owui-nonprod-api" }, description: "ECS service api: only the paths it needs", lifecycle: { create_before_destroy: true } });
    expect(group.name).toBeUndefined();
  });

  it("refuses a second group for one service, and paths to a service that has none", () => {
    const { security } = foundationFixture(ENVS.nonprod);
    security.addServiceSecurityGroup("api", 9000);
    expect(() => security.addServiceSecurityGroup("api", 9000)).toThrow(/service "api" already has a security group/);
    expect(() => security.allowServiceToService("api", "ghost")).toThrow(/no security group for service "ghost"\. Fix: add the service/);
  });
});

describe("client security groups", () => {
  it("reach a named service on the given port", () => {
    const { stack, security } = foundationFixture(ENVS.nonprod);
    security.addServiceSecurityGroup("api", 9000);
    security.addClientSecurityGroup("job", "A job: 9000 to the api", [{ target: "service", service: "api", port: 9000 }]);
    expect(rows(stack).filter((r) => r.includes("client-job"))).toEqual(["client-job out tcp/443-443 0.0.0.0/0", "client-job out tcp/9000-9000 sg:service-api", "service-api in tcp/9000-9000 sg:client-job"]);
  });

  it("resolve `services` on a port to the one service whose main port it is, and refuse several", () => {
    const { stack, security } = foundationFixture(ENVS.nonprod);
    security.addServiceSecurityGroup("api", 9000);
    security.addServiceSecurityGroup("worker", 9100);
    security.addClientSecurityGroup("job", "A job: the service on 9100", [{ target: "services", port: 9100 }]);
    expect(rows(stack)).toContain("service-worker in tcp/9100-9100 sg:client-job");
    security.addServiceSecurityGroup("twin", 9000);
    expect(() => security.addClientSecurityGroup("torn", "A job: two services on 9000", [{ target: "services", port: 9000 }])).toThrow(/matches api, twin\. Fix: name it/);
  });

  it("open a service target when the service is added after the client, and nothing while it is absent", () => {
    const { stack, security } = foundationFixture(ENVS.nonprod);
    security.addClientSecurityGroup("early", "A job created before its service", [{ target: "service", service: "api", port: 9000 }]);
    security.addClientSecurityGroup("byport", "A job created before the service on 9100", [{ target: "services", port: 9100 }]);
    expect(rows(stack).filter((r) => !r.includes("443-443"))).toEqual([]);
    security.addServiceSecurityGroup("api", 9000);
    security.addServiceSecurityGroup("worker", 9100);
    expect(rows(stack).filter((r) => !r.includes("443-443"))).toEqual([
      "client-byport out tcp/9100-9100 sg:service-worker",
      "client-early out tcp/9000-9000 sg:service-api",
      "service-api in tcp/9000-9000 sg:client-early",
      "service-worker in tcp/9100-9100 sg:client-byport",
    ]);
  });
});
