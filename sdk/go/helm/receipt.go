package helm

// VerifiedReceipt is a node whose signature and inclusion in a signed checkpoint verified.
type VerifiedReceipt struct {
	Node       *Node
	SignedBy   VerifierKey
	Checkpoint *VerifiedCheckpoint
}

// VerifyReceipt verifies one receipt offline: the entry decodes and checks (DecodeNode), its
// signature verifies under a key the registry's root published (VerifyNode), and the tlog-proof
// proves it sits at its own index under a checkpoint the policy (or a root-certified log key)
// signed. Add the log's trust nodes to the registry first.
func (r *TrustRegistry) VerifyReceipt(entry []byte, tlogProof string) (*VerifiedReceipt, error) {
	n, err := DecodeNode(entry)
	if err != nil {
		return nil, err
	}
	k, err := r.VerifyNode(n)
	if err != nil {
		return nil, err
	}
	cp, index, err := VerifyTlogProof(tlogProof, entry, r.policyWithLogKeys())
	if err != nil {
		return nil, err
	}
	if cp.Origin != n.Origin {
		return nil, errf("ERR_TLOG_PROOF_ORIGIN", "proof is for log %s but the node is in %s", cp.Origin, n.Origin)
	}
	if index != n.Index {
		return nil, errf("ERR_TLOG_PROOF_INDEX", "proof is for index %d but the node is %s#%d", index, n.Origin, n.Index)
	}
	return &VerifiedReceipt{Node: n, SignedBy: k, Checkpoint: cp}, nil
}
