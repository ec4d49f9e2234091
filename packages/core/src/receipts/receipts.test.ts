import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { canonicalJson } from "./canonical-json";
import { type DsseEnvelope, ed25519Thumbprint, preAuthEncoding, publicKeyX, signEnvelope, verifyEnvelopeSignature } from "./dsse";
import { EMPTY_ROOT, appendToRange, inclusionProof, leafHash, nodeHash, rangeRoot, rootFromInclusionProof, treeRoot } from "./merkle";
import { type DecisionReceiptBody, DECISION_PAYLOAD_TYPE, encodeBody, receiptLeafHash, requestContentDigest } from "./receipt";
import { type StoredLogEntry, verifyLog, verifyReceiptEnvelope } from "./verify";

describe("RFC 8785 canonical JSON", () => {
  it("serializes the RFC's own example (section 3.2.2)", () => {
    const input = JSON.parse(
      '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001], "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}',
    ) as unknown;
    expect(canonicalJson(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it("sorts keys by UTF-16 code units (section 3.2.3)", () => {
    const input = JSON.parse(
      '{"\\u20ac": "Euro Sign", "\\r": "Carriage Return", "\\ufb33": "Hebrew Letter Dalet With Dagesh", "1": "One", "\\ud83d\\ude00": "Emoji: Grinning Face", "\\u0080": "Control", "\\u00f6": "Latin Small Letter O With Diaeresis"}',
    ) as Record<string, string>;
    const keys = Object.keys(JSON.parse(canonicalJson(input)) as object);
    // Integer-like keys jump the queue in a JS object; read the order from the text instead.
    const order = [...canonicalJson(input).matchAll(/"([^"]*)":"([^"]*)"/g)].map((m) => m[2]);
    expect(keys).toHaveLength(7);
    expect(order).toEqual([
      "Carriage Return",
      "One",
      "Control",
      "Latin Small Letter O With Diaeresis",
      "Euro Sign",
      "Emoji: Grinning Face",
      "Hebrew Letter Dalet With Dagesh",
    ]);
  });

  // Appendix B: IEEE 754 bit patterns and their canonical text.
  it.each([
    ["0000000000000000", "0"],
    ["8000000000000000", "0"],
    ["0000000000000001", "5e-324"],
    ["8000000000000001", "-5e-324"],
    ["7fefffffffffffff", "1.7976931348623157e+308"],
    ["ffefffffffffffff", "-1.7976931348623157e+308"],
    ["4340000000000000", "9007199254740992"],
    ["c340000000000000", "-9007199254740992"],
    ["4430000000000000", "295147905179352830000"],
    ["44b52d02c7e14af5", "9.999999999999997e+22"],
    ["44b52d02c7e14af6", "1e+23"],
    ["44b52d02c7e14af7", "1.0000000000000001e+23"],
    ["444b1ae4d6e2ef4e", "999999999999999700000"],
    ["444b1ae4d6e2ef4f", "999999999999999900000"],
    ["444b1ae4d6e2ef50", "1e+21"],
    ["3eb0c6f7a0b5ed8c", "9.999999999999997e-7"],
    ["3eb0c6f7a0b5ed8d", "0.000001"],
    ["41b3de4355555553", "333333333.3333332"],
    ["41b3de4355555554", "333333333.33333325"],
    ["41b3de4355555555", "333333333.3333333"],
    ["41b3de4355555556", "333333333.3333334"],
    ["41b3de4355555557", "333333333.33333343"],
    ["becbf647612f3696", "-0.0000033333333333333333"],
    ["43143ff3c1cb0959", "1424953923781206.2"],
  ])("number %s is %s", (bits, text) => {
    const view = new DataView(new ArrayBuffer(8));
    view.setBigUint64(0, BigInt(`0x${bits}`));
    expect(canonicalJson(view.getFloat64(0))).toBe(text);
  });

  it("refuses what is not I-JSON", () => {
    expect(() => canonicalJson(Number.NaN)).toThrow(/NaN/);
    expect(() => canonicalJson(Infinity)).toThrow();
    expect(() => canonicalJson("\ud800")).toThrow(/surrogate/);
    expect(() => canonicalJson(() => 1)).toThrow();
    expect(canonicalJson({ b: [1, { d: 1, c: 2 }], a: "x", skip: undefined })).toBe('{"a":"x","b":[1,{"c":2,"d":1}]}');
  });
});

describe("DSSE", () => {
  it("PAE matches the spec's example", () => {
    expect(preAuthEncoding("http://example.com/HelloWorld", Buffer.from("hello world")).toString()).toBe(
      "DSSEv1 29 http://example.com/HelloWorld 11 hello world",
    );
  });

  it("signs and verifies; any change of payload, type or signature fails", () => {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const envelope = signEnvelope("application/x-test", Buffer.from('{"a":1}'), { keyid: "k1", privateKey });
    const [signature] = envelope.signatures;
    if (!signature) throw new Error("no signature");
    expect(verifyEnvelopeSignature(envelope, signature, publicKey)).toBe(true);
    expect(verifyEnvelopeSignature({ ...envelope, payloadType: "application/x-other" }, signature, publicKey)).toBe(false);
    expect(verifyEnvelopeSignature({ ...envelope, payload: Buffer.from('{"a":2}').toString("base64") }, signature, publicKey)).toBe(false);
    const sig = Buffer.from(signature.sig, "base64");
    sig[5] = (sig[5] ?? 0) ^ 1;
    expect(verifyEnvelopeSignature(envelope, { ...signature, sig: sig.toString("base64") }, publicKey)).toBe(false);
    expect(verifyEnvelopeSignature(envelope, signature, generateKeyPairSync("ed25519").publicKey)).toBe(false);
  });

  it("key ids are RFC 7638 thumbprints", () => {
    // RFC 8037 appendix A.3: the thumbprint of its example Ed25519 key.
    expect(ed25519Thumbprint("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")).toBe("kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    const { publicKey } = generateKeyPairSync("ed25519");
    expect(publicKeyX(publicKey)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe("RFC 6962 Merkle tree", () => {
  const leaves = Array.from({ length: 33 }, (_, i) => leafHash(Buffer.from(`leaf ${i}`)));

  /** MTH straight from RFC 6962 section 2.1, recursive. */
  function mth(list: Buffer[]): Buffer {
    if (list.length === 0) return EMPTY_ROOT;
    if (list.length === 1) return list[0] ?? EMPTY_ROOT;
    let k = 1;
    while (k * 2 < list.length) k *= 2;
    return nodeHash(mth(list.slice(0, k)), mth(list.slice(k)));
  }

  it("the compact range gives the same root as the recursive definition, at every size", () => {
    let range: string[] = [];
    expect(rangeRoot(range).toString("hex")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    for (let size = 1; size <= leaves.length; size++) {
      range = appendToRange(range, size - 1, leaves[size - 1] ?? Buffer.alloc(0));
      expect(rangeRoot(range).equals(mth(leaves.slice(0, size)))).toBe(true);
      expect(range.length).toBe(size.toString(2).replaceAll("0", "").length);
    }
    expect(treeRoot(leaves).equals(mth(leaves))).toBe(true);
  });

  it("inclusion proofs verify for every leaf of every size, and fail for a wrong leaf or index", () => {
    for (let size = 1; size <= 20; size++) {
      const root = mth(leaves.slice(0, size));
      for (let index = 0; index < size; index++) {
        const proof = inclusionProof(leaves, index, size);
        expect(rootFromInclusionProof(leaves[index] ?? Buffer.alloc(0), index, size, proof)?.equals(root)).toBe(true);
        if (size > 1) {
          const other = (index + 1) % size;
          expect(rootFromInclusionProof(leaves[other] ?? Buffer.alloc(0), index, size, proof)?.equals(root) ?? false).toBe(false);
        }
      }
    }
    expect(rootFromInclusionProof(leaves[0] ?? Buffer.alloc(0), 5, 3, [])).toBeNull();
  });
});

describe("the log verifier", () => {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const kid = ed25519Thumbprint(publicKeyX(publicKey));
  const keys = (id: string) => (id === kid ? publicKey : undefined);

  function buildLog(count: number): { entries: StoredLogEntry[]; checkpoint: DsseEnvelope } {
    const entries: StoredLogEntry[] = [];
    let previous: string | null = null;
    let range: string[] = [];
    for (let position = 0; position < count; position++) {
      const body: DecisionReceiptBody = {
        version: 1,
        kind: "decision",
        tenant: { id: "ten_1", slug: "acme" },
        requestId: `req_${position}`,
        contentDigest: requestContentDigest({ type: "po", title: "t", amount: 1, currency: "USD", metadata: {}, submitterRef: "E1" }),
        matrix: { id: "mat_1", name: "M" },
        stage: { position: 1, name: "Manager" },
        meaning: "approval",
        decision: "approved",
        approver: { ref: "EMP-1", name: "Jane" },
        actor: { type: "api_key", id: "key_1", name: "ERP" },
        commentDigest: null,
        decidedAt: "2026-01-01T00:00:00.000Z",
        log: { position, previousLeafHash: previous },
      };
      const envelope = signEnvelope(DECISION_PAYLOAD_TYPE, encodeBody(body), { keyid: kid, privateKey });
      previous = receiptLeafHash(envelope);
      range = appendToRange(range, position, Buffer.from(previous, "hex"));
      entries.push({ position, envelope, leafHash: previous });
    }
    const checkpoint = signEnvelope(
      "application/vnd.approvalmatrix.checkpoint.v1+json",
      Buffer.from(
        canonicalJson({
          version: 1,
          origin: "test",
          tenant: { id: "ten_1", slug: "acme" },
          treeSize: count,
          rootHash: rangeRoot(range).toString("hex"),
          issuedAt: "2026-01-01T00:00:00.000Z",
        }),
      ),
      { keyid: kid, privateKey },
    );
    return { entries, checkpoint };
  }

  it("accepts an intact log", () => {
    const { entries, checkpoint } = buildLog(6);
    const verdict = verifyLog("ten_1", entries, [checkpoint], keys);
    expect(verdict).toMatchObject({ valid: true, size: 6, firstBadPosition: null, verifiedTreeSize: 6 });
    const first = entries[0];
    if (!first) throw new Error("empty");
    expect(verifyReceiptEnvelope(first.envelope, keys).ok).toBe(true);
  });

  it("reports the first bad position for a changed, reordered, inserted or deleted entry", () => {
    const { entries, checkpoint } = buildLog(6);
    const at = (i: number) =>
      entries[i] ??
      (() => {
        throw new Error("no entry");
      })();
    // One byte of one payload.
    const payload = Buffer.from(at(3).envelope.payload, "base64");
    payload[payload.indexOf("Jane")] = "K".charCodeAt(0);
    const changed = entries.map((e, i) => (i === 3 ? { ...e, envelope: { ...e.envelope, payload: payload.toString("base64") } } : e));
    expect(verifyLog("ten_1", changed, [checkpoint], keys)).toMatchObject({ valid: false, firstBadPosition: 3 });

    const reordered = [at(0), at(1), { ...at(3), position: 2 }, { ...at(2), position: 3 }, at(4), at(5)];
    expect(verifyLog("ten_1", reordered, [checkpoint], keys).firstBadPosition).toBe(2);

    const deleted = entries.filter((_, i) => i !== 4);
    expect(verifyLog("ten_1", deleted, [checkpoint], keys).firstBadPosition).toBe(4);

    const inserted = [at(0), at(1), { ...at(1), position: 2 }, ...entries.slice(2).map((e) => ({ ...e, position: e.position + 1 }))];
    expect(verifyLog("ten_1", inserted, [checkpoint], keys).firstBadPosition).toBe(2);

    const truncated = entries.slice(0, 5);
    const verdict = verifyLog("ten_1", truncated, [checkpoint], keys);
    expect(verdict).toMatchObject({ valid: false, firstBadPosition: 5 });
    expect(verdict.problems[0]?.reason).toMatch(/deleted/);
  });
});
