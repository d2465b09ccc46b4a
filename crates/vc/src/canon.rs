//! The transformations a Data Integrity proof hashes: RDFC-1.0 canonical N-Quads of a JSON-LD
//! document, and its JCS (RFC 8785) bytes.

use oxjsonld::{JsonLdParser, JsonLdRemoteDocument};
use oxrdf::Dataset;
use oxrdf::dataset::{CanonicalizationAlgorithm, CanonicalizationHashAlgorithm};
use serde_json::Value;

use crate::VcError;

/// The W3C VC 2.0 base context, as published.
pub const CREDENTIALS_V2_URL: &str = "https://www.w3.org/ns/credentials/v2";
pub const CREDENTIALS_V2: &str = include_str!("../contexts/credentials-v2.jsonld");

/// Most quads one document may expand to: a credential has tens; this bounds the work a
/// hostile document can ask of the canonicalization (whose worst case is exponential in the
/// blank nodes that cannot be told apart).
pub const MAX_QUADS: usize = 2_000;
/// Largest document canonicalized.
pub const MAX_DOCUMENT_BYTES: usize = 256 * 1024;

/// The contexts a document may load: the VC 2.0 context and any the caller adds (a test
/// suite's example contexts). Each is a (URL, document) pair.
#[derive(Clone, Default)]
pub struct Contexts {
    extra: Vec<(String, String)>,
    /// (path suffix, document): any http(s) URL whose path ends so loads the document (a
    /// context every node serves at its own base URL).
    suffixes: Vec<(String, String)>,
}

impl Contexts {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with(mut self, url: &str, document: &str) -> Self {
        self.extra.push((url.to_string(), document.to_string()));
        self
    }

    /// A context served by every node at `<base><suffix>`: whatever the base, the document
    /// is the embedded one (a node cannot change what a credential's terms mean).
    pub fn with_suffix(mut self, suffix: &str, document: &str) -> Self {
        self.suffixes.push((suffix.to_string(), document.to_string()));
        self
    }

    fn get(&self, url: &str) -> Option<String> {
        if url == CREDENTIALS_V2_URL {
            return Some(CREDENTIALS_V2.to_string());
        }
        if let Some((_, d)) = self.extra.iter().find(|(u, _)| u == url) {
            return Some(d.clone());
        }
        let web = url.starts_with("https://") || url.starts_with("http://");
        let plain = !url.contains(['?', '#']);
        self.suffixes.iter().find(|(s, _)| web && plain && url.ends_with(s.as_str())).map(|(_, d)| d.clone())
    }
}

/// RDFC-1.0 (SHA-256) canonical N-Quads of a JSON-LD document: one line per quad, each ended
/// by a newline, sorted by UTF-16 code units (the order of jsonld.js and the W3C vectors; for
/// text in the Basic Multilingual Plane it is the code point order).
pub fn rdfc(document: &Value, contexts: &Contexts) -> Result<String, VcError> {
    let bytes = serde_json::to_vec(document).map_err(|e| VcError::Malformed(e.to_string()))?;
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(VcError::Malformed(format!("the document has {} bytes; at most {MAX_DOCUMENT_BYTES} are canonicalized", bytes.len())));
    }
    check_contexts(document, contexts)?;
    let loader = contexts.clone();
    let parser = JsonLdParser::new().for_slice(&bytes).with_load_document_callback(move |url, _| {
        loader
            .get(url)
            .map(|d| JsonLdRemoteDocument { document: d.into_bytes(), document_url: url.to_string() })
            .ok_or_else(|| format!("context {url} is not embedded").into())
    });
    let mut dataset = Dataset::new();
    for quad in parser {
        let quad = quad.map_err(|e| VcError::JsonLd(e.to_string()))?;
        dataset.insert(&quad);
        if dataset.len() > MAX_QUADS {
            return Err(VcError::Malformed(format!("the document expands to more than {MAX_QUADS} statements")));
        }
    }
    dataset.canonicalize(CanonicalizationAlgorithm::Rdfc10 { hash_algorithm: CanonicalizationHashAlgorithm::Sha256 });
    let mut lines: Vec<String> = dataset.iter().map(|q| format!("{q} .\n")).collect();
    lines.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
    lines.dedup();
    Ok(lines.concat())
}

/// Every context a document names by URL must be one it may load: the parser would otherwise
/// report a loader error deep inside; this names the URL.
fn check_contexts(document: &Value, contexts: &Contexts) -> Result<(), VcError> {
    let Some(ctx) = document.get("@context") else { return Ok(()) };
    let list: Vec<&Value> = match ctx {
        Value::Array(a) => a.iter().collect(),
        v => vec![v],
    };
    for c in list {
        if let Value::String(url) = c
            && contexts.get(url).is_none()
        {
            return Err(VcError::UnknownContext(url.clone()));
        }
    }
    Ok(())
}

/// JCS (RFC 8785) bytes of a JSON value.
pub fn jcs(value: &Value) -> Result<Vec<u8>, VcError> {
    serde_json_canonicalizer::to_vec(value).map_err(|e| VcError::Malformed(format!("JCS: {e}")))
}
