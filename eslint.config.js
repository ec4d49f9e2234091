export { default } from "@approvalmatrix/eslint-config";
