// Package helm reads the governance HELM OSS attaches to responses, verifies receipts offline
// and answers approvals. It depends on the standard library only.
package helm

// SpecVersion is the version of docs/spec (receipt.md, pep.md, trust-policy.md) this SDK implements.
const SpecVersion = 1

// Version is this SDK's version; its major number is SpecVersion.
const Version = "1.0.0"
