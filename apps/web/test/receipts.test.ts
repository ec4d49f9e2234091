// Signed receipts end to end: decisions over REST, tRPC and the admin app's procedure each yield a
// receipt that the public endpoints, an independent Ed25519 implementation and the README's
// offline script accept, and a one-byte change is caught.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createApprovalMatrixClient } from "@approvalmatrix/client";
import { createCaller } from "@approvalmatrix/api";
import { must } from "@approvalmatrix/core";
import * as ed from "@noble/ed25519";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SEED_PURCHASE_ORDER, type TestApp, api, startTestApp, unlimitedKey } from "./harness";

const ROOT = new URL("../../../", import.meta.url).pathname;
const run = promisify(execFile);

let app: TestApp;
let call: ReturnType<typeof api>;
let anonymous: ReturnType<typeof api>;
let dir: string;
beforeAll(async () => {
  app = await startTestApp();
  call = api(app, await unlimitedKey(app));
  anonymous = api(app, null);
  dir = mkdtempSync(join(tmpdir(), "apx-receipts-"));
});
afterAll(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Envelope {
  payload: string;
  payloadType: string;
  signatures: { keyid: string; sig: string }[];
}

const decodeBody = (envelope: Envelope) => JSON.parse(Buffer.from(envelope.payload, "base64").toString("utf8"));

async function approvedRequest(): Promise<string> {
  const created = await call("POST", "/v1/requests", SEED_PURCHASE_ORDER);
  expect(created.status).toBe(201);
  const id: string = created.body.requestId;
  expect(
    (await call("POST", `/v1/requests/${id}/decisions`, { approverRef: "EMP-2001", decision: "approved", comment: "fine" })).status,
  ).toBe(200);
  expect((await call("POST", `/v1/requests/${id}/decisions`, { approverRef: "EMP-3001", decision: "approved" })).status).toBe(200);
  return id;
}

/** Ed25519 by @noble/ed25519 over a PAE built here: none of the product's code. */
async function nobleVerifies(envelope: Envelope, jwks: { keys: { kid: string; x: string }[] }): Promise<boolean> {
  const payload = Buffer.from(envelope.payload, "base64");
  const type = Buffer.from(envelope.payloadType);
  const pae = Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
  const [signature] = envelope.signatures;
  const jwk = jwks.keys.find((k) => k.kid === signature?.keyid);
  if (!signature || !jwk) return false;
  return ed.verifyAsync(Buffer.from(signature.sig, "base64"), pae, Buffer.from(jwk.x, "base64url"));
}

describe("GET /v1/requests/{requestId}/verify", () => {
  it("needs no key, and answers with every receipt, the checkpoint, proofs and the key set URL", async () => {
    const id = await approvedRequest();
    const res = await anonymous("GET", `/v1/requests/${id}/verify`);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-ratelimit-limit")).toBe("300");
    expect(Number(res.headers.get("x-ratelimit-remaining"))).toBeLessThan(300);
    expect(res.body).toMatchObject({ requestId: id, valid: true, keySetUrl: "/v1/keys" });
    expect(res.body.receipts.map((r: { kind: string; body: { meaning: string } }) => [r.kind, r.body.meaning])).toEqual([
      ["decision", "approval"],
      ["decision", "approval"],
      ["outcome", "final approval"],
    ]);
    const [first, , outcome] = res.body.receipts;
    expect(first.body).toMatchObject({
      version: 1,
      tenant: { id: app.demoTenantId, slug: "acme" },
      requestId: id,
      matrix: { name: "Engineering PO Matrix" },
      stage: { position: 1 },
      decision: "approved",
      approver: { ref: "EMP-2001", name: "Jane Smith" },
      actor: { type: "api_key", name: "test key" },
    });
    expect(first.body.commentDigest).toBe(`sha256:${(await import("node:crypto")).createHash("sha256").update("fine").digest("hex")}`);
    expect(first.body.contentDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(outcome.body).toMatchObject({ kind: "outcome", outcome: "approved", stage: { position: 2 } });
    // The outcome signed a checkpoint that covers all three.
    expect(res.body.checkpoint.valid).toBe(true);
    expect(res.body.checkpoint.body.treeSize).toBeGreaterThanOrEqual(outcome.position + 1);
    for (const receipt of res.body.receipts) expect(receipt.inclusionProof).toMatchObject({ leafIndex: receipt.position });
    // Consecutive entries of one tenant's log chain to each other.
    expect(res.body.receipts[1].body.log.previousLeafHash).toBe(first.leafHash);
  });

  it("is 404 for an unknown id; a key needs requests:verify and sees only its own tenant", async () => {
    expect((await anonymous("GET", "/v1/requests/req_doesnotexist000000000/verify")).body.error.code).toBe("not_found");
    const id = await approvedRequest();
    const other = await app.createOtherTenant(["requests:read"]);
    const unscoped = await api(app, other.key)("GET", `/v1/requests/${id}/verify`);
    expect(unscoped.status).toBe(403);
    const verifier = await app.operator(other.tenantId).admin.apiKeys.create({ name: "auditor", scopes: ["requests:verify"] });
    const otherTenant = await api(app, verifier.key)("GET", `/v1/requests/${id}/verify`);
    expect(otherTenant.status).toBe(404);
    expect(otherTenant.body.error.code).toBe("not_found");
    const own = await app.operator(app.demoTenantId).admin.apiKeys.create({ name: "own auditor", scopes: ["requests:verify"] });
    const ok = await api(app, own.key)("GET", `/v1/requests/${id}/verify`);
    expect(ok.status).toBe(200);
    expect(ok.body.valid).toBe(true);
    expect((await api(app, "apx_live_00000000000000000000000000000000")("GET", `/v1/requests/${id}/verify`)).status).toBe(401);
  });

  it("says no receipt yet for a request nobody decided", async () => {
    const created = await call("POST", "/v1/requests", SEED_PURCHASE_ORDER);
    const res = await anonymous("GET", `/v1/requests/${created.body.requestId}/verify`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ valid: false, receipts: [] });
    expect(res.body.reasons[0]).toMatch(/No decision/);
  });
});

describe("verifying outside the product", () => {
  it("an independent Ed25519 implementation accepts every receipt and checkpoint, and refuses a changed byte", async () => {
    const id = await approvedRequest();
    const jwks = (await anonymous("GET", "/v1/keys")).body;
    expect(jwks.keys.map((k: { status: string }) => k.status).sort()).toEqual(["active", "next"]);
    for (const k of jwks.keys) expect(k).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA", use: "sig" });
    const { body } = await anonymous("GET", `/v1/requests/${id}/verify`);
    for (const receipt of body.receipts) expect(await nobleVerifies(receipt.envelope, jwks)).toBe(true);
    expect(await nobleVerifies(body.checkpoint.envelope, jwks)).toBe(true);
    const payload = Buffer.from(body.receipts[0].envelope.payload, "base64");
    payload[payload.length - 3] = (payload[payload.length - 3] ?? 0) ^ 1;
    expect(await nobleVerifies({ ...body.receipts[0].envelope, payload: payload.toString("base64") }, jwks)).toBe(false);
  });

  it("the README's node:crypto script verifies a downloaded receipt offline and refuses a tampered one", async () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("## Signed receipts"));
    const script = must(/```js\n([\s\S]*?)```/.exec(section)?.[1]);
    expect(script.split("\n").length).toBeLessThanOrEqual(40);
    expect(script).not.toMatch(/from "(?!node:)/);
    writeFileSync(join(dir, "verify-receipt.mjs"), script);

    const id = await approvedRequest();
    writeFileSync(join(dir, "keys.json"), JSON.stringify((await anonymous("GET", "/v1/keys")).body));
    const { body } = await anonymous("GET", `/v1/requests/${id}/verify`);
    for (const receipt of body.receipts) {
      const bundle = { envelope: receipt.envelope, inclusionProof: receipt.inclusionProof, checkpoint: body.checkpoint.envelope };
      writeFileSync(join(dir, "receipt.json"), JSON.stringify(bundle));
      const { stdout } = await run(process.execPath, ["verify-receipt.mjs", "receipt.json", "keys.json"], { cwd: dir });
      expect(stdout).toMatch(new RegExp(`^valid: .* on ${id} .*entry ${receipt.position} of`));
    }
    const [receipt] = body.receipts;
    const tamper = async (bundle: unknown) => {
      writeFileSync(join(dir, "bad.json"), JSON.stringify(bundle));
      await expect(run(process.execPath, ["verify-receipt.mjs", "bad.json", "keys.json"], { cwd: dir })).rejects.toThrow();
    };
    const payload = Buffer.from(receipt.envelope.payload, "base64");
    payload[10] = (payload[10] ?? 0) ^ 1;
    await tamper({
      envelope: { ...receipt.envelope, payload: payload.toString("base64") },
      inclusionProof: receipt.inclusionProof,
      checkpoint: body.checkpoint.envelope,
    });
    const hashes = [...receipt.inclusionProof.hashes];
    if (hashes.length) {
      hashes[0] = `${hashes[0].slice(0, 63)}${hashes[0].endsWith("0") ? "1" : "0"}`;
      await tamper({
        envelope: receipt.envelope,
        inclusionProof: { ...receipt.inclusionProof, hashes },
        checkpoint: body.checkpoint.envelope,
      });
    }
    await tamper({
      envelope: receipt.envelope,
      inclusionProof: { ...receipt.inclusionProof, leafIndex: receipt.position + 1 },
      checkpoint: body.checkpoint.envelope,
    });
  });
});

describe("POST /v1/receipts/verify", () => {
  it("accepts a receipt from the log and refuses one changed by a byte, with reasons", async () => {
    const id = await approvedRequest();
    const { body } = await anonymous("GET", `/v1/requests/${id}/verify`);
    const envelope = body.receipts[0].envelope;
    const ok = await anonymous("POST", "/v1/receipts/verify", { envelope });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ valid: true, inLog: true, keyid: envelope.signatures[0].keyid, body: { requestId: id } });
    expect(ok.body.inclusionProof.hashes).toEqual(body.receipts[0].inclusionProof.hashes);

    const withProof = await anonymous("POST", "/v1/receipts/verify", {
      envelope,
      proof: body.receipts[0].inclusionProof,
      checkpoint: body.checkpoint.envelope,
    });
    expect(withProof.body.valid).toBe(true);

    const sig = Buffer.from(envelope.signatures[0].sig, "base64");
    sig[0] = (sig[0] ?? 0) ^ 1;
    const forged = await anonymous("POST", "/v1/receipts/verify", {
      envelope: { ...envelope, signatures: [{ ...envelope.signatures[0], sig: sig.toString("base64") }] },
    });
    expect(forged.status).toBe(200);
    expect(forged.body.valid).toBe(false);
    expect(forged.body.reasons.join(" ")).toMatch(/signature/i);

    const bad = await anonymous("POST", "/v1/receipts/verify", { envelope: { payload: "!!", payloadType: "x", signatures: [] } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("invalid_request");
  });
});

describe("every channel yields a receipt", () => {
  it("tRPC (the typed client) and the admin app's decide procedure sign as their actor", async () => {
    const key = await app.operator(app.demoTenantId).admin.apiKeys.create({
      name: "typed client",
      scopes: ["requests:write", "requests:read", "decisions:write", "requests:verify"],
      rateLimitPerMinute: 10_000,
    });
    const client = createApprovalMatrixClient({ baseUrl: app.url, apiKey: key.key });
    const created = await client.requests.create.mutate(SEED_PURCHASE_ORDER);
    await client.requests.decide.mutate({ requestId: created.requestId, approverRef: "EMP-2001", decision: "approved" });

    // Bob Lee (EMP-3001) signs in to the admin app and approves stage 2 himself.
    const operator = app.operator(app.demoTenantId);
    const user = must(
      (await operator.admin.users.list()).find((u) => u.memberRef === "EMP-3001"),
      "the demo's sign-in for Bob Lee",
    );
    const bobMember = must(
      (await operator.admin.members.list({ search: "EMP-3001", limit: 5 })).members.find((m) => m.externalRef === "EMP-3001"),
    );
    const bob = createCaller({
      deps: app.deps,
      requestId: "test",
      authorization: null,
      credentialInQuery: false,
      response: { headers: {} },
      actor: { kind: "user", tenantId: app.demoTenantId, userId: user.id, role: user.role, memberId: bobMember.id },
    });
    await bob.admin.requests.decide({ requestId: created.requestId, decision: "approved", comment: "from the admin app" });

    const verified = await client.receipts.verify.mutate({
      envelope: (await bob.admin.receipts.forRequest({ requestId: created.requestId })).receipts[1]?.envelope ?? {
        payload: "",
        payloadType: "",
        signatures: [],
      },
    });
    expect(verified.valid).toBe(true);
    const view = await bob.admin.receipts.forRequest({ requestId: created.requestId });
    expect(view.valid).toBe(true);
    expect(view.receipts.map((r) => r.body?.actor)).toEqual([
      expect.objectContaining({ type: "api_key", name: "typed client" }),
      expect.objectContaining({ type: "user", id: user.id, name: user.name }),
      expect.objectContaining({ type: "user", id: user.id, name: user.name }),
    ]);
    expect(view.receipts[1]?.body).toMatchObject({ approver: { ref: "EMP-3001", name: "Bob Lee" } });
  });

  it("a cancellation gets an outcome receipt with the reason's digest", async () => {
    const created = await call("POST", "/v1/requests", SEED_PURCHASE_ORDER);
    await call("POST", `/v1/requests/${created.body.requestId}/cancel`, { reason: "not needed" });
    const { body } = await anonymous("GET", `/v1/requests/${created.body.requestId}/verify`);
    expect(body.valid).toBe(true);
    expect(body.receipts).toHaveLength(1);
    expect(body.receipts[0].body).toMatchObject({ kind: "outcome", outcome: "cancelled", meaning: "cancellation", stage: { position: 1 } });
    expect(body.receipts[0].body.reasonDigest).toMatch(/^sha256:/);
  });
});

describe("key rotation", () => {
  it("signs with the key that was published as next; what the old key signed still verifies", async () => {
    const before = await approvedRequest();
    const keysBefore = (await anonymous("GET", "/v1/keys")).body.keys as { kid: string; status: string }[];
    const next = must(keysBefore.find((k) => k.status === "next"));
    const old = must(keysBefore.find((k) => k.status === "active"));
    const rotated = await app.operator(app.demoTenantId).admin.receipts.rotateKey();
    expect(rotated).toMatchObject({ activated: next.kid, retired: old.kid });

    const after = await approvedRequest();
    const { body } = await anonymous("GET", `/v1/requests/${after}/verify`);
    expect(body.valid).toBe(true);
    expect(body.receipts.map((r: { envelope: Envelope }) => r.envelope.signatures[0]?.keyid)).toEqual([next.kid, next.kid, next.kid]);
    expect((await anonymous("GET", `/v1/requests/${before}/verify`)).body.valid).toBe(true);
    const keysAfter = (await anonymous("GET", "/v1/keys")).body.keys as { kid: string; status: string; retiredAt: string | null }[];
    expect(keysAfter.find((k) => k.kid === old.kid)).toMatchObject({ status: "retired", retiredAt: expect.any(String) });
    expect(keysAfter.filter((k) => k.status === "next")).toHaveLength(1);
    expect(decodeBody(body.checkpoint.envelope).treeSize).toBe(body.checkpoint.body.treeSize);
  });
});

describe("the open endpoints' rate limit", () => {
  // Last in the file: it spends this address's budget.
  it("allows 300 calls a minute per address, then 429 with Retry-After", async () => {
    let last: Awaited<ReturnType<typeof anonymous>> | undefined;
    // Fixed one-minute windows: a burst that straddles a boundary may need up to two windows' worth.
    for (let i = 0; i < 700; i++) {
      last = await anonymous("GET", "/v1/keys");
      if (last.status === 429) break;
      expect(last.headers.get("x-ratelimit-limit")).toBe("300");
    }
    expect(last?.status).toBe(429);
    expect(last?.body.error.code).toBe("rate_limited");
    expect(last?.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(last?.headers.get("x-ratelimit-remaining")).toBe("0");
    // A keyed caller has its own budget.
    const own = await app.operator(app.demoTenantId).admin.apiKeys.create({ name: "verify key", scopes: ["requests:verify"] });
    expect((await api(app, own.key)("GET", "/v1/keys")).status).toBe(200);
  });
});
