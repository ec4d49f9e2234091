export { default } from "@approvalmatrix/prettier-config";
