use crate::error::{err, Error};
use serde_json::Value;

/// Parses one JSON text (UTF-8 checked). One leading byte order mark is dropped, as the TypeScript
/// verifier's UTF-8 decoder does: an entry or payload that starts with one then fails the
/// canonical-form check (ERR_NOT_CANONICAL), not the parse.
pub fn parse_json(data: &[u8]) -> Result<Value, Error> {
    let text = std::str::from_utf8(data).map_err(|_| err!("ERR_NOT_UTF8", "JSON text is not valid UTF-8"))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    serde_json::from_str(text).map_err(|e| err!("ERR_NOT_JSON", "{}", e))
}

/// RFC 8785 (JCS) form of a value.
pub fn canonicalize(v: &Value) -> Result<Vec<u8>, Error> {
    let mut out = String::new();
    write_jcs(&mut out, v)?;
    Ok(out.into_bytes())
}

/// Parses a JSON text and returns its JCS form.
pub fn canonicalize_json(data: &[u8]) -> Result<Vec<u8>, Error> {
    canonicalize(&parse_json(data)?)
}

fn write_jcs(out: &mut String, v: &Value) -> Result<(), Error> {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            let f = n.as_f64().ok_or_else(|| err!("ERR_NOT_JSON", "number {} is not a double", n))?;
            if !f.is_finite() {
                return Err(err!("ERR_NOT_JSON", "number {} is not finite", n));
            }
            out.push_str(&format_es6(f));
        }
        Value::String(s) => write_string(out, s),
        Value::Array(a) => {
            out.push('[');
            for (i, e) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_jcs(out, e)?;
            }
            out.push(']');
        }
        Value::Object(o) => {
            // JCS orders keys by UTF-16 code units.
            let mut keys: Vec<&String> = o.keys().collect();
            keys.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, k);
                out.push(':');
                write_jcs(out, &o[*k])?;
            }
            out.push('}');
        }
    }
    Ok(())
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A double as ECMAScript's Number.prototype.toString formats it (RFC 8785 §3.2.2.3).
pub fn format_es6(f: f64) -> String {
    if f == 0.0 {
        return "0".to_string();
    }
    let (sign, f) = if f < 0.0 { ("-", -f) } else { ("", f) };
    let e = format!("{:e}", f); // shortest round-trip digits: d.ddde<exp>
    let (mant, exp) = e.split_at(e.find('e').unwrap());
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    let exp: i32 = exp[1..].parse().unwrap();
    let k = digits.len() as i32;
    let n = exp + 1;
    if k <= n && n <= 21 {
        format!("{}{}{}", sign, digits, "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        format!("{}{}.{}", sign, &digits[..n as usize], &digits[n as usize..])
    } else if -6 < n && n <= 0 {
        format!("{}0.{}{}", sign, "0".repeat((-n) as usize), digits)
    } else {
        let m = if k > 1 { format!("{}.{}", &digits[..1], &digits[1..]) } else { digits.clone() };
        format!("{}{}e{}{}", sign, m, if n - 1 < 0 { "-" } else { "+" }, (n - 1).abs())
    }
}
