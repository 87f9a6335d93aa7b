/** Unit tests of the small modules (no database, no network). */
import { createHash, createHmac, pbkdf2Sync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { EventError, KNOWN_EXTENSIONS, parseEvent } from "../src/event.js";
import { generatePassword, scramSha256Verifier, URL_SAFE_PASSWORD } from "../src/password.js";
import { quoteIdent, settingsFromEnv } from "../src/pg.js";
import { AUTH_TOKEN, buildRedisSecret, generateAuthToken, parseRedisSecret, redisSettingsFromEnv, redisUrl } from "../src/redis.js";
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

describe("parseEvent: services[].extensions", () => {
  const withExtensions = (extensions: unknown) => ({ ...good, services: [{ ...good.services[0], extensions }, good.services[1]] });

  it("accepts known extensions, keeps their order, and leaves them out when absent or null", () => {
    expect(KNOWN_EXTENSIONS).toEqual(expect.arrayContaining(["vector", "pg_trgm"]));
    expect(parseEvent(withExtensions(["vector", "pg_trgm"])).services[0]!.extensions).toEqual(["vector", "pg_trgm"]);
    expect(parseEvent(withExtensions([])).services[0]!.extensions).toEqual([]);
    expect(parseEvent(withExtensions(null)).services[0]).not.toHaveProperty("extensions");
    expect(parseEvent(good).services[0]).not.toHaveProperty("extensions");
    expect(parseEvent(JSON.stringify(withExtensions(["vector"]))).services[0]!.extensions).toEqual(["vector"]);
  });

  it.each([
    ["services[0].extensions", "vector", /must be an array of extension names, e\.g\. \["vector"\] \(got "vector"\)/],
    ["services[0].extensions[0]", ["plpython3u"], /must be one of the extensions db-bootstrap creates: vector, pg_trgm, pgcrypto \(got "plpython3u"\)/],
    ["services[0].extensions[1]", ["vector", "Vector"], /must be one of .* \(got "Vector"\)/],
    ["services[0].extensions[0]", ['vector"; DROP DATABASE postgres; --'], /must be one of .* \(got "vector\\"; DROP/],
    ["services[0].extensions[0]", [42], /must be one of .* \(got 42\)/],
    ["services[0].extensions[1]", ["vector", "vector"], /duplicates services\[0\]\.extensions\[0\] \("vector"\); list each extension once/],
  ])("names %s when it is wrong", (field, extensions, message) => {
    let err: unknown;
    try {
      parseEvent(withExtensions(extensions));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EventError);
    expect((err as EventError).field).toBe(field);
    expect((err as Error).message).toMatch(new RegExp(`^invalid event: ${field.replace(/[[\].]/g, "\\$&")} `));
    expect((err as Error).message).toMatch(message);
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

describe("parseEvent: redis", () => {
  const redis = { replicationGroupId: "owui-prod-redis", secretArn: "arn:aws:secretsmanager:eu-west-1:111111111111:secret:owui/prod/redis-AbC", host: "master.owui-prod-redis.x.euw1.cache.amazonaws.com", port: 6379 };

  it("is optional (absent or null) and parsed when present", () => {
    expect(parseEvent(good).redis).toBeUndefined();
    expect(parseEvent({ ...good, redis: null })).toEqual(good);
    expect(parseEvent({ ...good, redis })).toEqual({ ...good, redis });
    expect(parseEvent(JSON.stringify({ ...good, redis })).redis).toEqual(redis);
    expect(parseEvent({ ...good, redis: { ...redis, replicationGroupId: "a" } }).redis?.replicationGroupId).toBe("a");
    expect(parseEvent({ ...good, redis: { ...redis, replicationGroupId: `a${"b-c".repeat(13)}` } }).redis?.replicationGroupId).toHaveLength(40);
  });

  it.each([
    ["redis", "owui-prod-redis"],
    ["redis", [redis]],
    ["redis.replicationGroupId", { ...redis, replicationGroupId: undefined }],
    ["redis.replicationGroupId", { ...redis, replicationGroupId: "1redis" }],
    ["redis.replicationGroupId", { ...redis, replicationGroupId: "owui--redis" }],
    ["redis.replicationGroupId", { ...redis, replicationGroupId: "owui-redis-" }],
    ["redis.replicationGroupId", { ...redis, replicationGroupId: "owui_redis" }],
    ["redis.replicationGroupId", { ...redis, replicationGroupId: `a${"b".repeat(40)}` }],
    ["redis.secretArn", { ...redis, secretArn: "" }],
    ["redis.host", { ...redis, host: "redis://x:6379" }],
    ["redis.host", { ...redis, host: 42 }],
    ["redis.port", { ...redis, port: "6379" }],
    ["redis.port", { ...redis, port: 65536 }],
  ])("names %s when it is wrong", (field, value) => {
    let err: unknown;
    try {
      parseEvent({ ...good, redis: value });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EventError);
    expect((err as EventError).field).toBe(field);
    expect((err as Error).message).toMatch(new RegExp(`^invalid event: ${field.replace(/[.]/g, "\\$&")} `));
  });
});

describe("redis auth token and secret", () => {
  const target = { host: "master.r.x.use1.cache.amazonaws.com", port: 6379 };

  it("tokens: 64 URL-safe characters that ElastiCache accepts, random", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const t = generateAuthToken();
      expect(t).toMatch(/^[A-Za-z0-9_-]{64}$/);
      expect(t).toMatch(AUTH_TOKEN);
      expect(encodeURIComponent(t)).toBe(t);
      seen.add(t);
    }
    expect(seen.size).toBe(200);
  });

  it("AUTH_TOKEN follows ElastiCache's rules", () => {
    expect("a".repeat(16)).toMatch(AUTH_TOKEN);
    expect("a".repeat(128)).toMatch(AUTH_TOKEN);
    expect("!&#$^<>-".repeat(2)).toMatch(AUTH_TOKEN);
    for (const bad of ["a".repeat(15), "a".repeat(129), `${"a".repeat(16)}@`, `${"a".repeat(16)}"`, `${"a".repeat(16)}/`, `${"a".repeat(8)} ${"a".repeat(8)}`, `${"a".repeat(16)}é`]) {
      expect(bad).not.toMatch(AUTH_TOKEN);
    }
  });

  it("builds {host, port, authToken, url} with a rediss:// URL", () => {
    const t = "T".repeat(64);
    expect(JSON.stringify(buildRedisSecret({ ...target, authToken: t }))).toBe(
      JSON.stringify({ host: target.host, port: 6379, authToken: t, url: `rediss://:${t}@${target.host}:6379/0` }),
    );
    expect(redisUrl({ ...target, authToken: "a#b&c!d<e>f$g^h-i" })).toBe(`rediss://:a%23b%26c!d%3Ce%3Ef%24g%5Eh-i@${target.host}:6379/0`);
  });

  it("reuses a stored token only for this host and port", () => {
    const s = buildRedisSecret({ ...target, authToken: "T".repeat(64) });
    expect(parseRedisSecret(JSON.stringify(s), target)).toEqual({ authToken: "T".repeat(64), current: true });
    expect(parseRedisSecret(JSON.stringify({ ...s, url: "rediss://old" }), target)).toEqual({ authToken: "T".repeat(64), current: false });
    expect(parseRedisSecret(JSON.stringify({ ...s, extra: 1 }), target)?.current).toBe(false);
    for (const raw of [undefined, "", " ", "not json", "null", "[]", JSON.stringify({ ...s, host: "other" }), JSON.stringify({ ...s, port: "6379" }), JSON.stringify({ ...s, authToken: "short" }), JSON.stringify({ ...s, authToken: 42 })]) {
      expect(parseRedisSecret(raw, target), String(raw)).toBeUndefined();
    }
  });

  it("REDIS_WAIT_SECONDS / REDIS_POLL_SECONDS", () => {
    expect(redisSettingsFromEnv({})).toEqual({ waitMs: 600_000, pollMs: 15_000 });
    expect(redisSettingsFromEnv({ REDIS_WAIT_SECONDS: "0.5", REDIS_POLL_SECONDS: "0.05" })).toEqual({ waitMs: 500, pollMs: 50 });
    expect(redisSettingsFromEnv({ REDIS_WAIT_SECONDS: "0" }).waitMs).toBe(0);
    expect(() => redisSettingsFromEnv({ REDIS_WAIT_SECONDS: "ten" })).toThrow(/REDIS_WAIT_SECONDS must be a number of seconds/);
    expect(() => redisSettingsFromEnv({ REDIS_WAIT_SECONDS: "-1" })).toThrow(/REDIS_WAIT_SECONDS/);
    expect(() => redisSettingsFromEnv({ REDIS_POLL_SECONDS: "0" })).toThrow(/REDIS_POLL_SECONDS/);
  });
});
