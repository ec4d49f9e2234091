import { randomFillSync } from "node:crypto";

/** Prefixes of every id the platform hands out; one place so they never collide or drift. */
export const ID_PREFIXES = {
  tenant: "ten",
  user: "usr",
  member: "mem",
  apiKey: "key",
  bootstrap: "bst",
  matrix: "mat",
  stage: "stg",
  request: "req",
  decision: "dec",
  receipt: "rcp",
  checkpoint: "ckp",
  message: "msg",
  decisionLink: "dlk",
  delegation: "dlg",
  audit: "aud",
  webhookEndpoint: "whe",
  webhookDelivery: "whd",
  webhookAttempt: "wha",
  webhookMessage: "msg",
  event: "evt",
  job: "job",
  scimToken: "sct",
  scimGroup: "grp",
  memberImport: "imp",
  passwordReset: "pwr",
  httpRequest: "rid",
} as const;

export type IdKind = keyof typeof ID_PREFIXES;

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/**
 * CSPRNG bytes are drawn 4 KiB at a time (as Node's randomUUID does): one call into the crypto
 * library per few hundred ids instead of one per id, which shows on the API hot path. A byte is
 * handed out once and wiped as it is used.
 */
const POOL_SIZE = 4096;
const pool = Buffer.alloc(POOL_SIZE);
let poolOffset = POOL_SIZE;

function nextRandomByte(): number {
  if (poolOffset === POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  // In range: poolOffset < POOL_SIZE after the refill above.
  const byte = pool.readUInt8(poolOffset);
  pool[poolOffset++] = 0;
  return byte;
}

/** Uniform base62 string from a CSPRNG (rejection sampling: no modulo bias). */
export function randomBase62(length: number): string {
  let out = "";
  while (out.length < length) {
    const byte = nextRandomByte();
    if (byte < 248) out += BASE62[byte % 62];
  }
  return out;
}

export function newId(kind: IdKind): string {
  return `${ID_PREFIXES[kind]}_${randomBase62(20)}`;
}
