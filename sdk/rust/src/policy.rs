use crate::error::{err, Error};
use crate::keys::{parse_verifier_key, VerifierKey, ALG_COSIGNATURE_V1, ALG_ED25519};
use std::collections::{HashMap, HashSet};

/// A parsed trust policy (docs/spec/trust-policy.md): c2sp.org/tlog-policy plus root and exporter lines.
#[derive(Debug, Clone)]
pub struct TrustPolicy {
    pub source: String,
    pub logs: Vec<VerifierKey>,
    pub witnesses: HashMap<String, VerifierKey>,
    pub(crate) groups: HashMap<String, (usize, Vec<String>)>,
    pub quorum: String,
    pub root: Option<VerifierKey>,
    pub exporters: Vec<VerifierKey>,
}

impl TrustPolicy {
    /// Reads and parses a policy file.
    pub fn load(path: &str) -> Result<TrustPolicy, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| err!("ERR_POLICY_IO", "{}: {}", path, e))?;
        TrustPolicy::parse(&text, path)
    }

    /// Parses policy text; errors are ERR_POLICY_SYNTAX "<source>:<line>: what".
    pub fn parse(text: &str, source: &str) -> Result<TrustPolicy, Error> {
        let mut p = TrustPolicy { source: source.to_string(), logs: vec![], witnesses: HashMap::new(), groups: HashMap::new(), quorum: String::new(), root: None, exporters: vec![] };
        let mut names: HashSet<String> = ["none".to_string()].into_iter().collect();
        let mut used: HashSet<String> = HashSet::new();
        let mut seen: HashSet<(String, Vec<u8>)> = HashSet::new();
        let mut quorums = 0;
        for (i, line) in text.split('\n').enumerate() {
            let bad = |what: String| err!("ERR_POLICY_SYNTAX", "{}:{}: {}", source, i + 1, what);
            if let Some(c) = line.bytes().find(|c| (*c < 0x20 && *c != b'\t') || *c == 0x7f) {
                return Err(bad(format!("control character 0x{:02x} (CRLF files are refused)", c)));
            }
            let f: Vec<&str> = line.split(|c| c == ' ' || c == '\t').filter(|s| !s.is_empty()).collect();
            if f.is_empty() || f[0].starts_with('#') {
                continue;
            }
            let mut key = |s: &str, alg: u8, role: &str| -> Result<VerifierKey, Error> {
                let k = parse_verifier_key(s).map_err(|e| bad(format!("{} key: {}", role, e.message)))?;
                if k.alg != alg {
                    return Err(bad(format!("{} key {} must have type 0x{:02x}", role, k.handle(), alg)));
                }
                if role != "root" {
                    if !seen.insert((role.to_string(), k.public_key.clone())) {
                        return Err(bad(format!("duplicate {} key {}", role, k.handle())));
                    }
                    let other = match role { "log" => "witness", "witness" => "log", _ => "" };
                    if !other.is_empty() && seen.contains(&(other.to_string(), k.public_key.clone())) {
                        return Err(bad(format!("key {} is both a log key and a witness key", k.handle())));
                    }
                }
                Ok(k)
            };
            match f[0] {
                "log" if f.len() == 2 || f.len() == 3 => p.logs.push(key(f[1], ALG_ED25519, "log")?),
                "witness" if f.len() == 3 || f.len() == 4 => {
                    if names.contains(f[1]) {
                        return Err(bad(format!("name {} is already defined", f[1])));
                    }
                    let k = key(f[2], ALG_COSIGNATURE_V1, "witness")?;
                    names.insert(f[1].to_string());
                    p.witnesses.insert(f[1].to_string(), k);
                }
                "group" if f.len() >= 4 => {
                    if names.contains(f[1]) {
                        return Err(bad(format!("name {} is already defined", f[1])));
                    }
                    let members: Vec<String> = f[3..].iter().map(|s| s.to_string()).collect();
                    for m in &members {
                        if m == "none" || !names.contains(m) {
                            return Err(bad(format!("group member {} is not a witness or group defined above", m)));
                        }
                        if !used.insert(m.clone()) {
                            return Err(bad(format!("{} is a group member twice in this file", m)));
                        }
                    }
                    let k = match f[2] {
                        "all" => members.len(),
                        "any" => 1,
                        s => match s.parse::<usize>() {
                            Ok(v) if v.to_string() == s && v >= 1 && v <= members.len() => v,
                            _ => return Err(bad(format!("group threshold {} must be all, any or 1..{}", s, members.len()))),
                        },
                    };
                    names.insert(f[1].to_string());
                    p.groups.insert(f[1].to_string(), (k, members));
                }
                "quorum" if f.len() == 2 => {
                    if !names.contains(f[1]) {
                        return Err(bad(format!("quorum {} is not a witness or group defined above", f[1])));
                    }
                    quorums += 1;
                    p.quorum = f[1].to_string();
                }
                "root" if f.len() == 2 => {
                    if p.root.is_some() {
                        return Err(bad("at most one root line".to_string()));
                    }
                    p.root = Some(key(f[1], ALG_ED25519, "root")?);
                }
                "exporter" if f.len() == 2 => p.exporters.push(key(f[1], ALG_ED25519, "exporter")?),
                "log" | "witness" | "group" | "quorum" | "root" | "exporter" => return Err(bad(format!("wrong number of fields for {}", f[0]))),
                other => return Err(bad(format!("unknown keyword {:?}", other))),
            }
        }
        if quorums != 1 {
            return Err(err!("ERR_POLICY_SYNTAX", "{}: there must be exactly one quorum line, found {}", source, quorums));
        }
        Ok(p)
    }

    pub(crate) fn satisfied(&self, name: &str, cosigned: &HashSet<String>) -> bool {
        if name == "none" {
            return true;
        }
        if let Some((k, members)) = self.groups.get(name) {
            return members.iter().filter(|m| self.satisfied(m, cosigned)).count() >= *k;
        }
        cosigned.contains(name)
    }
}
