import { randomBytes } from "node:crypto";

/** Prefixes of every id the platform hands out; one place so they never collide or drift. */
export const ID_PREFIXES = {
  tenant: "ten",
  user: "usr",
  member: "mem",
  apiKey: "key",
  matrix: "mat",
  stage: "stg",
  request: "req",
  decision: "dec",
  audit: "aud",
  httpRequest: "rid",
} as const;

export type IdKind = keyof typeof ID_PREFIXES;

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** Uniform base62 string from a CSPRNG (rejection sampling: no modulo bias). */
export function randomBase62(length: number): string {
  let out = "";
  while (out.length < length) {
    const bytes = randomBytes(length * 2);
    for (const byte of bytes) {
      if (byte < 248) out += BASE62[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

export function newId(kind: IdKind): string {
  return `${ID_PREFIXES[kind]}_${randomBase62(20)}`;
}

export function hasIdPrefix(kind: IdKind, id: string): boolean {
  return id.startsWith(`${ID_PREFIXES[kind]}_`);
}
