package org.mindburn.helm;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/** C2SP signed notes. */
public final class Notes {
  private Notes() {}

  /** One verified signature; {@code timestamp} for cosignature/v1 only. */
  public record NoteSignature(VerifierKey key, long timestamp) {}

  /** The verified text and signatures of a note. */
  public record Opened(String text, List<NoteSignature> verified) {}

  record Line(String name, byte[] sig) {}

  record Split(String text, List<Line> lines) {}

  static Split split(String note) throws HelmException {
    if (note.chars().anyMatch(c -> (c < 0x20 && c != '\n') || c == 0x7f)) throw new HelmException("ERR_NOTE_MALFORMED", "note contains a control character");
    int i = note.lastIndexOf("\n\n");
    if (i < 0 || !note.endsWith("\n") || i + 2 >= note.length()) throw new HelmException("ERR_NOTE_MALFORMED", "note has no signature block");
    List<Line> lines = new ArrayList<>();
    for (String l : note.substring(i + 2, note.length() - 1).split("\n", -1)) {
      if (!l.startsWith("\u2014 ")) throw new HelmException("ERR_NOTE_MALFORMED", "signature line " + l + " does not start with an em dash and a space");
      String[] f = l.substring(2).split(" ", -1);
      if (f.length != 2 || !VerifierKey.validName(f[0])) throw new HelmException("ERR_NOTE_MALFORMED", "signature line " + l + " is not \"— name signature\"");
      byte[] sig;
      try {
        sig = VerifierKey.strictBase64(f[1]);
      } catch (HelmException e) {
        sig = new byte[0];
      }
      if (sig.length < 5) throw new HelmException("ERR_NOTE_MALFORMED", "signature on line " + l + " is not base64 of key id ‖ signature");
      lines.add(new Line(f[0], sig));
    }
    return new Split(note.substring(0, i + 1), lines);
  }

  /** Verifies a note against known keys: unknown signers are ignored, a known key's bad signature is ERR_NOTE_BAD_SIGNATURE, none verified is ERR_NOTE_UNVERIFIED. */
  public static Opened open(String note, List<VerifierKey> known) throws HelmException {
    Split s = split(note);
    byte[] text = s.text().getBytes(StandardCharsets.UTF_8);
    List<NoteSignature> verified = new ArrayList<>();
    for (Line l : s.lines()) {
      String id = HexFormat.of().formatHex(Arrays.copyOf(l.sig(), 4));
      for (VerifierKey k : known) {
        if (!k.name().equals(l.name()) || !VerifierKey.keyId(k.name(), k.alg(), k.publicKey()).equals(id)) continue;
        boolean ok = false;
        long ts = 0;
        if (k.alg() == VerifierKey.ALG_ED25519) ok = l.sig().length == 68 && k.verify(text, Arrays.copyOfRange(l.sig(), 4, 68));
        else if (k.alg() == VerifierKey.ALG_COSIGNATURE_V1 && l.sig().length == 76) {
          ts = ByteBuffer.wrap(l.sig(), 4, 8).getLong();
          byte[] msg = ("cosignature/v1\ntime " + Long.toUnsignedString(ts) + "\n" + s.text()).getBytes(StandardCharsets.UTF_8);
          ok = k.verify(msg, Arrays.copyOfRange(l.sig(), 12, 76));
        }
        if (!ok) throw new HelmException("ERR_NOTE_BAD_SIGNATURE", "signature by " + k.handle() + " does not verify: the note was altered");
        verified.add(new NoteSignature(k, ts));
      }
    }
    if (verified.isEmpty()) throw new HelmException("ERR_NOTE_UNVERIFIED", "no signature by a known key");
    return new Opened(s.text(), verified);
  }
}
