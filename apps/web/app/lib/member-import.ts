/** The largest members CSV accepted: the stream route enforces it, the page checks it before sending. */
export const MAX_IMPORT_BYTES = 50_000_000;
