export * from "./canonical-json";
export * from "./dsse";
export * from "./merkle";
export * from "./receipt";
export * from "./verify";
