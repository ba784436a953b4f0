use crate::error::{err, Error};
use crate::keys::{key_id, strict_base64, valid_key_name, VerifierKey, ALG_COSIGNATURE_V1, ALG_ED25519};

/// One verified signature of a signed note.
#[derive(Debug, Clone)]
pub struct NoteSignature {
    pub key: VerifierKey,
    /// cosignature/v1 only.
    pub timestamp: u64,
}

fn split_note(note: &str) -> Result<(String, Vec<(String, Vec<u8>)>), Error> {
    if note.chars().any(|c| ((c as u32) < 0x20 && c != '\n') || c == '\u{7f}') {
        return Err(err!("ERR_NOTE_MALFORMED", "note contains a control character"));
    }
    let i = note.rfind("\n\n").filter(|i| note.ends_with('\n') && i + 2 < note.len()).ok_or_else(|| err!("ERR_NOTE_MALFORMED", "note has no signature block"))?;
    let text = note[..i + 1].to_string();
    let mut sigs = Vec::new();
    for line in note[i + 2..note.len() - 1].split('\n') {
        let rest = line.strip_prefix("\u{2014} ").ok_or_else(|| err!("ERR_NOTE_MALFORMED", "signature line {:?} does not start with an em dash and a space", line))?;
        let f: Vec<&str> = rest.split(' ').collect();
        if f.len() != 2 || !valid_key_name(f[0]) {
            return Err(err!("ERR_NOTE_MALFORMED", "signature line {:?} is not \"— name signature\"", line));
        }
        let sig = strict_base64(f[1]).ok().filter(|s| s.len() >= 5).ok_or_else(|| err!("ERR_NOTE_MALFORMED", "signature on line {:?} is not base64 of key id ‖ signature", line))?;
        sigs.push((f[0].to_string(), sig));
    }
    Ok((text, sigs))
}

pub(crate) fn check_note_syntax(note: &str) -> Result<(), Error> {
    split_note(note).map(|_| ())
}

/// Verifies a C2SP signed note against known keys. Unknown signers are ignored; a signature by a
/// known key that does not verify is ERR_NOTE_BAD_SIGNATURE; none verified is ERR_NOTE_UNVERIFIED.
pub fn open_note(note: &str, known: &[VerifierKey]) -> Result<(String, Vec<NoteSignature>), Error> {
    let (text, sigs) = split_note(note)?;
    let mut verified = Vec::new();
    for (name, sig) in sigs {
        let id = crate::hex(&sig[..4]);
        for k in known.iter().filter(|k| k.name == name && key_id(&k.name, k.alg, &k.public_key) == id) {
            let (ok, ts) = match k.alg {
                ALG_ED25519 => (sig.len() == 68 && k.verify(text.as_bytes(), &sig[4..]), 0),
                ALG_COSIGNATURE_V1 if sig.len() == 76 => {
                    let mut b = [0u8; 8];
                    b.copy_from_slice(&sig[4..12]);
                    let ts = u64::from_be_bytes(b);
                    let msg = format!("cosignature/v1\ntime {}\n{}", ts, text);
                    (k.verify(msg.as_bytes(), &sig[12..]), ts)
                }
                _ => (false, 0),
            };
            if !ok {
                return Err(err!("ERR_NOTE_BAD_SIGNATURE", "signature by {} does not verify: the note was altered", k.handle()));
            }
            verified.push(NoteSignature { key: k.clone(), timestamp: ts });
        }
    }
    if verified.is_empty() {
        return Err(err!("ERR_NOTE_UNVERIFIED", "no signature by a known key"));
    }
    Ok((text, verified))
}
