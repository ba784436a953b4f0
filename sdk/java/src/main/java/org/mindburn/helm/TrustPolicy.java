package org.mindburn.helm;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** A parsed trust policy (docs/spec/trust-policy.md): c2sp.org/tlog-policy plus root and exporter lines. */
public final class TrustPolicy {
  public final String source;
  public final List<VerifierKey> logs = new ArrayList<>();
  public final Map<String, VerifierKey> witnesses = new LinkedHashMap<>();
  final Map<String, Map.Entry<Integer, List<String>>> groups = new HashMap<>();
  public String quorum = "";
  public VerifierKey root;
  public final List<VerifierKey> exporters = new ArrayList<>();

  private TrustPolicy(String source) {
    this.source = source;
  }

  public static TrustPolicy load(Path path) throws HelmException {
    try {
      return parse(Files.readString(path, StandardCharsets.UTF_8), path.toString());
    } catch (java.io.IOException e) {
      throw new HelmException("ERR_POLICY_IO", path + ": " + e.getMessage());
    }
  }

  /** Parses policy text; errors are ERR_POLICY_SYNTAX "&lt;source&gt;:&lt;line&gt;: what". */
  public static TrustPolicy parse(String text, String source) throws HelmException {
    TrustPolicy p = new TrustPolicy(source);
    Set<String> names = new HashSet<>(List.of("none"));
    Set<String> used = new HashSet<>();
    Set<String> seen = new HashSet<>();
    int quorums = 0;
    String[] lines = text.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      final int n = i + 1;
      String line = lines[i];
      java.util.function.Function<String, HelmException> bad = what -> new HelmException("ERR_POLICY_SYNTAX", source + ":" + n + ": " + what);
      for (char c : line.toCharArray()) if ((c < 0x20 && c != '\t') || c == 0x7f) throw bad.apply(String.format("control character 0x%02x (CRLF files are refused)", (int) c));
      String[] f = Arrays.stream(line.split("[ \t]+")).filter(s -> !s.isEmpty()).toArray(String[]::new);
      if (f.length == 0 || f[0].startsWith("#")) continue;
      switch (f[0]) {
        case "log" -> {
          if (f.length != 2 && f.length != 3) throw bad.apply("log takes <vkey> [<url>]");
          p.logs.add(key(f[1], VerifierKey.ALG_ED25519, "log", seen, bad));
        }
        case "witness" -> {
          if (f.length != 3 && f.length != 4) throw bad.apply("witness takes <name> <vkey> [<url>]");
          if (names.contains(f[1])) throw bad.apply("name " + f[1] + " is already defined");
          p.witnesses.put(f[1], key(f[2], VerifierKey.ALG_COSIGNATURE_V1, "witness", seen, bad));
          names.add(f[1]);
        }
        case "group" -> {
          if (f.length < 4) throw bad.apply("group takes <name> all|any|<k> <member>...");
          if (names.contains(f[1])) throw bad.apply("name " + f[1] + " is already defined");
          List<String> members = List.of(f).subList(3, f.length);
          for (String m : members) {
            if (m.equals("none") || !names.contains(m)) throw bad.apply("group member " + m + " is not a witness or group defined above");
            if (!used.add(m)) throw bad.apply(m + " is a group member twice in this file");
          }
          int k;
          if (f[2].equals("all")) k = members.size();
          else if (f[2].equals("any")) k = 1;
          else if (f[2].matches("[1-9][0-9]{0,8}") && Integer.parseInt(f[2]) <= members.size()) k = Integer.parseInt(f[2]);
          else throw bad.apply("group threshold " + f[2] + " must be all, any or 1.." + members.size());
          names.add(f[1]);
          p.groups.put(f[1], Map.entry(k, members));
        }
        case "quorum" -> {
          if (f.length != 2) throw bad.apply("quorum takes <name>");
          if (!names.contains(f[1])) throw bad.apply("quorum " + f[1] + " is not a witness or group defined above");
          quorums++;
          p.quorum = f[1];
        }
        case "root" -> {
          if (f.length != 2) throw bad.apply("root takes <vkey>");
          if (p.root != null) throw bad.apply("at most one root line");
          p.root = key(f[1], VerifierKey.ALG_ED25519, "root", seen, bad);
        }
        case "exporter" -> {
          if (f.length != 2) throw bad.apply("exporter takes <vkey>");
          p.exporters.add(key(f[1], VerifierKey.ALG_ED25519, "exporter", seen, bad));
        }
        default -> throw bad.apply("unknown keyword \"" + f[0] + "\"");
      }
    }
    if (quorums != 1) throw new HelmException("ERR_POLICY_SYNTAX", source + ": there must be exactly one quorum line, found " + quorums);
    return p;
  }

  private static VerifierKey key(String s, int alg, String role, Set<String> seen, java.util.function.Function<String, HelmException> bad) throws HelmException {
    VerifierKey k;
    try {
      k = VerifierKey.parse(s);
    } catch (HelmException e) {
      throw bad.apply(role + " key: " + e.getMessage());
    }
    if (k.alg() != alg) throw bad.apply(role + " key " + k.handle() + " must have type 0x0" + alg);
    if (role.equals("root")) return k;
    String pk = java.util.HexFormat.of().formatHex(k.publicKey());
    if (!seen.add(role + pk)) throw bad.apply("duplicate " + role + " key " + k.handle());
    String other = role.equals("log") ? "witness" : role.equals("witness") ? "log" : null;
    if (other != null && seen.contains(other + pk)) throw bad.apply("key " + k.handle() + " is both a log key and a witness key");
    return k;
  }

  boolean satisfied(String name, Set<String> cosigned) {
    if (name.equals("none")) return true;
    Map.Entry<Integer, List<String>> g = groups.get(name);
    if (g != null) return g.getValue().stream().filter(m -> satisfied(m, cosigned)).count() >= g.getKey();
    return cosigned.contains(name);
  }

  TrustPolicy withLogs(List<VerifierKey> more) {
    TrustPolicy c = new TrustPolicy(source);
    c.logs.addAll(logs);
    c.logs.addAll(more);
    c.witnesses.putAll(witnesses);
    c.groups.putAll(groups);
    c.quorum = quorum;
    c.root = root;
    c.exporters.addAll(exporters);
    return c;
  }
}
