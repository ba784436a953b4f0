package org.mindburn.helm;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * A decoded ProofGraph node whose form, schema and subject digest were checked; its signatures
 * are checked by {@link TrustRegistry#verifyNode}.
 */
public record Node(String kind, JsonNode statement, String origin, long index, byte[] entry, String entryHash, byte[] pae, List<Signature> signatures) {
  public static final String IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json";
  static final String STATEMENT_TYPE = "https://in-toto.io/Statement/v1";
  static final String PREDICATE_BASE = "https://helm.mindburn.org/proofgraph/";
  static final int MAX_ENTRY_BYTES = 65535;
  static final Map<String, List<String>> BODY_REQUIRED = Map.of(
      "intent", List.of("surface", "callId", "tool", "principal", "argsDigest"),
      "decision", List.of("callId", "tool", "verdict", "reasonCode", "ruleIds", "policyDigest", "inputDigest", "engine"),
      "effect", List.of("callId", "tool", "status", "confirmed"),
      "result", List.of("callId", "tool", "status", "outputDigest"),
      "trust", List.of("event"),
      "heartbeat", List.of("reason", "intervalUs", "software"),
      "gap", List.of("from", "to", "reason"),
      "approval", List.of("callId", "decision", "approver", "verdict", "nonce"));

  public record Signature(String keyId, byte[] sig) {}

  record Envelope(byte[] payload, String payloadType, List<Signature> sigs) {}

  public JsonNode predicate() {
    return statement.get("predicate");
  }

  public JsonNode body() {
    return statement.get("predicate").get("body");
  }

  /** DSSE pre-authentication encoding (lengths in bytes). */
  public static byte[] pae(String payloadType, byte[] payload) {
    byte[] head = ("DSSEv1 " + payloadType.getBytes(StandardCharsets.UTF_8).length + " " + payloadType + " " + payload.length + " ").getBytes(StandardCharsets.UTF_8);
    byte[] out = Arrays.copyOf(head, head.length + payload.length);
    System.arraycopy(payload, 0, out, head.length, payload.length);
    return out;
  }

  /** The closed envelope shape of receipt.md §4. */
  static Envelope checkEnvelope(JsonNode raw) throws HelmException {
    String shape = "envelope must be an object with exactly payload, payloadType, signatures";
    if (!raw.isObject() || raw.size() != 3 || !raw.path("payload").isTextual() || !raw.path("payloadType").isTextual() || !raw.path("signatures").isArray()) throw new HelmException("ERR_ENVELOPE_MALFORMED", shape);
    byte[] payload;
    try {
      payload = VerifierKey.strictBase64(raw.get("payload").textValue());
    } catch (HelmException e) {
      throw new HelmException("ERR_ENVELOPE_MALFORMED", "payload is not canonical base64");
    }
    JsonNode sigs = raw.get("signatures");
    if (sigs.size() < 1 || sigs.size() > 16) throw new HelmException("ERR_ENVELOPE_MALFORMED", "signatures must have 1 to 16 entries");
    List<Signature> out = new ArrayList<>();
    for (JsonNode s : sigs) {
      if (!s.isObject() || s.size() != 2 || !s.path("keyid").isTextual() || !s.path("sig").isTextual()) throw new HelmException("ERR_ENVELOPE_MALFORMED", "each signature must be exactly {keyid, sig}");
      try {
        out.add(new Signature(s.get("keyid").textValue(), VerifierKey.strictBase64(s.get("sig").textValue())));
      } catch (HelmException e) {
        throw new HelmException("ERR_ENVELOPE_MALFORMED", "signature is not canonical base64");
      }
    }
    return new Envelope(payload, raw.get("payloadType").textValue(), out);
  }

  /**
   * Decodes one log entry and checks it as the TypeScript verifier does (receipt.md §8 steps 1-2):
   * canonical form at both layers, envelope shape, payload type, statement schema (integers only,
   * required fields), subject digest.
   */
  public static Node decode(byte[] entry) throws HelmException {
    if (entry.length > MAX_ENTRY_BYTES) throw new HelmException("ERR_ENTRY_TOO_LARGE", "entry is " + entry.length + " bytes; the limit is " + MAX_ENTRY_BYTES);
    JsonNode raw = Jcs.parse(entry);
    Envelope env = checkEnvelope(raw);
    if (!Arrays.equals(Jcs.canonicalize(raw), entry)) throw new HelmException("ERR_NOT_CANONICAL", "entry is not the JCS form of its envelope");
    if (!env.payloadType().equals(IN_TOTO_PAYLOAD_TYPE)) throw new HelmException("ERR_PAYLOAD_TYPE", "payloadType " + env.payloadType() + " is not " + IN_TOTO_PAYLOAD_TYPE);
    JsonNode st = Jcs.parse(env.payload());
    String pt = st.path("predicateType").isTextual() ? st.get("predicateType").textValue() : "";
    String kind = pt.startsWith(PREDICATE_BASE) && pt.endsWith("/v1") ? pt.substring(PREDICATE_BASE.length(), pt.length() - 3) : "";
    if (!BODY_REQUIRED.containsKey(kind)) throw new HelmException("ERR_PREDICATE_TYPE", "unknown predicateType " + pt + " (expected " + PREDICATE_BASE + "<kind>/v1)");
    if (loneSurrogate(env.payload())) throw new HelmException("ERR_SCHEMA", kind + " statement has a lone surrogate escape (\\uD800-\\uDFFF without its pair)");
    String schemaProblem = Schema.statementProblem(kind, st);
    if (schemaProblem != null) throw new HelmException("ERR_SCHEMA", kind + " statement " + schemaProblem);
    checkStatement(kind, st);
    if (!Arrays.equals(Jcs.canonicalize(st), env.payload())) throw new HelmException("ERR_NOT_CANONICAL", "payload is not the JCS form of its statement");
    String digest = HexFormat.of().formatHex(Hashes.sha256(Jcs.canonicalize(st.get("predicate").get("body"))));
    if (!digest.equals(st.get("subject").get(0).get("digest").get("sha256").textValue())) throw new HelmException("ERR_SUBJECT_DIGEST", "subject digest does not match the predicate body");
    JsonNode p = st.get("predicate");
    return new Node(kind, st, p.get("origin").textValue(), p.get("index").longValue(), entry.clone(), Hashes.hashRef(entry), pae(env.payloadType(), env.payload()), env.sigs());
  }

  static boolean isHashRef(JsonNode v) {
    return v.isTextual() && v.textValue().matches("sha256:[0-9a-f]{64}");
  }

  static boolean isSafeUint(JsonNode v) {
    return v.isIntegralNumber() && v.canConvertToLong() && v.longValue() >= 0 && v.longValue() <= Checkpoints.MAX_SAFE_INTEGER;
  }

  /** A number that is not an integer in ±(2^53-1): signed data has no floats. */
  static String nonInteger(JsonNode v, String path) {
    if (v.isNumber()) {
      double d = v.doubleValue();
      return d != Math.rint(d) || Math.abs(d) > Checkpoints.MAX_SAFE_INTEGER || !Double.isFinite(d) ? path + " " + v + " is not an integer in ±(2^53-1)" : null;
    }
    if (v.isArray()) {
      for (int i = 0; i < v.size(); i++) {
        String m = nonInteger(v.get(i), path + i + "/");
        if (m != null) return m;
      }
    }
    if (v.isObject()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        String m = nonInteger(e.getValue(), path + e.getKey() + "/");
        if (m != null) return m;
      }
    }
    return null;
  }

  private static void checkStatement(String kind, JsonNode st) throws HelmException {
    String pre = kind + " statement ";
    String m = nonInteger(st, "/");
    if (m != null) throw new HelmException("ERR_SCHEMA", pre + m);
    if (!st.isObject() || st.size() != 4 || !STATEMENT_TYPE.equals(st.path("_type").textValue())) throw new HelmException("ERR_SCHEMA", pre + "must be exactly {_type, subject, predicateType, predicate}");
    JsonNode subj = st.path("subject");
    if (!subj.isArray() || subj.size() != 1) throw new HelmException("ERR_SCHEMA", pre + "/subject must have exactly one element");
    JsonNode s0 = subj.get(0);
    if (!s0.isObject() || s0.size() != 2 || !s0.path("name").isTextual() || s0.get("name").textValue().isEmpty() || !s0.path("digest").isObject() || s0.get("digest").size() != 1 || !s0.get("digest").path("sha256").isTextual() || !s0.get("digest").get("sha256").textValue().matches("[0-9a-f]{64}"))
      throw new HelmException("ERR_SCHEMA", pre + "/subject/0 must be {name, digest: {sha256: <64 hex>}}");
    JsonNode p = st.path("predicate");
    if (!p.isObject() || p.size() != 7) throw new HelmException("ERR_SCHEMA", pre + "/predicate must have exactly origin, index, lamport, prev, parents, time, body");
    if (!p.path("origin").isTextual() || p.get("origin").textValue().isEmpty()) throw new HelmException("ERR_SCHEMA", pre + "/predicate/origin must be a non-empty string");
    if (!isSafeUint(p.path("index")) || !isSafeUint(p.path("lamport")) || p.get("lamport").longValue() < 1) throw new HelmException("ERR_SCHEMA", pre + "/predicate/index and lamport must be integers (lamport >= 1)");
    if (!p.has("prev") || !(p.get("prev").isNull() || isHashRef(p.get("prev")))) throw new HelmException("ERR_SCHEMA", pre + "/predicate/prev must be null or a hash reference");
    JsonNode parents = p.path("parents");
    if (!parents.isArray() || parents.size() > 64) throw new HelmException("ERR_SCHEMA", pre + "/predicate/parents must be an array of at most 64 parents");
    for (int i = 0; i < parents.size(); i++) {
      JsonNode par = parents.get(i);
      if (!par.isObject() || (par.size() != 1 && par.size() != 3) || !isHashRef(par.path("hash"))) throw new HelmException("ERR_SCHEMA", pre + "/predicate/parents/" + i + " must be {hash} or {origin, index, hash}");
    }
    if (!p.path("time").isTextual() || !p.get("time").textValue().matches("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z")) throw new HelmException("ERR_SCHEMA", pre + "/predicate/time must be RFC 3339 UTC with milliseconds");
    JsonNode body = p.path("body");
    if (!body.isObject()) throw new HelmException("ERR_SCHEMA", pre + "/predicate/body must be an object");
    for (String f : BODY_REQUIRED.get(kind)) if (!body.has(f)) throw new HelmException("ERR_SCHEMA", pre + "/predicate/body must have required property '" + f + "'");
  }

  private static int hex4(byte[] t, int i) {
    if (i + 6 > t.length || t[i] != '\\' || t[i + 1] != 'u') return -1;
    try {
      return Integer.parseInt(new String(t, i + 2, 4, StandardCharsets.US_ASCII), 16);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** A \\u escape of a UTF-16 surrogate without its pair: the TypeScript verifier refuses it as a schema error. */
  static boolean loneSurrogate(byte[] t) {
    int i = 0;
    while (i < t.length) {
      if (t[i] != '\\') {
        i++;
        continue;
      }
      int v = hex4(t, i);
      if (v < 0) i += 2; // an escaped character: skip it (it may be a backslash)
      else if (v >= 0xD800 && v <= 0xDBFF) {
        int w = hex4(t, i + 6);
        if (w < 0xDC00 || w > 0xDFFF) return true;
        i += 12;
      } else if (v >= 0xDC00 && v <= 0xDFFF) return true;
      else i += 6;
    }
    return false;
  }
}
