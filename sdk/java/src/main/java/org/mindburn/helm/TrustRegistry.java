package org.mindburn.helm;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * The node keys and log keys a trust policy's root key authorised, from trust events
 * (receipt.md §7). Folding uses only minima of positions, so the order events are added in does
 * not matter.
 */
public final class TrustRegistry {
  /** A verified trust event. */
  public record KeyEvent(String event, String purpose, String origin, VerifierKey key, VerifierKey newKey, long fromIndex) {}

  /** A receipt whose signature and inclusion in a signed checkpoint verified. */
  public record VerifiedReceipt(Node node, VerifierKey signedBy, Checkpoints.Verified checkpoint) {}

  private static final class KeyRecord {
    final VerifierKey key;
    long validFrom = Long.MAX_VALUE, rotatedAt = Long.MAX_VALUE, revokedFrom = Long.MAX_VALUE;

    KeyRecord(VerifierKey key) {
      this.key = key;
    }
  }

  private final TrustPolicy policy;
  private final Map<String, KeyRecord> records = new HashMap<>();
  private final List<VerifierKey> logKeys = new ArrayList<>();

  public TrustRegistry(TrustPolicy policy) {
    this.policy = policy;
  }

  private static VerifierKey edKey(JsonNode v, String what) throws HelmException {
    try {
      VerifierKey k = VerifierKey.parse(v.isTextual() ? v.textValue() : "");
      if (k.alg() == VerifierKey.ALG_ED25519) return k;
    } catch (HelmException e) {
      // fall through
    }
    throw new HelmException("ERR_TRUST_EVENT_INVALID", "trust event " + what + " must be an Ed25519 note key");
  }

  /** Verifies a trust event envelope: canonical payload, subject digest, signatures by the root and every key the event names. */
  public static KeyEvent openKeyEvent(JsonNode envelope, VerifierKey root) throws HelmException {
    Node.Envelope env;
    try {
      env = Node.checkEnvelope(envelope);
    } catch (HelmException e) {
      throw new HelmException("ERR_TRUST_EVENT_INVALID", e.getMessage());
    }
    if (!env.payloadType().equals(Node.IN_TOTO_PAYLOAD_TYPE)) throw new HelmException("ERR_TRUST_EVENT_INVALID", "trust event payloadType is not in-toto");
    JsonNode st;
    try {
      st = Jcs.parse(env.payload());
    } catch (HelmException e) {
      throw new HelmException("ERR_TRUST_EVENT_INVALID", "trust event payload is not JSON");
    }
    if (!Arrays.equals(Jcs.canonicalize(st), env.payload())) throw new HelmException("ERR_TRUST_EVENT_INVALID", "trust event payload is not canonical JSON");
    String schemaProblem = Schema.problem("trust-event.v1.json", st);
    if (schemaProblem != null) throw new HelmException("ERR_TRUST_EVENT_INVALID", "trust event " + schemaProblem);
    if (!"https://helm.mindburn.org/trust/key-event/v1".equals(st.path("predicateType").textValue())) throw new HelmException("ERR_TRUST_EVENT_INVALID", "predicateType is not https://helm.mindburn.org/trust/key-event/v1");
    JsonNode pred = st.path("predicate");
    if (!pred.isObject() || !st.path("subject").isArray() || st.get("subject").size() != 1) throw new HelmException("ERR_TRUST_EVENT_INVALID", "trust event statement must have a predicate and one subject");
    if (!HexFormat.of().formatHex(Hashes.sha256(Jcs.canonicalize(pred))).equals(st.get("subject").get(0).path("digest").path("sha256").textValue())) throw new HelmException("ERR_TRUST_EVENT_INVALID", "trust event subject digest mismatch");
    String origin = pred.path("origin").textValue();
    if (origin == null || origin.isEmpty() || !Node.isSafeUint(pred.path("fromIndex"))) throw new HelmException("ERR_TRUST_EVENT_INVALID", "trust event needs origin and fromIndex");
    long from = pred.get("fromIndex").longValue();
    String event = pred.path("event").asText("");
    String purpose = pred.path("purpose").isTextual() ? pred.get("purpose").textValue() : "node";
    VerifierKey key = edKey(pred.path("key"), "key");
    VerifierKey newKey = null;
    List<VerifierKey> named = new ArrayList<>(List.of(key));
    switch (event) {
      case "KEY_PUBLISH" -> {}
      case "KEY_REVOKE" -> named.clear();
      case "KEY_ROTATE" -> {
        newKey = edKey(pred.path("newKey"), "newKey");
        named.add(newKey);
      }
      default -> throw new HelmException("ERR_TRUST_EVENT_INVALID", "unknown event " + event);
    }
    if (purpose.equals("log") && (!event.equals("KEY_PUBLISH") || from != 0 || !key.name().equals(origin))) throw new HelmException("ERR_TRUST_EVENT_INVALID", "a log-key event must be KEY_PUBLISH from index 0 of a key named after its origin");
    byte[] msg = Node.pae(env.payloadType(), env.payload());
    List<VerifierKey> need = new ArrayList<>(List.of(root));
    need.addAll(named);
    for (VerifierKey k : need) {
      Node.Signature sig = env.sigs().stream().filter(s -> s.keyId().equals(k.handle())).findFirst().orElseThrow(() -> new HelmException("ERR_TRUST_EVENT_UNAUTHORISED", event + " for " + origin + " lacks a signature by " + k.handle()));
      if (!k.verify(msg, sig.sig())) throw new HelmException("ERR_TRUST_EVENT_UNAUTHORISED", event + " for " + origin + ": bad signature by " + k.handle());
    }
    return new KeyEvent(event, purpose, origin, key, newKey, from);
  }

  private KeyRecord record(String origin, VerifierKey k) {
    return records.computeIfAbsent(origin + "\n" + k.handle(), x -> new KeyRecord(k));
  }

  /** Verifies a trust event envelope (e.g. a trust node's body.event) and folds it in. */
  public KeyEvent add(JsonNode envelope) throws HelmException {
    if (policy.root == null) throw new HelmException("ERR_TRUST_NO_ROOT", "the trust policy names no root key, so no trust event can be accepted");
    KeyEvent ev = openKeyEvent(envelope, policy.root);
    if (ev.purpose().equals("log")) {
      logKeys.add(ev.key());
      return ev;
    }
    switch (ev.event()) {
      case "KEY_PUBLISH" -> {
        KeyRecord r = record(ev.origin(), ev.key());
        r.validFrom = Math.min(r.validFrom, ev.fromIndex());
      }
      case "KEY_ROTATE" -> {
        KeyRecord r = record(ev.origin(), ev.key());
        r.rotatedAt = Math.min(r.rotatedAt, ev.fromIndex());
        KeyRecord n = record(ev.origin(), ev.newKey());
        n.validFrom = Math.min(n.validFrom, ev.fromIndex());
      }
      default -> {
        KeyRecord r = record(ev.origin(), ev.key());
        r.revokedFrom = Math.min(r.revokedFrom, ev.fromIndex());
      }
    }
    return ev;
  }

  /** Adds the trust event a decoded trust node carries. */
  public KeyEvent addTrustNode(Node n) throws HelmException {
    if (!n.kind().equals("trust")) throw new HelmException("ERR_TRUST_EVENT_INVALID", "node " + n.index() + " of " + n.origin() + " is a " + n.kind() + " node, not a trust node");
    return add(n.body().get("event"));
  }

  /**
   * Checks a node's signatures (receipt.md §8 step 4): one by a key valid for (origin, index) must
   * verify (ERR_UNTRUSTED_SIGNER otherwise); a known key's bad signature is ERR_SIGNATURE.
   */
  public VerifierKey verifyNode(Node n) throws HelmException {
    VerifierKey good = null;
    List<String> why = new ArrayList<>();
    for (Node.Signature s : n.signatures()) {
      KeyRecord r = records.get(n.origin() + "\n" + s.keyId());
      if (r == null || r.validFrom == Long.MAX_VALUE) why.add("key " + s.keyId() + " was never published by the root key for " + n.origin());
      else if (n.index() >= r.revokedFrom) why.add("key " + s.keyId() + " is revoked");
      else if (n.index() >= r.rotatedAt) why.add("key " + s.keyId() + " was rotated out");
      else if (n.index() < r.validFrom) why.add("key " + s.keyId() + " is not valid yet at this index");
      else {
        if (!r.key.verify(n.pae(), s.sig())) throw new HelmException("ERR_SIGNATURE", "signature by " + s.keyId() + " does not verify: the node was altered after signing");
        if (good == null) good = r.key;
      }
    }
    if (good == null) throw new HelmException("ERR_UNTRUSTED_SIGNER", "no signature by a key the root published for " + n.origin() + " at index " + n.index() + " " + why);
    return good;
  }

  /** Verifies one receipt offline: decode, signature, and its tlog-proof at its own index under a checkpoint the policy (or a root-certified log key) signed. */
  public VerifiedReceipt verifyReceipt(byte[] entry, String tlogProof) throws HelmException {
    Node n = Node.decode(entry);
    VerifierKey k = verifyNode(n);
    Checkpoints.Included inc = Checkpoints.verifyProof(tlogProof, entry, policy.withLogs(logKeys));
    Checkpoints.Checkpoint c = inc.checkpoint().checkpoint();
    if (!c.origin().equals(n.origin())) throw new HelmException("ERR_TLOG_PROOF_ORIGIN", "proof is for log " + c.origin() + " but the node is in " + n.origin());
    if (inc.index() != n.index()) throw new HelmException("ERR_TLOG_PROOF_INDEX", "proof is for index " + inc.index() + " but the node is " + n.origin() + "#" + n.index());
    return new VerifiedReceipt(n, k, inc.checkpoint());
  }
}
