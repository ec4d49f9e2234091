export * from "./ids";
export * from "./api-keys";
export * from "./errors";
export * from "./matrix";
export * from "./approvers";
export * from "./request-flow";
export * from "./text";
