//! The traceability module under the platform's conformance harness, in both suites.

use cairn_crypto::{KeyPair, Suite};
use cairn_exec::conformance::{Sample, check};
use cairn_types::genesis::Params;
use serde_json::json;

fn document(epc: &str, action: Option<&str>) -> serde_json::Value {
    let mut e = json!({"type": "ObjectEvent", "eventTime": "2026-05-01T10:00:00Z", "eventTimeZoneOffset": "+00:00", "bizStep": "shipping", "epcList": [epc]});
    if let Some(a) = action {
        e["action"] = json!(a);
    }
    json!({"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"], "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-05-01T00:00:00Z", "epcisBody": {"eventList": [e]}})
}

#[test]
fn trace_passes_the_conformance_harness_in_both_suites() {
    for suite in [Suite::Ed25519Sha256, Suite::Sm2Sm3] {
        let member = KeyPair::from_secret_bytes(suite, &[7; 32]).unwrap();
        let capture = |args: serde_json::Value, refused| Sample { method: "capture", args, refused };
        check(
            cairn_module_trace::module,
            cairn_exec::conformance::genesis(&member, Params::default()),
            &member,
            &[
                capture(json!({"document": document("urn:epc:id:sgtin:0614141.107346.1", Some("OBSERVE"))}), None),
                capture(json!({"document": document("urn:epc:id:sgtin:0614141.107346.2", Some("ADD")), "hash_only": true}), None),
                capture(json!({"document": document("urn:epc:id:sgtin:0614141.107346.1", Some("OBSERVE"))}), Some("trace.duplicate-event")),
                capture(json!({"document": document("urn:epc:id:sgtin:0614141.107346.1", Some("OBSERVE")), "proceed": true}), None),
                capture(json!({"document": document("urn:epc:id:sgtin:0614141.107346.3", None)}), Some("invalid-args")),
                capture(json!({}), Some("invalid-args")),
                Sample { method: "delete", args: json!({}), refused: Some("unknown-method") },
            ],
        );
    }
}
