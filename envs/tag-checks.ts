/**
 * The `tags` field: extra tags the provider adds to every resource (default_tags), checked against
 * AWS's tag rules (https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html#tag-conventions).
 */
import { z } from "zod";
import { RESERVED_TAG_PREFIX, RESOURCE_OWN_TAG_KEYS, TAG_CHARS_RE, TAG_KEY_MAX, TAG_VALUE_MAX, TAGS_PER_RESOURCE_MAX } from "../lib/aws-limits.js";
import { DEFAULT_TAG_KEYS } from "../lib/naming.js";

const CHARS_TEXT = "letters, digits, spaces and _ . : / = + - @";

function badChars(text: string): string {
  return [...new Set([...text].filter((c) => !TAG_CHARS_RE.test(c)))].map((c) => JSON.stringify(c)).join(", ");
}

const tagKey = z.string().superRefine((key, ctx) => {
  const add = (message: string) => ctx.addIssue({ code: "custom", message });
  if (key.length === 0) add(`"" is not a tag key: AWS tag keys have 1–${TAG_KEY_MAX} characters. Fix: name the tag`);
  if (key.length > TAG_KEY_MAX) add(`tag key "${key.slice(0, 40)}…" has ${key.length} characters, over AWS's ${TAG_KEY_MAX}. Fix: shorten it`);
  if (!TAG_CHARS_RE.test(key)) add(`tag key "${key}" contains ${badChars(key)}, which AWS tags do not allow. Fix: use only ${CHARS_TEXT}`);
  if (key.toLowerCase().startsWith(RESERVED_TAG_PREFIX)) add(`tag key "${key}" starts with "${key.slice(0, 4)}", a prefix reserved for AWS, so every tagging call refuses it. Fix: drop the prefix, e.g. "${key.slice(4) || "Team"}"`);
});

const tagValue = z.string().superRefine((value, ctx) => {
  const add = (message: string) => ctx.addIssue({ code: "custom", message });
  if (value.length > TAG_VALUE_MAX) add(`tag value "${value.slice(0, 40)}…" has ${value.length} characters, over AWS's ${TAG_VALUE_MAX}. Fix: shorten it`);
  if (!TAG_CHARS_RE.test(value)) add(`tag value "${value}" contains ${badChars(value)}, which AWS tags do not allow. Fix: use only ${CHARS_TEXT}`);
});

/** Tags the project sets on every resource or on some of its own; an extra tag may not replace them. */
const TAKEN_KEYS = [...DEFAULT_TAG_KEYS, ...RESOURCE_OWN_TAG_KEYS];
/** Room left for extra tags on the most-tagged resource. */
export const EXTRA_TAGS_MAX = TAGS_PER_RESOURCE_MAX - TAKEN_KEYS.length;

/** `tags`: valid keys and values, none replacing the project's own, within the per-resource count. */
export const tagsSchema = z.record(tagKey, tagValue).superRefine((tags, ctx) => {
  const keys = Object.keys(tags);
  if (keys.length > EXTRA_TAGS_MAX) {
    ctx.addIssue({
      code: "custom",
      message: `has ${keys.length} tags; with the ${DEFAULT_TAG_KEYS.length} default tags (${DEFAULT_TAG_KEYS.join(", ")}) and up to ${RESOURCE_OWN_TAG_KEYS.length} a resource sets itself (${RESOURCE_OWN_TAG_KEYS.join(", ")}) that exceeds AWS's ${TAGS_PER_RESOURCE_MAX} tags per resource. Fix: keep at most ${EXTRA_TAGS_MAX} extra tags`,
    });
  }
  keys.forEach((key, i) => {
    const taken = TAKEN_KEYS.find((t) => t.toLowerCase() === key.toLowerCase());
    if (taken) {
      ctx.addIssue({ code: "custom", path: [key], message: `"${key}" would replace the project's own "${taken}" tag, which names ${DEFAULT_TAG_KEYS.includes(taken) ? "every resource's project, env or owner" : "the resource itself"}. Fix: choose another key` });
      return;
    }
    const twin = keys.findIndex((k) => k.toLowerCase() === key.toLowerCase());
    if (twin < i) ctx.addIssue({ code: "custom", path: [key], message: `"${key}" differs from "${keys[twin]}" only by case; IAM treats tag keys case-insensitively, so a role cannot carry both. Fix: keep one` });
  });
});
