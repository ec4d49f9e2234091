export * from "./queue";
export * from "./worker";
export { type Clock, ManualClock, systemClock } from "@approvalmatrix/core";
