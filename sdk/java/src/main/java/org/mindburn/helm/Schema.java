package org.mindburn.helm;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * The subset of JSON Schema 2020-12 the receipt schemas use, over bundled copies of docs/spec/schemas
 * (resources org/mindburn/helm/schemas; a test compares them byte for byte), so statements are checked
 * against the same schemas the TypeScript verifier compiles: string lengths in code points, patterns
 * with ECMAScript's {@code $} and {@code \s}, body fields and their types, not only the required ones.
 */
final class Schema {
  static final List<String> FILES = List.of("approval.v1.json", "decision.v1.json", "effect.v1.json", "gap.v1.json", "heartbeat.v1.json", "intent.v1.json", "result.v1.json", "trust.v1.json", "trust-event.v1.json", "dsse-envelope.json");
  private static final Map<String, JsonNode> BY_FILE = new HashMap<>();
  private static final Map<String, JsonNode> BY_ID = new HashMap<>();
  private static final Map<String, Pattern> PATTERNS = new ConcurrentHashMap<>();
  /** ECMAScript's \s (WhiteSpace and LineTerminator), as members of a character class. */
  private static final String ES_SPACE = "\\t\\n\\x0B\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff";

  static {
    for (String f : FILES) {
      try (InputStream in = Schema.class.getResourceAsStream("schemas/" + f)) {
        JsonNode s = Jcs.MAPPER.readTree(in.readAllBytes());
        BY_FILE.put(f, s);
        if (s.has("$id")) BY_ID.put(s.get("$id").textValue(), s);
      } catch (IOException e) {
        throw new UncheckedIOException("bundled schema " + f, e);
      }
    }
  }

  private Schema() {}

  static byte[] bundled(String file) throws IOException {
    try (InputStream in = Schema.class.getResourceAsStream("schemas/" + file)) {
      return in.readAllBytes();
    }
  }

  /** The first reason a statement of this kind fails its schema, or null. */
  static String statementProblem(String kind, JsonNode st) {
    return problem(kind + ".v1.json", st);
  }

  /** The first reason a value fails the bundled schema of this file name, or null. */
  static String problem(String file, JsonNode v) {
    JsonNode s = BY_FILE.get(file);
    return s == null ? "has no schema " + file : problem(s, v, s, "");
  }

  /** An ECMAScript (u flag) pattern as a Java one: `$` only at the very end, `\s` as ECMAScript's. */
  static Pattern pattern(String p) {
    return PATTERNS.computeIfAbsent(p, Schema::javaPattern);
  }

  private static Pattern javaPattern(String p) {
    StringBuilder b = new StringBuilder();
    boolean inClass = false;
    for (int i = 0; i < p.length(); i++) {
      char c = p.charAt(i);
      if (c == '\\' && i + 1 < p.length()) {
        char n = p.charAt(++i);
        b.append(n != 's' ? "\\" + n : inClass ? ES_SPACE : "[" + ES_SPACE + "]");
      } else if (c == '$' && !inClass) {
        b.append("\\z"); // Java's $ also matches before a final line terminator (U+2028 included)
      } else {
        if ((c == '[' && !inClass) || (c == ']' && inClass)) inClass = !inClass;
        b.append(c);
      }
    }
    return Pattern.compile(b.toString());
  }

  private static boolean typeOk(String t, JsonNode v) {
    return switch (t) {
      case "object" -> v.isObject();
      case "array" -> v.isArray();
      case "string" -> v.isTextual();
      case "boolean" -> v.isBoolean();
      case "null" -> v.isNull();
      case "number" -> v.isNumber();
      case "integer" -> v.isIntegralNumber() || (v.isNumber() && v.decimalValue().stripTrailingZeros().scale() <= 0);
      default -> false;
    };
  }

  private static boolean same(JsonNode a, JsonNode b) {
    try {
      return Arrays.equals(Jcs.canonicalize(a), Jcs.canonicalize(b));
    } catch (HelmException e) {
      return false;
    }
  }

  private static boolean below(JsonNode s, String k, double n) {
    return s.has(k) && n < s.get(k).doubleValue();
  }

  private static boolean above(JsonNode s, String k, double n) {
    return s.has(k) && n > s.get(k).doubleValue();
  }

  private static String problem(JsonNode s, JsonNode v, JsonNode root, String path) {
    String at = path.isEmpty() ? "/" : path;
    if (s.has("$ref")) {
      String ref = s.get("$ref").textValue();
      String p;
      if (ref.startsWith("#/$defs/")) p = problem(root.get("$defs").get(ref.substring(8)), v, root, path);
      else if (BY_ID.containsKey(ref)) p = problem(BY_ID.get(ref), v, BY_ID.get(ref), path);
      else p = at + " refers to an unknown schema " + ref;
      if (p != null) return p;
    }
    if (s.has("type")) {
      JsonNode t = s.get("type");
      boolean ok = false;
      if (t.isTextual()) ok = typeOk(t.textValue(), v);
      else for (JsonNode x : t) ok |= typeOk(x.textValue(), v);
      if (!ok) return at + " must be " + t;
    }
    if (s.has("const") && !same(s.get("const"), v)) return at + " must be " + s.get("const");
    if (s.has("enum")) {
      boolean ok = false;
      for (JsonNode x : s.get("enum")) ok |= same(x, v);
      if (!ok) return at + " must be one of " + s.get("enum");
    }
    if (v.isTextual()) {
      String text = v.textValue();
      int n = text.codePointCount(0, text.length()); // code points, as ajv counts
      if (below(s, "minLength", n)) return at + " is shorter than " + s.get("minLength");
      if (above(s, "maxLength", n)) return at + " is longer than " + s.get("maxLength");
      if (s.has("pattern") && !pattern(s.get("pattern").textValue()).matcher(text).find()) return at + " does not match " + s.get("pattern").textValue();
    }
    if (v.isNumber()) {
      if (below(s, "minimum", v.doubleValue())) return at + " is below " + s.get("minimum");
      if (above(s, "maximum", v.doubleValue())) return at + " is above " + s.get("maximum");
    }
    if (v.isArray()) {
      if (below(s, "minItems", v.size())) return at + " has fewer than " + s.get("minItems") + " items";
      if (above(s, "maxItems", v.size())) return at + " has more than " + s.get("maxItems") + " items";
      if (s.path("items").isObject()) {
        for (int i = 0; i < v.size(); i++) {
          String p = problem(s.get("items"), v.get(i), root, path + "/" + i);
          if (p != null) return p;
        }
      }
    }
    if (v.isObject()) {
      for (JsonNode r : s.path("required")) if (!v.has(r.textValue())) return at + " must have property " + r.textValue();
      JsonNode props = s.path("properties");
      JsonNode ap = s.get("additionalProperties");
      for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        String sub = path + "/" + e.getKey();
        String p = null;
        if (props.has(e.getKey())) p = problem(props.get(e.getKey()), e.getValue(), root, sub);
        else if (ap != null && ap.isBoolean() && !ap.booleanValue()) p = at + " must not have property \"" + e.getKey() + "\"";
        else if (ap != null && ap.isObject()) p = problem(ap, e.getValue(), root, sub);
        if (p != null) return p;
      }
    }
    if (s.has("anyOf")) {
      boolean ok = false;
      for (JsonNode x : s.get("anyOf")) ok |= problem(x, v, root, path) == null;
      if (!ok) return at + " matches none of anyOf";
    }
    if (s.has("oneOf")) {
      int n = 0;
      for (JsonNode x : s.get("oneOf")) if (problem(x, v, root, path) == null) n++;
      if (n != 1) return at + " must match exactly one of oneOf";
    }
    return null;
  }
}
