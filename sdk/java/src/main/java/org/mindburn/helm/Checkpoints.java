package org.mindburn.helm;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Checkpoints (c2sp.org/tlog-checkpoint) and offline inclusion proofs (c2sp.org/tlog-proof@v1). */
public final class Checkpoints {
  public static final String TLOG_PROOF_HEADER = "c2sp.org/tlog-proof@v1";
  static final long MAX_SAFE_INTEGER = (1L << 53) - 1;

  private Checkpoints() {}

  public record Checkpoint(String origin, long size, byte[] root, List<String> extensions) {}

  /** A checkpoint that satisfies a trust policy. */
  public record Verified(Checkpoint checkpoint, VerifierKey logKey, List<String> witnesses) {}

  public record TlogProof(long index, List<byte[]> proof, String checkpoint, byte[] extra) {}

  static boolean isDecimal(String s) {
    return s.matches("0|[1-9][0-9]{0,15}") && Long.parseLong(s) <= MAX_SAFE_INTEGER;
  }

  /** Parses "&lt;origin&gt;\n&lt;size&gt;\n&lt;base64 root&gt;\n[&lt;extension&gt;\n]...". */
  public static Checkpoint parseText(String text) throws HelmException {
    if (!text.endsWith("\n")) throw new HelmException("ERR_CHECKPOINT_MALFORMED", "checkpoint text must end in a newline");
    String[] l = text.substring(0, text.length() - 1).split("\n", -1);
    if (l.length < 3) throw new HelmException("ERR_CHECKPOINT_MALFORMED", "checkpoint text has " + l.length + " lines, needs at least 3");
    for (int i = 0; i < l.length; i++) if (l[i].isEmpty() && i != 1 && i != 2) throw new HelmException("ERR_CHECKPOINT_MALFORMED", "line " + (i + 1) + " is empty");
    if (!isDecimal(l[1])) throw new HelmException("ERR_CHECKPOINT_MALFORMED", "tree size " + l[1] + " is not a decimal in 0..2^53-1 without leading zeros");
    byte[] root;
    try {
      root = VerifierKey.strictBase64(l[2]);
    } catch (HelmException e) {
      root = new byte[0];
    }
    if (root.length != 32) throw new HelmException("ERR_CHECKPOINT_MALFORMED", "root hash is not 32 bytes of standard base64");
    return new Checkpoint(l[0], Long.parseLong(l[1]), root, List.of(l).subList(3, l.length));
  }

  /** Checks a checkpoint note against a policy (trust-policy.md §2.1). */
  public static Verified verify(String note, TrustPolicy p) throws HelmException {
    List<VerifierKey> known = new ArrayList<>(p.logs);
    known.addAll(p.witnesses.values());
    Notes.Opened o;
    try {
      o = Notes.open(note, known);
    } catch (HelmException e) {
      throw switch (e.code()) {
        case "ERR_NOTE_BAD_SIGNATURE" -> new HelmException("ERR_CHECKPOINT_BAD_SIGNATURE", e.getMessage());
        case "ERR_NOTE_UNVERIFIED" -> new HelmException("ERR_CHECKPOINT_UNTRUSTED", "checkpoint has no signature by a key of " + p.source);
        default -> new HelmException("ERR_CHECKPOINT_MALFORMED", e.getMessage());
      };
    }
    Checkpoint c = parseText(o.text());
    VerifierKey logKey = null;
    List<String> witnesses = new ArrayList<>();
    Set<String> cosigned = new HashSet<>();
    for (Notes.NoteSignature v : o.verified()) {
      if (v.key().alg() == VerifierKey.ALG_ED25519 && v.key().name().equals(c.origin())) logKey = v.key();
      if (v.key().alg() == VerifierKey.ALG_COSIGNATURE_V1) {
        p.witnesses.forEach((name, w) -> {
          if (w.handle().equals(v.key().handle())) {
            cosigned.add(name);
            witnesses.add(name);
          }
        });
      }
    }
    if (logKey == null) throw new HelmException("ERR_CHECKPOINT_UNTRUSTED", "checkpoint for " + c.origin() + " has no signature by a policy log key of that name");
    if (!p.satisfied(p.quorum, cosigned)) throw new HelmException("ERR_QUORUM_NOT_MET", "checkpoint " + c.origin() + "@" + c.size() + ": cosigned by " + witnesses + ", which does not satisfy quorum " + p.quorum + " of " + p.source);
    return new Verified(c, logKey, witnesses);
  }

  /** RFC 6962 leaf hash SHA-256(0x00 ‖ entry). */
  public static byte[] leafHash(byte[] entry) {
    return Hashes.sha256(new byte[] {0}, entry);
  }

  /** Checks an RFC 6962 audit path (RFC 9162 §2.1.3.2). */
  public static boolean verifyInclusion(long index, long size, byte[] leaf, List<byte[]> proof, byte[] root) {
    if (index < 0 || index >= size) return false;
    long fn = index, sn = size - 1;
    byte[] r = leaf;
    for (byte[] p : proof) {
      if (sn == 0) return false;
      if ((fn & 1) == 1 || fn == sn) {
        r = Hashes.sha256(new byte[] {1}, p, r);
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      } else r = Hashes.sha256(new byte[] {1}, r, p);
      fn >>= 1;
      sn >>= 1;
    }
    return sn == 0 && Arrays.equals(r, root);
  }

  /** Parses a proof strictly (ERR_TLOG_PROOF_MALFORMED). */
  public static TlogProof parseProof(String text) throws HelmException {
    String[] lines = text.split("\n", -1);
    int i = 0;
    if (!lines[i++].equals(TLOG_PROOF_HEADER)) throw new HelmException("ERR_TLOG_PROOF_MALFORMED", "first line must be " + TLOG_PROOF_HEADER);
    String line = i < lines.length ? lines[i++] : "";
    byte[] extra = null;
    if (line.startsWith("extra ")) {
      try {
        extra = VerifierKey.strictBase64(line.substring(6));
      } catch (HelmException e) {
        throw new HelmException("ERR_TLOG_PROOF_MALFORMED", "extra: not base64");
      }
      line = i < lines.length ? lines[i++] : "";
    }
    if (!line.startsWith("index ") || !isDecimal(line.substring(6))) throw new HelmException("ERR_TLOG_PROOF_MALFORMED", "expected \"index <decimal without leading zeros>\", got " + line);
    long index = Long.parseLong(line.substring(6));
    List<byte[]> proof = new ArrayList<>();
    while (true) {
      if (i >= lines.length) throw new HelmException("ERR_TLOG_PROOF_MALFORMED", "no empty line before the checkpoint");
      line = lines[i++];
      if (line.isEmpty()) break;
      if (proof.size() == 63) throw new HelmException("ERR_TLOG_PROOF_MALFORMED", "proof has more than 63 hashes");
      byte[] h;
      try {
        h = VerifierKey.strictBase64(line);
      } catch (HelmException e) {
        h = new byte[0];
      }
      if (h.length != 32) throw new HelmException("ERR_TLOG_PROOF_MALFORMED", "proof line " + (proof.size() + 1) + " is not a base64 SHA-256 hash");
      proof.add(h);
    }
    String checkpoint = String.join("\n", Arrays.copyOfRange(lines, i, lines.length));
    try {
      Notes.split(checkpoint);
    } catch (HelmException e) {
      throw new HelmException("ERR_TLOG_PROOF_MALFORMED", "checkpoint: " + e.getMessage());
    }
    return new TlogProof(index, proof, checkpoint, extra);
  }

  /** The verified checkpoint and the proved index. */
  public record Included(Verified checkpoint, long index) {}

  /** Verifies a proof for {@code entry}: checkpoint (§2.1), index below size (ERR_TLOG_PROOF_INDEX), audit path to the signed root (ERR_TLOG_PROOF_INCLUSION). */
  public static Included verifyProof(String text, byte[] entry, TrustPolicy p) throws HelmException {
    TlogProof proof = parseProof(text);
    Verified cp = verify(proof.checkpoint(), p);
    Checkpoint c = cp.checkpoint();
    if (proof.index() >= c.size()) throw new HelmException("ERR_TLOG_PROOF_INDEX", "index " + proof.index() + " is not below the checkpoint size " + c.size() + " of " + c.origin());
    if (!verifyInclusion(proof.index(), c.size(), leafHash(entry), proof.proof(), c.root())) throw new HelmException("ERR_TLOG_PROOF_INCLUSION", "entry is not included at index " + proof.index() + " of " + c.origin() + "@" + c.size());
    return new Included(cp, proof.index());
  }
}
