//! GS1 EPCIS 2.0 and CBV 2.0, as the standards define them: identifiers (EPC URNs and GS1
//! Digital Link URIs, [`epc`]) and the CBV 2.0 event hash ID ([`hash`]). No ledger types: the
//! traceability module (`crates/modules/trace`) builds on this crate.

#![forbid(unsafe_code)]

mod canon;
pub mod epc;
pub mod hash;
mod vocab;
