package org.mindburn.helm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.DeserializationFeature;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/** JSON parsing and RFC 8785 canonicalization (JCS). */
public final class Jcs {
  static final ObjectMapper MAPPER = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  private Jcs() {}

  /** Parses one JSON text (UTF-8 checked; a duplicate key keeps the last value, so the text is not canonical). */
  public static JsonNode parse(byte[] data) throws HelmException {
    try {
      StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(data));
    } catch (CharacterCodingException e) {
      throw new HelmException("ERR_NOT_UTF8", "JSON text is not valid UTF-8");
    }
    try {
      JsonNode n = MAPPER.readTree(data);
      if (n == null || n.isMissingNode()) throw new HelmException("ERR_NOT_JSON", "empty JSON text");
      return n;
    } catch (java.io.IOException e) {
      throw new HelmException("ERR_NOT_JSON", e.getMessage());
    }
  }

  /** The JCS form of a value. */
  public static byte[] canonicalize(JsonNode v) throws HelmException {
    StringBuilder b = new StringBuilder();
    write(b, v);
    return b.toString().getBytes(StandardCharsets.UTF_8);
  }

  /** Parses a JSON text and returns its JCS form. */
  public static byte[] canonicalize(byte[] json) throws HelmException {
    return canonicalize(parse(json));
  }

  private static void write(StringBuilder b, JsonNode v) throws HelmException {
    if (v.isNull()) b.append("null");
    else if (v.isBoolean()) b.append(v.booleanValue() ? "true" : "false");
    else if (v.isNumber()) {
      double d = v.doubleValue();
      if (!Double.isFinite(d)) throw new HelmException("ERR_NOT_JSON", "number " + v + " is not finite");
      b.append(formatEs6(d));
    } else if (v.isTextual()) writeString(b, v.textValue());
    else if (v.isArray()) {
      b.append('[');
      for (int i = 0; i < v.size(); i++) {
        if (i > 0) b.append(',');
        write(b, v.get(i));
      }
      b.append(']');
    } else if (v.isObject()) {
      // Java strings are UTF-16, so natural order is JCS's order.
      List<String> keys = new ArrayList<>();
      for (Iterator<String> it = v.fieldNames(); it.hasNext(); ) keys.add(it.next());
      keys.sort(String::compareTo);
      b.append('{');
      for (int i = 0; i < keys.size(); i++) {
        if (i > 0) b.append(',');
        writeString(b, keys.get(i));
        b.append(':');
        write(b, v.get(keys.get(i)));
      }
      b.append('}');
    } else throw new HelmException("ERR_NOT_JSON", "cannot canonicalize " + v.getNodeType());
  }

  private static void writeString(StringBuilder b, String s) {
    b.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\b' -> b.append("\\b");
        case '\f' -> b.append("\\f");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
          else b.append(c);
        }
      }
    }
    b.append('"');
  }

  /** A double as ECMAScript's Number.prototype.toString formats it (RFC 8785 §3.2.2.3). */
  public static String formatEs6(double d) {
    if (d == 0) return "0";
    String sign = d < 0 ? "-" : "";
    d = Math.abs(d);
    // Shortest correctly rounded digits that read back as the same double.
    String digits = null;
    int exp = 0;
    for (int p = 1; p <= 17; p++) {
      BigDecimal r = new BigDecimal(d).round(new java.math.MathContext(p, java.math.RoundingMode.HALF_EVEN));
      if (r.doubleValue() == d) {
        BigDecimal u = r.stripTrailingZeros();
        digits = u.unscaledValue().toString();
        exp = digits.length() - 1 - u.scale();
        break;
      }
    }
    int k = digits.length(), n = exp + 1;
    if (k <= n && n <= 21) return sign + digits + "0".repeat(n - k);
    if (0 < n && n <= 21) return sign + digits.substring(0, n) + "." + digits.substring(n);
    if (-6 < n && n <= 0) return sign + "0." + "0".repeat(-n) + digits;
    String m = k > 1 ? digits.charAt(0) + "." + digits.substring(1) : digits;
    return sign + m + "e" + (n - 1 < 0 ? "-" : "+") + Math.abs(n - 1);
  }

  static Map.Entry<String, JsonNode> only(JsonNode o) {
    return o.fields().next();
  }
}
