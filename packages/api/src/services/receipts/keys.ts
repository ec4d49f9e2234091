/**
 * The product's receipt-signing keys. Ed25519 key pairs are generated here; the private key is
 * stored AES-256-GCM encrypted under a key derived (HKDF-SHA256) from RECEIPT_SIGNING_SECRET, with
 * the key id as associated data, and decrypted once per process. There is always a published
 * `next` key: rotation promotes it to `active` (so every key is in the key set before it signs),
 * retires the old one (still published, forever) and publishes a new `next`.
 */
import { createCipheriv, createDecipheriv, generateKeyPairSync, hkdfSync, type KeyObject, randomBytes } from "node:crypto";
import {
  type Ed25519PublicJwk,
  type KeyResolver,
  ed25519Thumbprint,
  privateKeyFromPkcs8,
  publicKeyFromJwk,
  publicKeyX,
} from "@approvalmatrix/core";
import { type Database, type Queryable, type SigningKeyStatus, asc, eq, signingKeys, sql } from "@approvalmatrix/db";
import { type LockedLog, type ReceiptDraft, appendReceipts } from "./log";

/** Any id will do as long as every instance uses the same one. */
const KEY_LOCK_ID = 7_042_010;
const ENCRYPTION_FORMAT = "v1";

export interface PublishedKey extends Ed25519PublicJwk {
  status: SigningKeyStatus;
  createdAt: string;
  activatedAt: string | null;
  retiredAt: string | null;
}

export interface RotationResult {
  activated: string;
  retired: string | null;
  next: string;
}

export class SigningKeyError extends Error {}

export class ReceiptSigner {
  private readonly encryptionKey: Buffer;
  private readonly privateKeys = new Map<string, KeyObject>();
  private readonly publicKeys = new Map<string, KeyObject>();
  /** Per tenant, the log head this signer's last append left: a guess the next append checks in its write. */
  private readonly heads = new Map<string, LockedLog>();

  constructor(
    readonly db: Database,
    secret: string,
  ) {
    this.encryptionKey = Buffer.from(hkdfSync("sha256", secret, "approvalmatrix", "receipt signing keys v1", 32));
  }

  /** The private key of `kid`, decrypted from its stored form once per process. */
  privateKey(kid: string, encrypted: string): KeyObject {
    const cached = this.privateKeys.get(kid);
    if (cached) return cached;
    const key = privateKeyFromPkcs8(this.decrypt(kid, encrypted));
    this.privateKeys.set(kid, key);
    return key;
  }

  private encrypt(kid: string, plaintext: Buffer): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.encryptionKey, iv);
    cipher.setAAD(Buffer.from(kid));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return `${ENCRYPTION_FORMAT}.${Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString("base64")}`;
  }

  private decrypt(kid: string, stored: string): Buffer {
    const [format, data] = stored.split(".");
    if (format !== ENCRYPTION_FORMAT || !data) throw new SigningKeyError(`Signing key ${kid} is stored in an unknown format.`);
    const raw = Buffer.from(data, "base64");
    try {
      const decipher = createDecipheriv("aes-256-gcm", this.encryptionKey, raw.subarray(0, 12));
      decipher.setAAD(Buffer.from(kid));
      decipher.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]);
    } catch {
      throw new SigningKeyError(
        `RECEIPT_SIGNING_SECRET does not decrypt signing key ${kid}: it is not the secret the keys were created with.`,
      );
    }
  }

  private async insertKey(tx: Queryable, status: SigningKeyStatus, now: Date): Promise<string> {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const x = publicKeyX(publicKey);
    const kid = ed25519Thumbprint(x);
    const der = privateKey.export({ format: "der", type: "pkcs8" });
    await tx.insert(signingKeys).values({
      kid,
      publicKey: x,
      privateKeyEncrypted: this.encrypt(kid, der),
      status,
      createdAt: now,
      activatedAt: status === "active" ? now : null,
    });
    return kid;
  }

  /**
   * At start-up: creates the first active and next keys when there are none (once across
   * instances), and checks that the secret decrypts the active key, failing fast when it does not.
   */
  async ensureKeys(): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${KEY_LOCK_ID})`);
      const rows = await tx.select({ kid: signingKeys.kid, status: signingKeys.status }).from(signingKeys);
      const now = new Date();
      if (!rows.some((r) => r.status === "active")) await this.insertKey(tx, "active", now);
      if (!rows.some((r) => r.status === "next")) await this.insertKey(tx, "next", now);
    });
    const [active] = await this.db.select().from(signingKeys).where(eq(signingKeys.status, "active"));
    if (active) this.privateKey(active.kid, active.privateKeyEncrypted);
  }

  /** Promotes the published next key, retires the active one, publishes a new next key. */
  async rotate(): Promise<RotationResult> {
    await this.ensureKeys();
    return this.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${KEY_LOCK_ID})`);
      const rows = await tx
        .select()
        .from(signingKeys)
        .where(sql`${signingKeys.status} in ('active', 'next')`);
      const active = rows.find((r) => r.status === "active");
      const next = rows.find((r) => r.status === "next");
      if (!next) throw new SigningKeyError("No published next key to promote.");
      // The new key must decrypt before the old one is let go.
      this.privateKey(next.kid, next.privateKeyEncrypted);
      const now = new Date();
      if (active) await tx.update(signingKeys).set({ status: "retired", retiredAt: now }).where(eq(signingKeys.kid, active.kid));
      await tx.update(signingKeys).set({ status: "active", activatedAt: now }).where(eq(signingKeys.kid, next.kid));
      const newNext = await this.insertKey(tx, "next", now);
      return { activated: next.kid, retired: active?.kid ?? null, next: newNext };
    });
  }

  /** Signs `drafts` into the tenant's log in the caller's transaction (log.ts appendReceipts). */
  append(
    tx: Queryable,
    tenantId: string,
    requestId: string,
    drafts: ReceiptDraft[],
    opts: { now: Date; checkpoint: boolean },
  ): Promise<void> {
    return appendReceipts(tx, this, tenantId, requestId, drafts, opts);
  }

  /** The head of `tenantId`'s log as this signer last left it (possibly moved since: appends check). */
  knownHead(tenantId: string): LockedLog | undefined {
    return this.heads.get(tenantId);
  }

  rememberHead(head: LockedLog): void {
    this.heads.set(head.tenant.id, head);
  }

  /** Every key ever made, oldest first, as JWKs with their status: the published key set. */
  async keySet(db: Queryable = this.db): Promise<PublishedKey[]> {
    const rows = await db.select().from(signingKeys).orderBy(asc(signingKeys.createdAt), asc(signingKeys.kid));
    return rows.map((row) => ({
      kty: "OKP",
      crv: "Ed25519",
      x: row.publicKey,
      kid: row.kid,
      alg: "EdDSA",
      use: "sig",
      status: row.status,
      createdAt: row.createdAt.toISOString(),
      activatedAt: row.activatedAt?.toISOString() ?? null,
      retiredAt: row.retiredAt?.toISOString() ?? null,
    }));
  }

  /** Resolves key ids against the published key set (read now; keys are cached once seen). */
  async keyResolver(db: Queryable = this.db): Promise<KeyResolver> {
    const set = await this.keySet(db);
    for (const jwk of set) if (!this.publicKeys.has(jwk.kid)) this.publicKeys.set(jwk.kid, publicKeyFromJwk(jwk));
    const published = new Set(set.map((k) => k.kid));
    return (kid) => (published.has(kid) ? this.publicKeys.get(kid) : undefined);
  }
}
