// The SDK's major version is the receipt format version it verifies (docs/spec/receipt.md title).
export const SPEC_VERSION = 1;
export const SDK_VERSION = '1.0.0';
