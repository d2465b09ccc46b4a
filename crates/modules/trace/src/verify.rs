//! Offline: an event's receipt checked with the trust file alone, and the event's hash ID
//! recomputed from its JSON-LD (`cairn verify --epcis event.json --receipt R --trust T`).

use cairn_types::genesis::TrustFile;
use cairn_types::receipt::verify_leaf_receipt;
use serde_json::Value;

use crate::wire::{EventEntry, KIND_EVENT, MODULE};

/// What a valid event receipt proves.
#[derive(Debug, Clone)]
pub struct VerifiedEvent {
    pub entry: EventEntry,
    pub leaf_index: u64,
    pub tree_size: u64,
    pub signers: Vec<String>,
    /// The event document's hash ID, when one was given (it equals the receipt's).
    pub document_hash_id: Option<String>,
}

/// Verifies a trace event receipt and, given the event's JSON-LD (an event, or a document
/// holding exactly one event or the receipt's event among others), that its CBV 2.0 hash ID is
/// the one the chain recorded.
pub fn verify_event(receipt: &str, trust: &TrustFile, event: Option<&[u8]>) -> Result<VerifiedEvent, String> {
    let v = verify_leaf_receipt(receipt, trust).map_err(|e| e.to_string())?;
    if v.module != MODULE || v.kind != KIND_EVENT {
        return Err(format!("the receipt is for a {} leaf of kind {}, not a trace event", v.module, v.kind));
    }
    let entry = EventEntry::decode_payload(&v.payload).map_err(|e| format!("the receipt's leaf is not a trace event: {e}"))?;
    let document_hash_id = match event {
        None => None,
        Some(bytes) => Some(matching_hash_id(bytes, &entry)?),
    };
    Ok(VerifiedEvent { entry, leaf_index: v.leaf_index, tree_size: v.tree_size, signers: v.signers, document_hash_id })
}

fn matching_hash_id(bytes: &[u8], entry: &EventEntry) -> Result<String, String> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| format!("the event file is not JSON: {e}"))?;
    let doc = crate::prepare::parse_document(&value).map_err(|p| format!("the event file: {p}"))?;
    let want = cairn_epcis::hash::hash_id_string(&entry.event.hash);
    let mut seen = Vec::new();
    let ns = cairn_epcis::hash::Namespaces::from_context(&doc.context);
    for e in &doc.events {
        let e = crate::prepare::standalone(e, &doc.context);
        let hash = cairn_epcis::hash::event_hash(&e, &ns).map_err(|err| format!("the event file's event has no hash: {err}"))?;
        let id = cairn_epcis::hash::hash_id_string(&hash);
        if id == want {
            return Ok(id);
        }
        seen.push(id);
    }
    Err(format!(
        "the event file's hash ID{} {} not the recorded {want}: the event differs from what was recorded",
        if seen.len() == 1 { "" } else { "s" },
        if seen.len() == 1 { format!("{} is", seen[0]) } else { format!("{} are", seen.join(", ")) }
    ))
}
