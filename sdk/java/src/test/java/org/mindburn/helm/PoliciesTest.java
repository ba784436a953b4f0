package org.mindburn.helm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mindburn.helm.Support.code;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The trust policy vectors test/sdk/vectors/policies.json (from the TypeScript parser): each text accepted or refused ERR_POLICY_SYNTAX exactly as there. */
class PoliciesTest {
  @Test
  void policyVectors() throws Exception {
    JsonNode vs = Jcs.MAPPER.readTree(Files.readAllBytes(Path.of("../../test/sdk/vectors/policies.json")));
    assertTrue(vs.size() >= 20);
    for (JsonNode v : vs) {
      String got = code(() -> TrustPolicy.parse(v.get("text").textValue(), "p"));
      assertEquals(v.get("expect").textValue(), got.equals("OK") ? "accepted" : got, v.get("why").textValue());
    }
  }
}
