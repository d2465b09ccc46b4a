//! An entry version as a W3C Verifiable Credential 2.0, and a registry's status lists as
//! Bitstring Status List credentials, both signed by the node's agent (a registrar key of the
//! registry's authority) with a Data Integrity proof (`cairn-vc`).
//!
//! The credential is derived from state alone, with the version's block time as `validFrom`
//! and as the proof's `created`, so the same version gives the same credential bytes on every
//! node that holds the same agent key. Its terms are defined by a protected context that every
//! node serves ([`CONTEXT_PATH`], [`context`]): the entry's public fields and its personal digests are JSON literals
//! (`@json`), so any field name a registry's schema allows signs as it is.

use cairn_crypto::PublicKey;
use cairn_vc::canon::CREDENTIALS_V2_URL;
use serde_json::{Value, json};

use crate::wire::{Entry, Purpose, Registry, Version};

/// Entries one status list credential covers: the Bitstring Status List minimum (16 KB), so
/// every list gives its holders the herd privacy the specification asks for.
pub const STATUS_LIST_BITS: u64 = cairn_vc::status::MIN_BITS as u64;

const VOCAB: &str = "urn:cairn:registry#";

/// Where every node serves [`context_document`]; credentials name it at their node's base URL.
/// (An inline context would need no fetch, but verifiers compare a JCS proof's `@context`
/// with the document's item by item with `===`, which no inline object passes.)
pub const CONTEXT_PATH: &str = "/v1/registry/credentials/context/v1";

/// The context document of registry credentials.
pub fn context_document() -> Value {
    json!({"@context": context()})
}

/// The contexts a registry credential loads: the VC 2.0 context and this module's.
pub fn contexts() -> cairn_vc::canon::Contexts {
    cairn_vc::canon::Contexts::new().with_suffix(CONTEXT_PATH, &context_document().to_string())
}

/// The context of registry credentials: every term they use and no other (an unused term
/// could be changed without changing what is signed).
pub fn context() -> Value {
    let t = |name: &str| Value::String(format!("{VOCAB}{name}"));
    json!({
        "@protected": true,
        "RegistryEntryCredential": t("RegistryEntryCredential"),
        "RegistryEntry": t("RegistryEntry"),
        "registry": t("registry"),
        "registryTitle": t("registryTitle"),
        "entryKey": t("entryKey"),
        "version": t("version"),
        "entryStatus": t("entryStatus"),
        "holder": t("holder"),
        "schemaVersion": t("schemaVersion"),
        "fields": {"@id": format!("{VOCAB}fields"), "@type": "@json"},
        "personalDigests": {"@id": format!("{VOCAB}personalDigests"), "@type": "@json"},
        "contentDigest": t("contentDigest"),
        "ledger": t("ledger"),
        "chain": t("chain"),
        "height": t("height"),
        "leafIndex": t("leafIndex"),
    })
}

/// A path segment, percent-encoded (RFC 3986 unreserved characters pass).
pub fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Where a registry's status list credential of `purpose` and `page` is served.
pub fn status_list_url(base: &str, g: &str, purpose: Purpose, page: u64) -> String {
    format!("{base}/v1/registry/{}/status/{}/{page}", segment(g), purpose.name())
}

/// The facts a credential states, as the routes read them from state.
pub struct Facts<'a> {
    /// The node's public base URL (`https://registry.example.gov`), no trailing slash.
    pub base: &'a str,
    /// The chain's genesis hash (hex).
    pub chain: &'a str,
    pub registry_id: &'a str,
    pub registry: &'a Registry,
    pub key: &'a str,
    pub entry: &'a Entry,
    /// The version stated (the entry's current one, or an earlier one).
    pub version: &'a Version,
    /// The version's content: `{"fields", "personal"}`.
    pub content: &'a Value,
    pub issuer: &'a PublicKey,
}

/// The unsigned credential of an entry version.
pub fn entry_credential(f: &Facts) -> Value {
    let v = f.version;
    let time = cairn_types::format_time_ms(v.time_ms);
    let mut subject = json!({
        "type": "RegistryEntry",
        "registry": f.registry_id,
        "registryTitle": if f.registry.title_en.is_empty() { &f.registry.title_zh } else { &f.registry.title_en },
        "entryKey": f.key,
        "version": v.version,
        "entryStatus": v.status.name(),
        "holder": v.holder,
        "schemaVersion": v.schema_version,
        "fields": f.content.get("fields").cloned().unwrap_or_else(|| json!({})),
        "personalDigests": f.content.get("personal").cloned().unwrap_or_else(|| json!({})),
        "contentDigest": hex::encode(v.content_digest),
        "ledger": {"chain": f.chain, "height": v.height, "leafIndex": v.leaf},
    });
    // A holder that is an IRI (a DID, a URN, a URL) is the subject's id; any other holder
    // name is only stated.
    if is_iri(&v.holder) {
        subject["id"] = json!(v.holder);
    }
    let status = |purpose: Purpose| {
        let page = f.entry.status_index / STATUS_LIST_BITS;
        let url = status_list_url(f.base, f.registry_id, purpose, page);
        let index = f.entry.status_index % STATUS_LIST_BITS;
        json!({
            "id": format!("{url}#{index}"),
            "type": "BitstringStatusListEntry",
            "statusPurpose": purpose.name(),
            "statusListIndex": index.to_string(),
            "statusListCredential": url,
        })
    };
    json!({
        "@context": [CREDENTIALS_V2_URL, format!("{}{CONTEXT_PATH}", f.base)],
        "id": format!("{}/v1/registry/{}/entries/{}/credential?version={}", f.base, segment(f.registry_id), segment(f.key), v.version),
        "type": ["VerifiableCredential", "RegistryEntryCredential"],
        "issuer": {"id": cairn_vc::did::did_key(f.issuer), "name": f.registry.authority},
        "validFrom": time,
        "credentialSubject": subject,
        "credentialStatus": [status(Purpose::Revocation), status(Purpose::Suspension)],
    })
}

/// The unsigned status list credential of one page of a registry's list (`bits`: the page's
/// bitstring, MSB first). It has no `validFrom`: it is the chain's current state, and the
/// same bits give the same credential on every node.
pub fn status_list_credential(base: &str, g: &str, purpose: Purpose, page: u64, bits: &[u8], issuer: &PublicKey) -> Value {
    let url = status_list_url(base, g, purpose, page);
    json!({
        "@context": [CREDENTIALS_V2_URL],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": cairn_vc::did::did_key(issuer),
        "credentialSubject": {
            "id": format!("{url}#list"),
            "type": "BitstringStatusList",
            "statusPurpose": purpose.name(),
            "encodedList": cairn_vc::status::encode(bits),
        },
    })
}

/// Whether a holder string is an absolute IRI a credential subject may be named by.
fn is_iri(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else { return false };
    !rest.is_empty()
        && scheme.len() >= 2
        && scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        && !s.chars().any(|c| c.is_whitespace() || c.is_control() || "<>\"{}|\\^`".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_and_iris() {
        assert_eq!(segment("births-2026/北京 1"), "births-2026%2F%E5%8C%97%E4%BA%AC%201");
        assert!(is_iri("did:example:123"));
        assert!(is_iri("urn:uuid:58172aac"));
        assert!(!is_iri("张三"));
        assert!(!is_iri("c:x"));
        assert!(!is_iri("did:a b"));
    }
}
