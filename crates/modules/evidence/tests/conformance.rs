//! The evidence module under the platform's conformance harness.

use cairn_crypto::{KeyPair, Suite};
use cairn_exec::conformance::{Sample, check};
use cairn_module_evidence::EvidenceParams;
use cairn_types::genesis::{Genesis, Params};
use serde_json::json;

/// With digest state on, the parameters as a chain made today names them; off, the legacy
/// members of chains made before module parameters (both forms run the harness).
fn genesis(member: &KeyPair, digest_state: bool) -> Genesis {
    let params = if digest_state {
        Params::with_modules([("evidence".to_string(), EvidenceParams { max_records_per_tx: 2, digest_state }.to_json())].into())
    } else {
        Params { max_records_per_tx: Some(2), ..Params::default() }
    };
    cairn_exec::conformance::genesis(member, params)
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

/// Genesis parameters: both forms read, bad ones refused with the reason, before anything runs.
#[test]
fn the_modules_genesis_parameters_are_read_and_checked() {
    let member = KeyPair::from_secret_bytes(Suite::Ed25519Sha256, &[7; 32]).unwrap();
    let with = |json: serde_json::Value| {
        let g = cairn_exec::conformance::genesis(&member, Params::with_modules([("evidence".to_string(), json.as_object().unwrap().clone())].into()));
        g.validate().unwrap();
        EvidenceParams::of(&g)
    };
    assert_eq!(with(json!({})), Ok(EvidenceParams::default()));
    assert_eq!(with(json!({"digest_state": true, "max_records_per_tx": 7})), Ok(EvidenceParams { max_records_per_tx: 7, digest_state: true }));
    for (bad, why) in [
        (json!({"digest": true}), "unknown field"),
        (json!({"max_records_per_tx": 0}), "must be 1 to"),
        (json!({"max_records_per_tx": 10_001}), "must be 1 to"),
        (json!({"digest_state": "yes"}), "invalid type"),
    ] {
        let err = with(bad.clone()).expect_err(&bad.to_string());
        assert!(err.contains(why), "{bad}: {err}");
        let genesis = cairn_exec::conformance::genesis(&member, Params::with_modules([("evidence".to_string(), bad.as_object().unwrap().clone())].into()));
        let refused = cairn_exec::Executor::try_new(genesis, &[cairn_module_evidence::module]).err().expect("the executor refuses it");
        assert!(refused.contains(why), "{refused}");
    }
    let legacy = cairn_exec::conformance::genesis(&member, Params { evidence_digest_state: true, ..Params::default() });
    assert_eq!(EvidenceParams::of(&legacy), Ok(EvidenceParams { max_records_per_tx: 10_000, digest_state: true }));
    // Earlier releases took any positive limit (decoding capped it): such chains still start.
    let generous = cairn_exec::conformance::genesis(&member, Params { max_records_per_tx: Some(50_000), ..Params::default() });
    assert_eq!(EvidenceParams::of(&generous).map(|p| p.max_records_per_tx), Ok(10_000));
    // Parameters for a module the node does not run stop it too.
    let stray = cairn_exec::conformance::genesis(&member, Params::with_modules([("trace".to_string(), Default::default())].into()));
    let refused = cairn_exec::Executor::try_new(stray, &[cairn_module_evidence::module]).err().expect("refused");
    assert!(refused.contains("\"trace\", a module this node does not run"), "{refused}");
}
