export * from "./errors";
export * from "./filter";
export * from "./patch";
export * from "./user-mapping";
export * from "./discovery";
