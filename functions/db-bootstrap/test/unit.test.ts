/** Unit tests of the small modules (no database, no network). */
import { createHash, createHmac, pbkdf2Sync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { EventError, parseEvent } from "../src/event.js";
import { generatePassword, scramSha256Verifier, URL_SAFE_PASSWORD } from "../src/password.js";
import { quoteIdent, settingsFromEnv } from "../src/pg.js";
import { buildServiceSecret, connectionUrl, parseServiceSecret, secretIsCurrent } from "../src/secrets.js";

const good = {
  masterSecretArn: "arn:aws:secretsmanager:eu-west-1:111111111111:secret:rds!cluster-abc",
  host: "db.cluster-xyz.eu-west-1.rds.amazonaws.com",
  port: 5432,
  services: [
    { name: "openwebui", database: "openwebui", role: "openwebui", secretArn: "arn:1" },
    { name: "litellm", database: "litellm", role: "litellm", secretArn: "arn:2" },
  ],
};

describe("parseEvent", () => {
  it("accepts a valid event, and the same event as a JSON string", () => {
    expect(parseEvent(good)).toEqual(good);
    expect(parseEvent(JSON.stringify(good))).toEqual(good);
  });

  it.each([
    ["services[0].name", { services: [{ ...good.services[0], name: "OpenWebUI" }] }],
    ["services[0].role", { services: [{ ...good.services[0], role: "1abc" }] }],
    ["services[0].role", { services: [{ ...good.services[0], role: "a".repeat(64) }] }],
    ["services[0].database", { services: [{ ...good.services[0], database: "my-db" }] }],
    ["services[1].role", { services: [good.services[0], { ...good.services[1], role: "openwebui" }] }],
    ["services[1].name", { services: [good.services[0], { ...good.services[1], name: "openwebui" }] }],
    ["services[0]", { services: ["openwebui"] }],
    ["host", { host: "db.example.com/x" }],
    ["port", { port: 5432.5 }],
    ["port", { port: 0 }],
  ])("names %s when it is wrong", (field, patch) => {
    let err: unknown;
    try {
      parseEvent({ ...good, ...patch });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EventError);
    expect((err as EventError).field).toBe(field);
    expect((err as Error).message).toMatch(new RegExp(`^invalid event: ${field.replace(/[[\]]/g, "\\$&")} `));
  });

  it("accepts a 63-character identifier", () => {
    const name = `a${"b".repeat(62)}`;
    expect(parseEvent({ ...good, services: [{ ...good.services[0], role: name }] }).services[0]!.role).toBe(name);
  });

  it("rejects a string that is not JSON", () => {
    expect(() => parseEvent("{nope")).toThrow(/invalid event: event is a string that is not JSON/);
  });
});

describe("passwords", () => {
  it("are URL-safe, at least 32 characters, and random", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const p = generatePassword();
      expect(p).toMatch(URL_SAFE_PASSWORD);
      expect(p.length).toBeGreaterThanOrEqual(43);
      expect(encodeURIComponent(p)).toBe(p);
      seen.add(p);
    }
    expect(seen.size).toBe(200);
  });

  it("SCRAM-SHA-256 verifier follows RFC 5802 in PostgreSQL's format", () => {
    const salt = Buffer.from("0123456789abcdef");
    const v = scramSha256Verifier("pencil", 4096, salt);
    const salted = pbkdf2Sync("pencil", salt, 4096, 32, "sha256");
    const stored = createHash("sha256").update(createHmac("sha256", salted).update("Client Key").digest()).digest("base64");
    const server = createHmac("sha256", salted).update("Server Key").digest("base64");
    expect(v).toBe(`SCRAM-SHA-256$4096:${salt.toString("base64")}$${stored}:${server}`);
    expect(scramSha256Verifier("pencil")).not.toBe(scramSha256Verifier("pencil")); // random salt
    expect(() => scramSha256Verifier("naïve")).toThrow(/printable ASCII/);
  });
});

describe("service secret", () => {
  const p = { host: "h.example", port: 5432, dbname: "openwebui", username: "openwebui", password: "A".repeat(43) };

  it("builds the JSON with a plain postgresql:// URL requiring TLS", () => {
    expect(buildServiceSecret(p)).toEqual({
      engine: "postgres",
      ...p,
      url: `postgresql://openwebui:${"A".repeat(43)}@h.example:5432/openwebui?sslmode=require`,
    });
    expect(connectionUrl({ ...p, password: "a b@c" })).toContain(":a%20b%40c@");
  });

  it("parses only complete secrets of its own format", () => {
    const s = buildServiceSecret(p);
    expect(parseServiceSecret(JSON.stringify(s))).toEqual(s);
    expect(parseServiceSecret(undefined)).toBeUndefined();
    expect(parseServiceSecret("")).toBeUndefined();
    expect(parseServiceSecret("not json")).toBeUndefined();
    expect(parseServiceSecret("null")).toBeUndefined();
    expect(parseServiceSecret(JSON.stringify({ ...s, password: "" }))).toBeUndefined();
    expect(parseServiceSecret(JSON.stringify({ ...s, port: "5432" }))).toBeUndefined();
    expect(parseServiceSecret(JSON.stringify({ username: "u", password: "p" }))).toBeUndefined();
  });

  it("is current only when every field matches", () => {
    const s = buildServiceSecret(p);
    expect(secretIsCurrent(s, buildServiceSecret(p))).toBe(true);
    expect(secretIsCurrent(s, buildServiceSecret({ ...p, host: "other" }))).toBe(false);
  });
});

describe("settingsFromEnv", () => {
  it("defaults to verify-full, 10 s, database postgres", () => {
    expect(settingsFromEnv({ NODE_EXTRA_CA_CERTS: "/var/runtime/ca-cert.pem" })).toEqual({
      sslMode: "verify-full",
      caFile: undefined,
      connectTimeoutMs: 10_000,
      masterDatabase: "postgres",
    });
  });

  it("reads the overrides", () => {
    expect(settingsFromEnv({ DB_SSL_MODE: "disable", DB_SSL_CA_FILE: "/ca.pem", DB_CONNECT_TIMEOUT_MS: "2500", DB_MASTER_DATABASE: "template1" })).toEqual({
      sslMode: "disable",
      caFile: "/ca.pem",
      connectTimeoutMs: 2500,
      masterDatabase: "template1",
    });
  });

  it("refuses unknown TLS modes and bad timeouts", () => {
    expect(() => settingsFromEnv({ DB_SSL_MODE: "require" })).toThrow(/DB_SSL_MODE must be "verify-full" or "disable" \(got "require"\)/);
    expect(() => settingsFromEnv({ DB_CONNECT_TIMEOUT_MS: "soon" })).toThrow(/DB_CONNECT_TIMEOUT_MS/);
  });
});

describe("quoteIdent", () => {
  it("quotes valid names and refuses the rest", () => {
    expect(quoteIdent("openwebui")).toBe('"openwebui"');
    expect(() => quoteIdent('x"; DROP ROLE postgres; --')).toThrow(/refusing identifier/);
    expect(() => quoteIdent("Upper")).toThrow(/refusing identifier/);
  });
});
