//! Genesis: the chain's single source of truth for its suite, members and limits. Stored as
//! JSON; its hash is the suite hash of its canonical serialisation (fields in declaration order).

use std::collections::BTreeMap;

use cairn_crypto::{Hash, PublicKey, Suite};
use cairn_note::NoteVerifier;
use serde::{Deserialize, Serialize};

use crate::hexfmt;

#[derive(Debug, thiserror::Error)]
pub enum GenesisError {
    #[error("invalid genesis: {0}")]
    Invalid(String),
    #[error("genesis is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Organisation {
    pub id: String,
    pub name: String,
    /// Public keys (hex) allowed to submit transactions on the organisation's behalf.
    pub members: Vec<String>,
    /// Roles of members (key hex → roles such as `evidence.depositor`). A member listed here
    /// may call only the methods whose role it has; a member not listed keeps every right
    /// (chains made before roles existed). Governance will change roles by vote.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub roles: std::collections::BTreeMap<String, Vec<String>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidatorInfo {
    pub name: String,
    pub organisation: String,
    /// Checkpoint-signing key (hex), in the chain's suite.
    pub public_key: String,
    /// HTTP API address clients may use (informational).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Ed25519 consensus key (hex): the p2p identity (Commonware's authenticated network
    /// handshakes with it), and the vote key unless `vote_key` is set. Required with more than
    /// one validator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consensus_key: Option<String>,
    /// p2p address (`host:port`) the other validators dial.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p2p_address: Option<String>,
    /// SM2 vote key (hex, SEC1 uncompressed), `sm2-sm3` chains only: the validator votes and
    /// certifies with it, so finalization certificates are SM2. Every validator has one or none
    /// does (none: votes are Ed25519, as on chains made before SM2 votes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vote_key: Option<String>,
}

impl ValidatorInfo {
    /// The consensus key as bytes (validated genesis: present and 32 bytes when consensus runs).
    pub fn consensus_key_bytes(&self) -> Option<[u8; 32]> {
        let bytes = hex::decode(self.consensus_key.as_deref()?).ok()?;
        bytes.try_into().ok()
    }
}

/// Consensus-critical limits: the core's, and each module's own (`modules`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "RawParams")]
pub struct Params {
    pub block_interval_ms: u64,
    pub max_block_txs: u32,
    pub max_block_bytes: u64,
    pub max_tx_bytes: u32,
    /// The evidence module's, from before modules had their own parameters: kept where chains
    /// made then name it (their genesis hash covers it), absent in genesis files that have
    /// `modules` (evidence's is then `modules.evidence.max_records_per_tx`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_records_per_tx: Option<u32>,
    pub max_tx_ttl_ms: u64,
    /// The evidence module's digest state switch, from the same time and kept for the same
    /// reason (now `modules.evidence.digest_state`); written only when on.
    #[serde(skip_serializing_if = "is_false")]
    pub evidence_digest_state: bool,
    /// Each module's own parameters: module name → a JSON object the module reads and checks
    /// when the node starts (an unknown module or member stops it with the reason).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub modules: BTreeMap<String, serde_json::Map<String, serde_json::Value>>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Legacy default of `max_records_per_tx`, written out for genesis files without `modules`
/// (as every release before module parameters did, so their hashes stay).
const LEGACY_MAX_RECORDS_PER_TX: u32 = 10_000;

impl Default for Params {
    fn default() -> Self {
        Params {
            block_interval_ms: 200,
            max_block_txs: 20_000,
            max_block_bytes: 64 << 20,
            max_tx_bytes: 4 << 20,
            max_records_per_tx: Some(LEGACY_MAX_RECORDS_PER_TX),
            max_tx_ttl_ms: 3_600_000,
            evidence_digest_state: false,
            modules: BTreeMap::new(),
        }
    }
}

impl Params {
    /// Parameters of a chain made today: no legacy members, `modules` as given (without any,
    /// the legacy default stays, as a genesis without `modules` reads back with it).
    pub fn with_modules(modules: BTreeMap<String, serde_json::Map<String, serde_json::Value>>) -> Self {
        let max_records_per_tx = modules.is_empty().then_some(LEGACY_MAX_RECORDS_PER_TX);
        Params { max_records_per_tx, modules, ..Params::default() }
    }

    /// A module's own parameters, if genesis names any.
    pub fn module(&self, name: &str) -> Option<&serde_json::Map<String, serde_json::Value>> {
        self.modules.get(name)
    }
}

/// Params as written: members left out take their defaults, and `max_records_per_tx` its
/// legacy default only in a genesis without `modules` (see [`Params::max_records_per_tx`]).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParams {
    block_interval_ms: Option<u64>,
    max_block_txs: Option<u32>,
    max_block_bytes: Option<u64>,
    max_tx_bytes: Option<u32>,
    max_records_per_tx: Option<u32>,
    max_tx_ttl_ms: Option<u64>,
    #[serde(default)]
    evidence_digest_state: bool,
    #[serde(default)]
    modules: BTreeMap<String, serde_json::Map<String, serde_json::Value>>,
}

impl From<RawParams> for Params {
    fn from(r: RawParams) -> Self {
        let d = Params::default();
        let legacy = r.modules.is_empty();
        Params {
            block_interval_ms: r.block_interval_ms.unwrap_or(d.block_interval_ms),
            max_block_txs: r.max_block_txs.unwrap_or(d.max_block_txs),
            max_block_bytes: r.max_block_bytes.unwrap_or(d.max_block_bytes),
            max_tx_bytes: r.max_tx_bytes.unwrap_or(d.max_tx_bytes),
            max_records_per_tx: r.max_records_per_tx.or(legacy.then_some(LEGACY_MAX_RECORDS_PER_TX)),
            max_tx_ttl_ms: r.max_tx_ttl_ms.unwrap_or(d.max_tx_ttl_ms),
            evidence_digest_state: r.evidence_digest_state,
            modules: r.modules,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Genesis {
    pub chain_id: String,
    pub suite: Suite,
    pub genesis_time_ms: u64,
    pub organisations: Vec<Organisation>,
    pub validators: Vec<ValidatorInfo>,
    #[serde(default)]
    pub params: Params,
}

fn valid_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.' || b == b'_')
}

/// `<module>.<role>`, both parts valid names.
fn valid_role(r: &str) -> bool {
    r.split_once('.').is_some_and(|(m, role)| valid_name(m) && valid_name(role))
}

impl Genesis {
    pub fn from_json(bytes: &[u8]) -> Result<Self, GenesisError> {
        let g: Genesis = serde_json::from_slice(bytes)?;
        g.validate()?;
        Ok(g)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("genesis serialises")
    }

    pub fn hash(&self) -> Hash {
        self.suite.hash(&serde_json::to_vec(self).expect("genesis serialises"))
    }

    /// The checkpoint origin line: `cairn/<chain id>`.
    pub fn origin(&self) -> String {
        format!("cairn/{}", self.chain_id)
    }

    /// Note key name of a validator: `cairn/<chain id>/<validator name>`.
    pub fn key_name(&self, validator: &str) -> String {
        format!("cairn/{}/{}", self.chain_id, validator)
    }

    /// Signatures a checkpoint needs: 2f+1 of n = 3f+1 validators (1 for a single node).
    pub fn quorum(&self) -> usize {
        quorum(self.validators.len())
    }

    pub fn validate(&self) -> Result<(), GenesisError> {
        let bad = |m: String| Err(GenesisError::Invalid(m));
        if !valid_name(&self.chain_id) {
            return bad(format!("chain_id {:?} must be 1-64 of [a-z0-9._-]", self.chain_id));
        }
        if self.validators.is_empty() {
            return bad("at least one validator is required".into());
        }
        let mut orgs = std::collections::BTreeSet::new();
        let mut members = std::collections::BTreeSet::new();
        for o in &self.organisations {
            if !valid_name(&o.id) {
                return bad(format!("organisation id {:?} must be 1-64 of [a-z0-9._-]", o.id));
            }
            if !orgs.insert(o.id.as_str()) {
                return bad(format!("organisation {:?} appears twice", o.id));
            }
            for m in &o.members {
                PublicKey::from_hex(self.suite, m).map_err(|e| GenesisError::Invalid(format!("member key {m} of {}: {e}", o.id)))?;
                if !members.insert(m.as_str()) {
                    return bad(format!("member key {m} belongs to two organisations"));
                }
            }
            for (m, roles) in &o.roles {
                if !o.members.contains(m) {
                    return bad(format!("organisation {} gives roles to {m}, which is not one of its members", o.id));
                }
                if let Some(r) = roles.iter().find(|r| !valid_role(r)) {
                    return bad(format!("role {r:?} of {m} must be <module>.<role>, each 1-64 of [a-z0-9._-]"));
                }
            }
        }
        let mut names = std::collections::BTreeSet::new();
        let mut keys = std::collections::BTreeSet::new();
        for v in &self.validators {
            if !valid_name(&v.name) || !names.insert(v.name.as_str()) {
                return bad(format!("validator name {:?} is invalid or repeated", v.name));
            }
            // One key, one vote: a shared key would let one signer count as two.
            if !keys.insert(v.public_key.to_ascii_lowercase()) {
                return bad(format!("validator {}: public_key repeats another validator's", v.name));
            }
            if !orgs.contains(v.organisation.as_str()) {
                return bad(format!("validator {} names unknown organisation {:?}", v.name, v.organisation));
            }
            PublicKey::from_hex(self.suite, &v.public_key).map_err(|e| GenesisError::Invalid(format!("validator {} key: {e}", v.name)))?;
        }
        // Consensus: all validators take part (with a key and a p2p address) or none does.
        let with_consensus = self.validators.iter().filter(|v| v.consensus_key.is_some()).count();
        if self.validators.len() > 1 && with_consensus != self.validators.len() {
            return bad("with more than one validator, every validator needs consensus_key and p2p_address".into());
        }
        if with_consensus > 0 {
            let mut keys = std::collections::BTreeSet::new();
            for v in &self.validators {
                let Some(key) = v.consensus_key_bytes() else {
                    return bad(format!("validator {}: consensus_key must be 32 bytes of hex (Ed25519)", v.name));
                };
                cairn_crypto::PublicKey::from_bytes(cairn_crypto::Suite::Ed25519Sha256, &key)
                    .map_err(|e| GenesisError::Invalid(format!("validator {} consensus_key: {e}", v.name)))?;
                if !keys.insert(key) {
                    return bad(format!("validator {}: consensus_key repeats another validator's", v.name));
                }
                match v.p2p_address.as_deref().map(str::parse::<std::net::SocketAddr>) {
                    Some(Ok(_)) => {}
                    _ => return bad(format!("validator {}: p2p_address must be an ip:port", v.name)),
                }
            }
        }
        self.validate_vote_keys()?;
        let p = &self.params;
        if p.block_interval_ms == 0 || p.max_block_txs == 0 || p.max_tx_bytes == 0 || p.max_records_per_tx == Some(0) {
            return bad("params must be positive".into());
        }
        if let Some(name) = p.modules.keys().find(|m| !valid_name(m)) {
            return bad(format!("params.modules: {name:?} is not a module name"));
        }
        if p.modules.contains_key(crate::log::V1_RECORD_MODULE) && (p.max_records_per_tx.is_some() || p.evidence_digest_state) {
            return bad(
                "params.max_records_per_tx and params.evidence_digest_state are the evidence module's: with params.modules.evidence, set them there (max_records_per_tx, digest_state)"
                    .into(),
            );
        }
        Ok(())
    }

    /// SM2 vote keys: on `sm2-sm3` chains with consensus only, on every validator or none,
    /// each a valid SM2 key used by no other validator.
    fn validate_vote_keys(&self) -> Result<(), GenesisError> {
        let bad = |m: String| Err(GenesisError::Invalid(m));
        let with = self.validators.iter().filter(|v| v.vote_key.is_some()).count();
        if with == 0 {
            return Ok(());
        }
        if self.suite != Suite::Sm2Sm3 {
            return bad(format!("vote_key is for sm2-sm3 chains (this one is {}: its validators vote with consensus_key)", self.suite));
        }
        if with != self.validators.len() || self.validators.iter().any(|v| v.consensus_key.is_none()) {
            return bad("vote_key: every validator needs one (and a consensus_key), or none does".into());
        }
        let mut keys = std::collections::BTreeSet::new();
        for v in &self.validators {
            let key = v.vote_key.as_deref().expect("counted");
            let pk = PublicKey::from_hex(Suite::Sm2Sm3, key).map_err(|e| GenesisError::Invalid(format!("validator {} vote_key: {e}", v.name)))?;
            if !keys.insert(pk.as_bytes().to_vec()) {
                return bad(format!("validator {}: vote_key repeats another validator's", v.name));
            }
        }
        Ok(())
    }

    /// Whether validators vote with SM2 vote keys (else with their Ed25519 consensus keys).
    pub fn sm2_votes(&self) -> bool {
        self.validators.iter().any(|v| v.vote_key.is_some())
    }

    pub fn trust_file(&self) -> TrustFile {
        let validators = self
            .validators
            .iter()
            .map(|v| {
                let pk = PublicKey::from_hex(self.suite, &v.public_key).expect("validated genesis");
                let name = self.key_name(&v.name);
                TrustedValidator {
                    vkey: NoteVerifier::new(&name, pk.clone()).expect("valid key name").to_vkey(),
                    public_key_pem: pk.to_pem().expect("PEM encodes"),
                    name,
                    organisation: v.organisation.clone(),
                    public_key: v.public_key.clone(),
                    consensus_key: v.consensus_key.clone(),
                    vote_key: v.vote_key.clone(),
                }
            })
            .collect();
        TrustFile {
            format: TRUST_FORMAT.into(),
            chain_id: self.chain_id.clone(),
            origin: self.origin(),
            suite: self.suite,
            genesis_hash: self.hash(),
            quorum: self.quorum(),
            validators,
        }
    }
}

pub fn quorum(validators: usize) -> usize {
    let f = validators.saturating_sub(1) / 3;
    (2 * f + 1).min(validators.max(1))
}

pub const TRUST_FORMAT: &str = "cairn-trust-v1";

/// What an offline verifier needs: the chain, its suite and the validators' keys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustFile {
    pub format: String,
    pub chain_id: String,
    pub origin: String,
    pub suite: Suite,
    #[serde(with = "hexfmt::hash")]
    pub genesis_hash: Hash,
    pub quorum: usize,
    pub validators: Vec<TrustedValidator>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedValidator {
    /// Note key name, `cairn/<chain id>/<validator>`.
    pub name: String,
    pub organisation: String,
    pub public_key: String,
    pub public_key_pem: String,
    /// C2SP verifier key: `name+keyid+base64(type || key)`.
    pub vkey: String,
    /// Ed25519 consensus key (hex), to check finalization certificates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consensus_key: Option<String>,
    /// SM2 vote key (hex), when the chain votes in SM2: certificates are checked with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vote_key: Option<String>,
}

impl TrustFile {
    /// Reads a trust file, refusing one that lists a validator (name or key) twice or asks for
    /// fewer signatures than 2f+1 of the validators it lists.
    pub fn from_json(bytes: &[u8]) -> Result<Self, GenesisError> {
        Self::from_json_accepting(bytes, None)
    }

    /// [`TrustFile::from_json`], also accepting a quorum below 2f+1 when it is at least
    /// `accept_quorum` (the verifier's user said so: `cairn verify --accept-quorum K`).
    pub fn from_json_accepting(bytes: &[u8], accept_quorum: Option<usize>) -> Result<Self, GenesisError> {
        crate::strict_json::check(bytes).map_err(|e| GenesisError::Invalid(format!("trust file: {e}")))?;
        let t: TrustFile = serde_json::from_slice(bytes)?;
        if t.format != TRUST_FORMAT {
            return Err(GenesisError::Invalid(format!("trust file format {:?} is not {TRUST_FORMAT}", t.format)));
        }
        let n = t.validators.len();
        if t.quorum == 0 || t.quorum > n {
            return Err(GenesisError::Invalid("quorum must be between 1 and the number of validators".into()));
        }
        let mut names = std::collections::BTreeSet::new();
        let mut keys = std::collections::BTreeSet::new();
        for v in &t.validators {
            if !names.insert(v.name.as_str()) {
                return Err(GenesisError::Invalid(format!("trust file lists validator {} twice", v.name)));
            }
            if !keys.insert(v.public_key.to_ascii_lowercase()) {
                return Err(GenesisError::Invalid(format!("trust file lists the key of validator {} twice", v.name)));
            }
        }
        let safe = quorum(n);
        if t.quorum < safe && accept_quorum.is_none_or(|k| t.quorum < k) {
            return Err(GenesisError::Invalid(format!(
                "trust file asks for {} of {n} signatures, fewer than the {safe} (2f+1) that make a checkpoint final; \
                 a lowered quorum lets fewer validators sign a false log. If you mean it, pass --accept-quorum {}",
                t.quorum, t.quorum
            )));
        }
        t.verifiers()?;
        Ok(t)
    }

    /// Whether this file's quorum is below 2f+1 of its validators (accepted on request only).
    pub fn quorum_lowered(&self) -> bool {
        self.quorum < quorum(self.validators.len())
    }

    /// Note verifiers for the validators; the vkey must agree with the hex key.
    pub fn verifiers(&self) -> Result<Vec<NoteVerifier>, GenesisError> {
        self.validators
            .iter()
            .map(|v| {
                let pk = PublicKey::from_hex(self.suite, &v.public_key).map_err(|e| GenesisError::Invalid(format!("validator {}: {e}", v.name)))?;
                let nv = NoteVerifier::new(&v.name, pk).map_err(|e| GenesisError::Invalid(e.to_string()))?;
                if nv.to_vkey() != v.vkey {
                    return Err(GenesisError::Invalid(format!("validator {}: vkey does not match public key", v.name)));
                }
                Ok(nv)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn genesis_json(params: &str) -> String {
        let key = cairn_crypto::KeyPair::from_secret_bytes(Suite::Ed25519Sha256, &[1; 32]).unwrap().public_key().to_hex();
        format!(
            r#"{{"chain_id":"c","suite":"ed25519-sha256","genesis_time_ms":1,"organisations":[{{"id":"o","name":"O","members":["{key}"]}}],"validators":[{{"name":"v","organisation":"o","public_key":"{key}"}}],"params":{params}}}"#
        )
    }

    fn canonical_params(params: &str) -> serde_json::Value {
        let g = Genesis::from_json(genesis_json(params).as_bytes()).unwrap();
        let again: Genesis = serde_json::from_str(&serde_json::to_string(&g).unwrap()).unwrap();
        assert_eq!(again.hash(), g.hash(), "a genesis keeps its hash through its canonical form");
        serde_json::to_value(&g).unwrap()["params"].clone()
    }

    #[test]
    fn a_genesis_of_an_earlier_release_keeps_its_canonical_params() {
        // Before module parameters, a left-out max_records_per_tx was written out with its default.
        let p = canonical_params(r#"{"block_interval_ms":100}"#);
        assert_eq!(p["max_records_per_tx"], 10_000);
        assert_eq!(p["block_interval_ms"], 100);
        assert!(p.get("modules").is_none() && p.get("evidence_digest_state").is_none());
        assert_eq!(canonical_params(r#"{"evidence_digest_state":true}"#)["evidence_digest_state"], true);
    }

    #[test]
    fn module_parameters_replace_the_legacy_members() {
        let p = canonical_params(r#"{"modules":{"evidence":{"digest_state":true},"trace":{}}}"#);
        assert!(p.get("max_records_per_tx").is_none(), "no legacy member in a genesis with modules: {p}");
        assert_eq!(p["modules"]["evidence"]["digest_state"], true);
        let with_both = genesis_json(r#"{"max_records_per_tx":5,"modules":{"evidence":{}}}"#);
        let err = Genesis::from_json(with_both.as_bytes()).unwrap_err().to_string();
        assert!(err.contains("params.modules.evidence"), "{err}");
        let bad_name = genesis_json(r#"{"modules":{"Evidence!":{}}}"#);
        assert!(Genesis::from_json(bad_name.as_bytes()).is_err());
        let not_object = genesis_json(r#"{"modules":{"evidence":3}}"#);
        assert!(Genesis::from_json(not_object.as_bytes()).is_err(), "a module's parameters are an object");
        let unknown = genesis_json(r#"{"max_records":3}"#);
        assert!(Genesis::from_json(unknown.as_bytes()).is_err(), "unknown members are refused");
    }

    fn four_validators() -> Genesis {
        let keys: Vec<String> =
            (1..=4u8).map(|i| cairn_crypto::KeyPair::from_secret_bytes(Suite::Ed25519Sha256, &[i; 32]).unwrap().public_key().to_hex()).collect();
        let validators: Vec<String> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| {
                let ck = cairn_crypto::KeyPair::from_secret_bytes(Suite::Ed25519Sha256, &[i as u8 + 10; 32]).unwrap().public_key().to_hex();
                format!(r#"{{"name":"v{i}","organisation":"o","public_key":"{k}","consensus_key":"{ck}","p2p_address":"127.0.0.1:{}"}}"#, 9000 + i)
            })
            .collect();
        let json = format!(
            r#"{{"chain_id":"c","suite":"ed25519-sha256","genesis_time_ms":1,"organisations":[{{"id":"o","name":"O","members":["{}"]}}],"validators":[{}],"params":{{}}}}"#,
            keys[0],
            validators.join(",")
        );
        Genesis::from_json(json.as_bytes()).unwrap()
    }

    #[test]
    fn two_validators_may_not_share_a_key() {
        let g = four_validators();
        let mut json = serde_json::to_value(&g).unwrap();
        json["validators"][1]["public_key"] = json["validators"][0]["public_key"].clone();
        let err = Genesis::from_json(&serde_json::to_vec(&json).unwrap()).unwrap_err().to_string();
        assert!(err.contains("repeats another validator's"), "{err}");
    }

    #[test]
    fn a_trust_file_with_a_repeated_validator_or_a_lowered_quorum_is_refused() {
        let t = serde_json::to_value(four_validators().trust_file()).unwrap();
        let bytes = |v: &serde_json::Value| serde_json::to_vec(v).unwrap();
        assert_eq!(TrustFile::from_json(&bytes(&t)).unwrap().quorum, 3);
        let mut twice = t.clone();
        twice["validators"].as_array_mut().unwrap().push(t["validators"][0].clone());
        assert!(TrustFile::from_json(&bytes(&twice)).unwrap_err().to_string().contains("twice"));
        let mut same_key = t.clone();
        let mut other = t["validators"][0].clone();
        other["name"] = "cairn/c/another".into();
        same_key["validators"].as_array_mut().unwrap().push(other);
        assert!(TrustFile::from_json(&bytes(&same_key)).unwrap_err().to_string().contains("twice"));
        let mut lowered = t.clone();
        lowered["quorum"] = 1.into();
        let err = TrustFile::from_json(&bytes(&lowered)).unwrap_err().to_string();
        assert!(err.contains("--accept-quorum 1"), "{err}");
        assert!(TrustFile::from_json_accepting(&bytes(&lowered), Some(2)).is_err(), "accepting 2 does not accept 1");
        let accepted = TrustFile::from_json_accepting(&bytes(&lowered), Some(1)).unwrap();
        assert!(accepted.quorum_lowered());
        let dup_member = String::from_utf8(bytes(&t)).unwrap().replacen("\"quorum\":", "\"quorum\":3,\"quorum\":", 1);
        assert!(TrustFile::from_json(dup_member.as_bytes()).unwrap_err().to_string().contains("twice"));
    }

    /// Four sm2-sm3 validators with SM2 vote keys (seeds 20..24), as JSON to edit.
    fn sm2_votes_json() -> serde_json::Value {
        let mut json = serde_json::to_value(four_validators()).unwrap();
        json["suite"] = "sm2-sm3".into();
        let sm2 = |seed: u8| cairn_crypto::KeyPair::from_secret_bytes(Suite::Sm2Sm3, &[seed; 32]).unwrap().public_key().to_hex();
        json["organisations"][0]["members"] = serde_json::json!([sm2(30)]);
        for (i, v) in json["validators"].as_array_mut().unwrap().iter_mut().enumerate() {
            v["public_key"] = sm2(i as u8 + 1).into();
            v["vote_key"] = sm2(i as u8 + 20).into();
        }
        json
    }

    #[test]
    fn sm2_vote_keys_are_on_every_validator_of_an_sm2_chain_or_none() {
        let parse = |v: &serde_json::Value| Genesis::from_json(&serde_json::to_vec(v).unwrap());
        let json = sm2_votes_json();
        let g = parse(&json).unwrap();
        assert!(g.sm2_votes());
        assert!(g.trust_file().validators.iter().all(|v| v.vote_key.is_some()), "the trust file carries the vote keys");
        // The same chain without vote keys votes in Ed25519, and its hash does not name them.
        let mut legacy = json.clone();
        for v in legacy["validators"].as_array_mut().unwrap() {
            v.as_object_mut().unwrap().remove("vote_key");
        }
        let legacy = parse(&legacy).unwrap();
        assert!(!legacy.sm2_votes() && !legacy.to_json().contains("vote_key"));
        assert_ne!(legacy.hash(), g.hash(), "vote keys are covered by the genesis hash");
        let refused = |edit: &dyn Fn(&mut serde_json::Value), why: &str| {
            let mut j = json.clone();
            edit(&mut j);
            let err = parse(&j).unwrap_err().to_string();
            assert!(err.contains(why), "{why}: {err}");
        };
        refused(&|j| drop(j["validators"][2].as_object_mut().unwrap().remove("vote_key")), "every validator needs one");
        refused(&|j| j["validators"][2]["vote_key"] = j["validators"][1]["vote_key"].clone(), "vote_key repeats another validator's");
        refused(&|j| j["validators"][2]["vote_key"] = "04".repeat(65).into(), "validator v2 vote_key");
        refused(&|j| j["validators"][2]["vote_key"] = j["validators"][2]["consensus_key"].clone(), "validator v2 vote_key");
        // An Ed25519 chain votes with its consensus keys.
        let mut ed = serde_json::to_value(four_validators()).unwrap();
        ed["validators"][0]["vote_key"] = json["validators"][0]["vote_key"].clone();
        let err = parse(&ed).unwrap_err().to_string();
        assert!(err.contains("vote_key is for sm2-sm3 chains"), "{err}");
    }
}
