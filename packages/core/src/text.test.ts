import { describe, expect, it } from "vitest";
import { findLoneSurrogate, isWellFormedText } from "./text";

describe("findLoneSurrogate", () => {
  it.each([
    ["", -1],
    ["plain ascii", -1],
    ["Zoë · 日本 · 😀 pairs are fine", -1],
    ["\udfff", 0],
    ["ab\ud83d", 2],
    ["ab\ud83dx", 2],
    ["x\ude00", 1],
    ["😀\ude00", 2],
    ["\ud83d\ud83d\ude00", 0],
  ])("%j → %i", (text, index) => {
    expect(findLoneSurrogate(text)).toBe(index);
    expect(isWellFormedText(text)).toBe(index === -1);
  });
});
