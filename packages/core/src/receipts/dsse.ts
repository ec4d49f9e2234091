/**
 * DSSE (Dead Simple Signing Envelope, secure-systems-lab/dsse v1): the signature covers the
 * pre-authentication encoding of the payload type and the payload bytes, so a signature over a
 * receipt can never be replayed as a signature over something of another type.
 */
import { createHash, createPrivateKey, createPublicKey, type KeyObject, sign, verify } from "node:crypto";

export interface DsseSignature {
  keyid: string;
  /** base64 (standard alphabet) Ed25519 signature over PAE(payloadType, payload). */
  sig: string;
}

export interface DsseEnvelope {
  /** base64 (standard alphabet) of the payload bytes. */
  payload: string;
  payloadType: string;
  signatures: DsseSignature[];
}

/** PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, lengths in ASCII decimal bytes. */
export function preAuthEncoding(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, "utf8");
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}

/** Signs `payload` with an Ed25519 private key into a one-signature envelope. */
export function signEnvelope(payloadType: string, payload: Uint8Array, key: { keyid: string; privateKey: KeyObject }): DsseEnvelope {
  const sig = sign(null, preAuthEncoding(payloadType, payload), key.privateKey);
  const bytes = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  return { payload: bytes.toString("base64"), payloadType, signatures: [{ keyid: key.keyid, sig: sig.toString("base64") }] };
}

export function envelopePayload(envelope: DsseEnvelope): Buffer {
  return Buffer.from(envelope.payload, "base64");
}

/**
 * True when `signature` is a valid Ed25519 signature of the envelope by `publicKey`. Base64 that
 * does not round-trip (a changed character Node's lenient decoder would skip) is refused.
 */
export function verifyEnvelopeSignature(envelope: DsseEnvelope, signature: DsseSignature, publicKey: KeyObject): boolean {
  if (!isCanonicalBase64(envelope.payload) || !isCanonicalBase64(signature.sig)) return false;
  const sig = Buffer.from(signature.sig, "base64");
  if (sig.length !== 64) return false;
  try {
    return verify(null, preAuthEncoding(envelope.payloadType, envelopePayload(envelope)), publicKey, sig);
  } catch {
    return false;
  }
}

export function isCanonicalBase64(text: string): boolean {
  return /^[A-Za-z0-9+/]*={0,2}$/.test(text) && text.length % 4 === 0 && Buffer.from(text, "base64").toString("base64") === text;
}

// ── Ed25519 keys as JWK (RFC 8037: kty OKP, crv Ed25519) ────────────────────────────────────────

export interface Ed25519PublicJwk {
  kty: "OKP";
  crv: "Ed25519";
  /** base64url of the 32-byte public key. */
  x: string;
  kid: string;
  alg: "EdDSA";
  use: "sig";
}

/** The raw 32 public-key bytes as base64url. */
export function publicKeyX(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: "jwk" });
  if (jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || !jwk.x) throw new Error("Not an Ed25519 public key.");
  return jwk.x;
}

/** RFC 7638 JWK thumbprint (SHA-256, base64url) of an Ed25519 public key: the key's id. */
export function ed25519Thumbprint(x: string): string {
  // Required members only, in lexicographic order, no whitespace (RFC 7638 section 3.2).
  return createHashBase64url(`{"crv":"Ed25519","kty":"OKP","x":"${x}"}`);
}

function createHashBase64url(text: string): string {
  return sha256(Buffer.from(text, "utf8")).toString("base64url");
}

export function sha256(data: Uint8Array): Buffer {
  return createHash("sha256").update(data).digest();
}

export function publicKeyFromJwk(jwk: { kty: string; crv?: string; x?: string }): KeyObject {
  if (jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || !jwk.x) throw new Error("Only OKP/Ed25519 keys are supported.");
  return createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: jwk.x }, format: "jwk" });
}

export function privateKeyFromPkcs8(der: Buffer): KeyObject {
  return createPrivateKey({ key: der, format: "der", type: "pkcs8" });
}
