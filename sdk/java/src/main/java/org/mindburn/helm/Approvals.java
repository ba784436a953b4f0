package org.mindburn.helm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/** Approvals (pep.md §5): the domain-separated message, signing, and the sidecar's admin API. */
public final class Approvals {
  public static final String APPROVAL_DOMAIN = "helm-approval/v1";

  private Approvals() {}

  /** UTF-8 of "helm-approval/v1\n&lt;decision&gt;\n&lt;policyDigest&gt;\n&lt;nonce&gt;\n&lt;verdict&gt;\n". */
  public static byte[] message(String decision, String policyDigest, String nonce, String verdict) throws HelmException {
    String hash = "sha256:[0-9a-f]{64}";
    if (decision == null || policyDigest == null || !decision.matches(hash) || !policyDigest.matches(hash)) throw new HelmException("ERR_APPROVAL_MALFORMED", "decision and policyDigest must be sha256:<64 hex>");
    if (nonce == null || !nonce.matches("[A-Za-z0-9_-]{16,128}")) throw new HelmException("ERR_APPROVAL_MALFORMED", "nonce must be 16-128 base64url characters");
    if (!"approve".equals(verdict) && !"reject".equals(verdict)) throw new HelmException("ERR_APPROVAL_MALFORMED", "verdict must be approve or reject, not " + verdict);
    return String.join("\n", APPROVAL_DOMAIN, decision, policyDigest, nonce, verdict).concat("\n").getBytes(StandardCharsets.UTF_8);
  }

  /** The signed answer POST /v1/approvals takes (exactly these six fields). */
  public record Submission(String decision, String policyDigest, String nonce, String approver, String verdict, String signature) {
    public ObjectNode toJson() {
      ObjectNode o = Jcs.MAPPER.createObjectNode();
      o.put("decision", decision).put("policyDigest", policyDigest).put("nonce", nonce).put("approver", approver).put("verdict", verdict).put("signature", signature);
      return o;
    }
  }

  /** Signs an answer to a challenge with an approver key (as helmctl approve does). */
  public static Submission sign(Governance.Challenge c, SigningKey key, String verdict) throws HelmException {
    byte[] msg = message(c.decision(), c.policyDigest(), c.nonce(), verdict);
    return new Submission(c.decision(), c.policyDigest(), c.nonce(), key.verifier().handle(), verdict, Base64.getEncoder().encodeToString(key.sign(msg)));
  }

  /** One pending escalation as GET /v1/approvals lists it. */
  public record Ceremony(Governance.Challenge challenge, String tool, String principal, List<JsonNode> approvals) {
    static Ceremony fromJson(JsonNode v) {
      List<JsonNode> a = new ArrayList<>();
      v.path("approvals").forEach(a::add);
      return new Ceremony(Governance.Challenge.fromJson(v), Governance.text(v, "tool"), Governance.text(v, "principal"), a);
    }
  }

  /** The admin API's answer to an accepted submission (an approval node was recorded). */
  public record Accepted(String receipt, long index, long approvals, long quorum, String allowedFrom) {}

  /** Talks to the sidecar's admin listener (no authentication: keep it on loopback). */
  public static final class AdminClient {
    private final String base;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    public AdminClient(String baseUrl) {
      this.base = baseUrl.replaceAll("/+$", "");
    }

    private JsonNode call(String method, String path, byte[] body) throws HelmException {
      HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30)).header("Accept", "application/json");
      if (body != null) b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofByteArray(body));
      else b.method(method, HttpRequest.BodyPublishers.noBody());
      HttpResponse<byte[]> r;
      try {
        r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
      } catch (java.io.IOException e) {
        throw new HelmException("ERR_ADMIN_UNREACHABLE", e.getMessage());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new HelmException("ERR_ADMIN_UNREACHABLE", "interrupted");
      }
      JsonNode v;
      try {
        v = Jcs.MAPPER.readTree(r.body());
      } catch (java.io.IOException e) {
        throw new HelmException("ERR_ADMIN_ANSWER", method + " " + path + " answered HTTP " + r.statusCode() + " that is not JSON");
      }
      if (r.statusCode() >= 300) {
        String code = Governance.text(v, "code");
        throw new HelmException(code != null ? code : "ERR_ADMIN_STATUS", Governance.text(v, "message") + " (HTTP " + r.statusCode() + ")");
      }
      return v;
    }

    /** Lists the open ceremonies (GET /v1/approvals). */
    public List<Ceremony> pending() throws HelmException {
      List<Ceremony> out = new ArrayList<>();
      call("GET", "/v1/approvals", null).path("pending").forEach(c -> out.add(Ceremony.fromJson(c)));
      return out;
    }

    /** One pending ceremony (ERR_APPROVAL_UNKNOWN_NONCE when there is none). */
    public Ceremony get(String nonce) throws HelmException {
      if (!nonce.matches("[A-Za-z0-9_-]+")) throw new HelmException("ERR_APPROVAL_MALFORMED", "nonce must be base64url");
      return Ceremony.fromJson(call("GET", "/v1/approvals/" + nonce, null));
    }

    /** Posts a signed answer; a refusal is a HelmException with the PEP's code (ERR_APPROVAL_*). */
    public Accepted submit(Submission s) throws HelmException {
      JsonNode v = call("POST", "/v1/approvals", s.toJson().toString().getBytes(StandardCharsets.UTF_8));
      return new Accepted(Governance.text(v, "receipt"), v.path("index").asLong(), v.path("approvals").asLong(), v.path("quorum").asLong(), Governance.text(v, "allowedFrom"));
    }
  }
}
