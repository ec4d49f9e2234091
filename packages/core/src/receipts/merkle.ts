/**
 * The per-tenant receipt log as an RFC 6962 (Certificate Transparency) Merkle tree: leaf hash
 * SHA-256(0x00 || leaf), node hash SHA-256(0x01 || left || right). A signed checkpoint (tree size
 * + root) commits to every entry before it; an inclusion proof shows one receipt is in it with
 * log2(size) hashes. The writer keeps only the "compact range" (the roots of the perfect subtrees
 * that make up the tree, at most log2(size) hashes), so an append and a new root cost O(log n).
 */
import { createHash } from "node:crypto";

export function leafHash(leaf: Uint8Array): Buffer {
  return createHash("sha256").update(Buffer.of(0)).update(leaf).digest();
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash("sha256").update(Buffer.of(1)).update(left).update(right).digest();
}

/** SHA-256 of nothing: the root of the empty tree (RFC 6962 section 2.1). */
export const EMPTY_ROOT = createHash("sha256").digest();

/** Roots of the perfect subtrees of a tree of `size` leaves, largest (leftmost) first, as hex. */
export type CompactRange = string[];

/** The compact range after appending one leaf hash to a tree of `size` leaves. */
export function appendToRange(range: CompactRange, size: number, leaf: Uint8Array): CompactRange {
  const next = [...range];
  let hash: Buffer = Buffer.from(leaf);
  // Each trailing 1 bit of `size` is a perfect subtree of the same height as the new one: merge.
  for (let s = size; s & 1; s >>= 1) {
    const left = next.pop();
    if (left === undefined) throw new Error("compact range shorter than its size says");
    hash = nodeHash(Buffer.from(left, "hex"), hash);
  }
  next.push(hash.toString("hex"));
  return next;
}

/** The tree's root from its compact range: fold from the right (MTH of RFC 6962). */
export function rangeRoot(range: CompactRange): Buffer {
  if (range.length === 0) return EMPTY_ROOT;
  let root: Buffer = Buffer.from(range[range.length - 1] ?? "", "hex");
  for (let i = range.length - 2; i >= 0; i--) root = nodeHash(Buffer.from(range[i] ?? "", "hex"), root);
  return root;
}

/** MTH over leaf hashes (RFC 6962 section 2.1), for verifiers holding the whole log. */
export function treeRoot(leaves: readonly Uint8Array[]): Buffer {
  let range: CompactRange = [];
  leaves.forEach((leaf, i) => (range = appendToRange(range, i, leaf)));
  return rangeRoot(range);
}

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function subtreeRoot(leaves: readonly Uint8Array[], from: number, to: number): Buffer {
  if (to - from === 1) return Buffer.from(leaves[from] ?? Buffer.alloc(0));
  const k = largestPowerOfTwoBelow(to - from);
  return nodeHash(subtreeRoot(leaves, from, from + k), subtreeRoot(leaves, from + k, to));
}

/** PATH(m, D[0:n]) of RFC 6962 section 2.1.1: the audit path of leaf `index` in the first `size` leaves. */
export function inclusionProof(leaves: readonly Uint8Array[], index: number, size = leaves.length): Buffer[] {
  if (index < 0 || index >= size || size > leaves.length) throw new RangeError("leaf index outside the tree");
  const path = (m: number, from: number, to: number): Buffer[] => {
    if (to - from <= 1) return [];
    const k = largestPowerOfTwoBelow(to - from);
    return m < k
      ? [...path(m, from, from + k), subtreeRoot(leaves, from + k, to)]
      : [...path(m - k, from + k, to), subtreeRoot(leaves, from, from + k)];
  };
  return path(index, 0, size);
}

/** RFC 9162 section 2.1.3.2: recomputes the root from a leaf hash and its audit path. */
export function rootFromInclusionProof(leaf: Uint8Array, index: number, size: number, proof: readonly Uint8Array[]): Buffer | null {
  if (index < 0 || index >= size) return null;
  let fn = index;
  let sn = size - 1;
  let r: Buffer = Buffer.from(leaf);
  for (const p of proof) {
    if (sn === 0) return null;
    if (fn & 1 || fn === sn) {
      r = nodeHash(p, r);
      if (!(fn & 1)) {
        while (!(fn & 1) && fn !== 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn === 0 ? r : null;
}
