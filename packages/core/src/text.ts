/**
 * Text that can be stored and sent on as JSON. A JavaScript string may hold a lone UTF-16
 * surrogate (JSON.parse of "\udfff" makes one); it is not a character: PostgreSQL refuses it in
 * jsonb, and a text column silently turns it into U+FFFD. Every place text enters (API input,
 * admin forms, CSV imports) refuses it with these checks instead.
 */

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Index of the first lone surrogate in `text`, or -1 when the text is well formed. */
export function findLoneSurrogate(text: string): number {
  const match = LONE_SURROGATE.exec(text);
  return match ? match.index : -1;
}

/** True when `text` is well-formed UTF-16 (no lone surrogate): it encodes to UTF-8 unchanged. */
export function isWellFormedText(text: string): boolean {
  return findLoneSurrogate(text) === -1;
}
