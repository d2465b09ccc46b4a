//! The evidence module under the platform's conformance harness.

use cairn_crypto::{KeyPair, Suite};
use cairn_exec::conformance::{Sample, check};
use cairn_types::genesis::{Genesis, Params};
use serde_json::json;

fn genesis(member: &KeyPair, digest_state: bool) -> Genesis {
    cairn_exec::conformance::genesis(member, Params { max_records_per_tx: 2, evidence_digest_state: digest_state, ..Params::default() })
}

fn record(digest_alg: &str, digest: u8, reference: Option<&str>) -> serde_json::Value {
    json!({"digest_alg": digest_alg, "digest": hex::encode([digest; 32]), "size": 10, "media_type": "text/plain", "title": "t", "reference": reference, "metadata": {"k": "v"}})
}

#[test]
fn evidence_passes_the_conformance_harness_in_both_suites() {
    for (suite, alg) in [(Suite::Ed25519Sha256, "sha-256"), (Suite::Sm2Sm3, "sm3")] {
        for digest_state in [false, true] {
            let member = KeyPair::from_secret_bytes(suite, &[7; 32]).unwrap();
            let deposit = |records: Vec<serde_json::Value>, refused| Sample { method: "deposit", args: json!({ "records": records }), refused };
            check(
                cairn_module_evidence::module,
                genesis(&member, digest_state),
                &member,
                &[
                    deposit(vec![record(alg, 1, None)], None),
                    deposit(vec![record(alg, 1, Some("case-1")), record(alg, 2, Some("case-1"))], None),
                    deposit(vec![record(alg, 3, None), record(alg, 4, None), record(alg, 5, None)], Some("evidence.too-many-records")),
                    deposit(vec![], Some("invalid-args")),
                    Sample { method: "withdraw", args: json!({}), refused: Some("unknown-method") },
                    Sample { method: "deposit", args: json!({"records": "no"}), refused: Some("invalid-args") },
                ],
            );
        }
    }
}
