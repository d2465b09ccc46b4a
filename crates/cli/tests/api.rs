//! The HTTP API against a real node process: every bad input gets a precise RFC 7807 error
//! and the right status code; lookups, proofs and the OpenAPI document hold together.

mod common;

use cairn_crypto::{KeyPair, Suite};
use cairn_module_evidence::wire::{DigestAlg, RecordInput};
use common::*;
use serde_json::{Value, json};

fn record(digest_of: &[u8], reference: &str) -> RecordInput {
    RecordInput {
        digest_alg: DigestAlg::Sha256,
        digest: DigestAlg::Sha256.digest(digest_of),
        size: digest_of.len() as u64,
        media_type: "text/plain".into(),
        title: "a record".into(),
        reference: Some(reference.into()),
        metadata: Default::default(),
    }
}

fn problem_code(v: &Value) -> &str {
    v["code"].as_str().unwrap_or("")
}

#[test]
fn bad_inputs_get_precise_errors_and_lose_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let node = DevNode::start(&tmp.path().join("data"), "ed25519-sha256");
    let key = node.submitter();
    let chain = node.status()["chain_id"].as_str().unwrap().to_string();
    let url = &node.url;

    // A good one commits.
    let good = deposit_body(&key, &chain, 1, vec![record(b"one", "ref-a")]).sign(&key);
    let (s, v) = post_txs(url, &[good.encode()], true);
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["results"][0]["status"], "committed");

    // Replay of the same transaction: 409.
    let (s, v) = post_txs(url, &[good.encode()], true);
    assert_eq!((s, problem_code(&v)), (409, "replay"), "{v}");

    // Bad signature: 401.
    let mut bad = deposit_body(&key, &chain, 2, vec![record(b"two", "ref-a")]).sign(&key).encode();
    let n = bad.len();
    bad[n - 1] ^= 1;
    let (s, v) = post_txs(url, &[bad], false);
    assert_eq!((s, problem_code(&v)), (401, "bad-signature"), "{v}");

    // Signer not in genesis: 403.
    let stranger = KeyPair::generate(Suite::Ed25519Sha256);
    let (s, v) = post_txs(url, &[deposit_body(&stranger, &chain, 3, vec![record(b"x", "r")]).sign(&stranger).encode()], false);
    assert_eq!((s, problem_code(&v)), (403, "unknown-signer"), "{v}");

    // Wrong chain, expired, unknown module: 400 with their own codes.
    let (s, v) = post_txs(url, &[deposit_body(&key, "another-chain", 4, vec![record(b"x", "r")]).sign(&key).encode()], false);
    assert_eq!((s, problem_code(&v)), (400, "wrong-chain"), "{v}");
    let mut b = deposit_body(&key, &chain, 5, vec![record(b"x", "r")]);
    b.expires_at_ms = 1_000;
    let (s, v) = post_txs(url, &[b.sign(&key).encode()], false);
    assert_eq!((s, problem_code(&v)), (400, "expired"), "{v}");
    let mut b = deposit_body(&key, &chain, 6, vec![record(b"x", "r")]);
    b.call.module = "payments".into();
    let (s, v) = post_txs(url, &[b.sign(&key).encode()], false);
    assert_eq!((s, problem_code(&v)), (400, "unknown-module"), "{v}");

    // A title with a line break or a terminal escape could forge lines of a printed verdict:
    // refused at admission, naming the record and the character.
    for bad_title in ["first line\n(file matches)", "\u{1b}[2Jcleared"] {
        let mut r = record(b"control", "ref-ctl");
        r.title = bad_title.into();
        let (s, v) = post_txs(url, &[deposit_body(&key, &chain, 7, vec![r]).sign(&key).encode()], false);
        assert_eq!((s, problem_code(&v)), (400, "evidence.control-character"), "{v}");
        assert!(v["detail"].as_str().unwrap().contains("record 0: title"), "{v}");
    }

    // Garbage bytes, truncated framing, malformed JSON, oversized.
    let (s, v) = post_txs(url, &[vec![1, 2, 3]], false);
    assert_eq!((s, problem_code(&v)), (400, "malformed"), "{v}");
    let r = client().post(format!("{url}/v1/transactions")).header("content-type", "application/octet-stream").body(vec![0, 0, 1, 0, 9]).send().unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let r = client().post(format!("{url}/v1/transactions")).header("content-type", "application/json").body("{\"transactions\": [").send().unwrap();
    let s = r.status().as_u16();
    assert_eq!((s, problem_code(&r.json().unwrap())), (400, "malformed-json"));
    let (s, v) = post_txs(url, &[vec![0u8; 5 << 20]], false);
    assert_eq!((s, problem_code(&v)), (413, "oversized"), "{v}");

    // A batch with good and bad transactions: per-transaction verdicts, the good ones commit.
    let ok1 = deposit_body(&key, &chain, 10, vec![record(b"one", "ref-b")]).sign(&key);
    let ok2 = deposit_body(&key, &chain, 11, vec![record(b"three", "ref-b"), record(b"four", "ref-b")]).sign(&key);
    let (s, v) = post_txs(url, &[ok1.encode(), vec![9, 9], ok2.encode(), good.encode()], true);
    assert_eq!(s, 202, "{v}");
    let statuses: Vec<&str> = v["results"].as_array().unwrap().iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["committed", "rejected", "committed", "rejected"]);
    assert_eq!(v["results"][3]["error"]["code"], "replay");

    // JSON forms: hex and object.
    let hex_tx = deposit_body(&key, &chain, 12, vec![record(b"five", "ref-c")]).sign(&key);
    let obj_tx = deposit_body(&key, &chain, 13, vec![record(b"six", "ref-c")]).sign(&key);
    let obj = json!({
        "chain_id": chain, "signer": key.public_key().to_hex(), "nonce": 13, "expires_at_ms": obj_tx.body.expires_at_ms,
        "call": {"module": "evidence", "method": "deposit", "args": {"records": [record(b"six", "ref-c")]}},
        "signature": hex::encode(&obj_tx.signature),
    });
    let r = client().post(format!("{url}/v1/transactions")).json(&json!({"transactions": [hex::encode(hex_tx.encode()), obj], "wait": true})).send().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let v: Value = r.json().unwrap();
    assert_eq!(v["results"][1]["id"], hex::encode(obj_tx.id));

    // Nothing acknowledged was lost: each committed deposit of "one" is found, in log order,
    // with its own receipt.
    let d = hex::encode(DigestAlg::Sha256.digest(b"one"));
    let v: Value = client().get(format!("{url}/v1/evidence?digest={d}")).send().unwrap().json().unwrap();
    let recs = v["records"].as_array().unwrap();
    assert_eq!(recs.len(), 2);
    assert!(recs[0]["leaf_index"].as_u64() < recs[1]["leaf_index"].as_u64());
    assert_ne!(recs[0]["record"]["id"], recs[1]["record"]["id"]);
    let v: Value = client().get(format!("{url}/v1/evidence?reference=ref-b")).send().unwrap().json().unwrap();
    assert_eq!(v["records"].as_array().unwrap().len(), 3);

    // Status of transactions; unknown ids and bad ids.
    let v: Value = client().get(format!("{url}/v1/transactions/{}", hex::encode(good.id))).send().unwrap().json().unwrap();
    assert_eq!(v["status"], "committed");
    let r = client().get(format!("{url}/v1/transactions/{}", "ab".repeat(32))).send().unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let r = client().get(format!("{url}/v1/evidence/{}-0", "AB".repeat(32))).send().unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let r = client().get(format!("{url}/v1/evidence/{}-7", hex::encode(good.id))).send().unwrap();
    assert_eq!(r.status().as_u16(), 404, "index past the transaction's records");
}

#[test]
fn proofs_blocks_and_openapi_hold_together() {
    let tmp = tempfile::tempdir().unwrap();
    let node = DevNode::start(&tmp.path().join("data"), "sm2-sm3");
    let key = node.submitter();
    let chain = node.status()["chain_id"].as_str().unwrap().to_string();
    let url = &node.url;
    let mut sizes = Vec::new();
    for i in 0..3u64 {
        let mut r = record(format!("doc {i}").as_bytes(), "ref");
        r.digest_alg = DigestAlg::Sm3;
        let tx = deposit_body(&key, &chain, i, vec![r.clone(), r]).sign(&key);
        let (s, v) = post_txs(url, &[tx.encode()], true);
        assert_eq!(s, 200, "{v}");
        sizes.push(node.status()["checkpoint_size"].as_u64().unwrap());
    }
    // Consistency between two signed sizes verifies with the RFC 9162 algorithm.
    let v: Value = client().get(format!("{url}/v1/consistency?from={}&to={}", sizes[0], sizes[2])).send().unwrap().json().unwrap();
    let proof: Vec<[u8; 32]> = v["proof"].as_array().unwrap().iter().map(|h| hex::decode(h.as_str().unwrap()).unwrap().try_into().unwrap()).collect();
    let root = |note: &str| cairn_note::Checkpoint::parse(&cairn_note::SignedNote::parse(note).unwrap().text).unwrap().root;
    let (r1, r2) = (root(v["from_checkpoint"].as_str().unwrap()), root(v["to_checkpoint"].as_str().unwrap()));
    cairn_merkle::verify_consistency(Suite::Sm2Sm3, sizes[0], sizes[2], &r1, &r2, &proof).unwrap();
    let r = client().get(format!("{url}/v1/consistency?from=1&to={}", sizes[2])).send().unwrap();
    assert_eq!(r.status().as_u16(), 400, "size 1 was never signed");

    // Blocks link by parent hash.
    let v: Value = client().get(format!("{url}/v1/blocks")).send().unwrap().json().unwrap();
    let blocks = v["blocks"].as_array().unwrap();
    assert_eq!(blocks.len(), 3);
    assert_eq!(blocks[0]["parent"], blocks[1]["hash"]);
    let by_hash: Value = client().get(format!("{url}/v1/blocks/{}", blocks[0]["hash"].as_str().unwrap())).send().unwrap().json().unwrap();
    assert_eq!(by_hash["height"], blocks[0]["height"]);
    assert_eq!(by_hash["transactions"].as_array().unwrap().len(), 1);

    // The checkpoint is a signed note whose vkey is in the trust file.
    let note = client().get(format!("{url}/v1/checkpoint")).send().unwrap().text().unwrap();
    let trust = cairn_types::genesis::TrustFile::from_json(&std::fs::read(node.trust_path()).unwrap()).unwrap();
    let verifier = cairn_note::NoteVerifier::from_vkey(&trust.validators[0].vkey).unwrap();
    assert_eq!(cairn_note::SignedNote::parse(&note).unwrap().verify(&[verifier]).unwrap().len(), 1);

    // A governance proposal to find: the dev organisation adds a key (its own admins decide:
    // proposing passes and applies it in the same block).
    let newcomer = KeyPair::generate(Suite::Sm2Sm3).public_key().to_hex();
    let key_path = tmp.path().join("data/keys/submitter.key");
    let out = cairn(&[
        "gov",
        "propose",
        "--node",
        url,
        "--key",
        key_path.to_str().unwrap(),
        "add-member",
        "--org",
        "dev-org",
        "--member",
        &format!("{newcomer}:evidence.depositor"),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let p: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((p["id"].as_u64(), p["outcome"]["applied"].as_bool()), (Some(1), Some(true)), "{p}");

    // A traceability event (its hash is SHA-256 on any suite) and a named query, to find.
    let event = serde_json::json!({"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"], "type": "ObjectEvent",
        "eventTime": "2026-03-01T08:00:00Z", "eventTimeZoneOffset": "+00:00", "action": "OBSERVE", "epcList": ["urn:epc:id:sgtin:0614141.107346.1"]});
    let r = client().post(format!("{url}/epcis/events")).header("content-type", "application/json").body(event.to_string()).send().unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let captured: Value = r.json().unwrap();
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let r = client().post(format!("{url}/epcis/queries")).body(r#"{"name": "all-observed", "query": {"EQ_action": "OBSERVE"}}"#).send().unwrap();
    assert_eq!(r.status().as_u16(), 201);

    // A registry with an entry (the dev node's agent is of its authority, so it issues the
    // entry's credential and the status list's).
    let schema = tmp.path().join("registry-schema.json");
    let district = json!({"type": "object", "properties": {"district": {"type": "string"}}, "required": ["district"], "x-cairn-indexed": ["district"]});
    std::fs::write(&schema, district.to_string()).unwrap();
    let fields = tmp.path().join("registry-fields.json");
    std::fs::write(&fields, json!({"district": "north"}).to_string()).unwrap();
    let disclosures = tmp.path().join("registry-disclosures.json");
    for args in [
        vec!["create", "--registry", "civil-births", "--schema", schema.to_str().unwrap()],
        vec!["put", "--registry", "civil-births", "--entry", "B000123", "--fields", fields.to_str().unwrap(), "--disclosures", disclosures.to_str().unwrap()],
    ] {
        let out = cairn(&[&["registry"], args.as_slice(), &["--key", key_path.to_str().unwrap(), "--node", url]].concat());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }

    // Every path in the OpenAPI document is served (parameters filled with real values).
    let doc: Value = client().get(format!("{url}/v1/openapi.json")).send().unwrap().json().unwrap();
    let id = by_hash["transactions"][0].as_str().unwrap().to_string();
    let rec: Value = client().get(format!("{url}/v1/evidence?reference=ref")).send().unwrap().json().unwrap();
    let rid = rec["records"][0]["record"]["id"].as_str().unwrap().to_string();
    let block_one: Value = client().get(format!("{url}/v1/blocks/1")).send().unwrap().json().unwrap();
    let block_leaf = block_one["log_size"].as_u64().unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        if item.get("get").is_none() {
            continue;
        }
        let p = path
            .replace("/v1/transactions/{id}", &format!("/v1/transactions/{id}"))
            .replace("/v1/evidence/{id}", &format!("/v1/evidence/{rid}"))
            .replace("/epcis/capture/{id}", &format!("/epcis/capture/{}", captured["captureID"].as_str().unwrap()))
            .replace("/epcis/events/{id}", &format!("/epcis/events/{}", enc(captured["eventID"].as_str().unwrap())))
            .replace("/v1/trace/events/{id}", &format!("/v1/trace/events/{}", captured["leafIndex"]))
            .replace("/v1/registry/{g}", "/v1/registry/civil-births")
            .replace("/entries/{k}", "/entries/B000123")
            .replace("/schemas/{v}", "/schemas/1")
            .replace("/status/{purpose}", "/status/revocation")
            .replace("/revocation/{page}", "/revocation/0")
            .replace("{name}", "all-observed")
            .replace("{id}", "1")
            .replace("{key}", &node.submitter().public_key().to_hex());
        let p = match p.as_str() {
            "/v1/evidence" => "/v1/evidence?reference=ref".to_string(),
            "/v1/consistency" => format!("/v1/consistency?from={}&to={}", sizes[0], sizes[1]),
            "/v1/evidence/state" => format!("/v1/evidence/state?digest={}", "ab".repeat(32)),
            "/v1/state/proof" => format!("/v1/state/proof?module=evidence&key=01{}", "ab".repeat(32)),
            "/epcis/trace" => "/epcis/trace?epc=urn:epc:id:sgtin:0614141.107346.1".to_string(),
            "/v1/trace/state" => format!("/v1/trace/state?event={}", enc(captured["eventID"].as_str().unwrap())),
            // Block 1's block leaf follows its transaction leaves: its index is the header's log size.
            "/v1/leaves/{index}/receipt" => format!("/v1/leaves/{block_leaf}/receipt"),
            _ => p,
        };
        let r = client().get(format!("{url}{p}")).send().unwrap();
        if p == "/v1/finality" {
            // Consensus certificates exist only with validators (tests/consortium.rs).
            assert_eq!(r.status().as_u16(), 404, "GET {p}");
            continue;
        }
        assert!(r.status().is_success(), "GET {p}: {}", r.status());
    }
    let r = client().get(format!("{url}/v1/nothing-here")).send().unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
}

#[test]
fn full_mempool_answers_503_with_retry_after() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    // A chain whose blocks come once a minute, and a mempool of three.
    let (paths, _) = cairn_node::dev::init_dev(&dir, "127.0.0.1:0".parse().unwrap(), Suite::Ed25519Sha256).unwrap();
    let mut g: Value = serde_json::from_slice(&std::fs::read(&paths.genesis).unwrap()).unwrap();
    g["params"]["block_interval_ms"] = json!(60_000);
    std::fs::write(&paths.genesis, serde_json::to_vec_pretty(&g).unwrap()).unwrap();
    let cfg = std::fs::read_to_string(&paths.config).unwrap();
    let edited = cfg.replace("mempool_max_txs = 200000", "mempool_max_txs = 3");
    assert_ne!(edited, cfg, "config layout changed: {cfg}");
    std::fs::write(&paths.config, edited).unwrap();
    let node = DevNode::start(&dir, "ed25519-sha256");
    let key = node.submitter();
    let chain = node.status()["chain_id"].as_str().unwrap().to_string();
    let txs: Vec<Vec<u8>> = (0..5).map(|i| deposit_body(&key, &chain, i, vec![record(&[i as u8], "r")]).sign(&key).encode()).collect();
    let (s, v) = post_txs(&node.url, &txs, false);
    assert_eq!(s, 202);
    let codes: Vec<&str> = v["results"].as_array().unwrap().iter().map(|r| r["error"]["code"].as_str().unwrap_or("ok")).collect();
    assert_eq!(codes, ["ok", "ok", "ok", "mempool-full", "mempool-full"]);
    let one = deposit_body(&key, &chain, 99, vec![record(b"late", "r")]).sign(&key).encode();
    let r = client()
        .post(format!("{}/v1/transactions", node.url))
        .header("content-type", "application/octet-stream")
        .body([(one.len() as u32).to_be_bytes().to_vec(), one].concat())
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 503);
    assert_eq!(r.headers()["retry-after"], "1");
    assert_eq!(node.status()["mempool_txs"], 3);
}

#[test]
fn start_up_errors_say_what_to_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let (paths, _) = cairn_node::dev::init_dev(&dir, "127.0.0.1:0".parse().unwrap(), Suite::Ed25519Sha256).unwrap();
    // Truncated key file.
    let key = std::fs::read(&paths.validator_key).unwrap();
    std::fs::write(&paths.validator_key, &key[..key.len() / 2]).unwrap();
    let out = cairn(&["node", "--config", paths.config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a Cairn key file"), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::write(&paths.validator_key, &key).unwrap();
    // A key file others can read is refused, with the command that fixes it.
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&paths.validator_key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let out = cairn(&["node", "--config", paths.config.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("chmod 600"), "{}", String::from_utf8_lossy(&out.stderr));
        std::fs::set_permissions(&paths.validator_key, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    // A zero limit is a mistake, named with its key (it used to panic).
    let config = std::fs::read_to_string(&paths.config).unwrap();
    let mut doc: toml::Table = toml::from_str(&config).unwrap();
    doc.entry("limits").or_insert(toml::Value::Table(Default::default())).as_table_mut().unwrap().insert("mempool_max_txs".into(), toml::Value::Integer(0));
    std::fs::write(&paths.config, toml::to_string(&doc).unwrap()).unwrap();
    let out = cairn(&["node", "--config", paths.config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("mempool_max_txs = 0"), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::write(&paths.config, config).unwrap();
    // Start once so the database records its genesis, then change the genesis.
    drop(DevNode::start(&dir, "ed25519-sha256"));
    let mut g: Value = serde_json::from_slice(&std::fs::read(&paths.genesis).unwrap()).unwrap();
    g["params"]["max_tx_bytes"] = json!(1234);
    std::fs::write(&paths.genesis, serde_json::to_vec_pretty(&g).unwrap()).unwrap();
    let out = cairn(&["node", "--config", paths.config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("genesis mismatch"), "{}", String::from_utf8_lossy(&out.stderr));
}

/// `/v1/events` streams governance events beside blocks: a proposal its organisation decides
/// alone is proposed, passed and applied in one block.
#[test]
fn governance_events_stream_beside_blocks() {
    use std::io::BufRead as _;
    let tmp = tempfile::tempdir().unwrap();
    let node = DevNode::start(&tmp.path().join("data"), "ed25519-sha256");
    let resp = reqwest::blocking::Client::new().get(format!("{}/v1/events", node.url)).send().unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let (tx, rx) = std::sync::mpsc::channel::<(String, String)>();
    std::thread::spawn(move || {
        let mut event = String::new();
        for line in std::io::BufReader::new(resp).lines() {
            let Ok(line) = line else { return };
            if let Some(e) = line.strip_prefix("event:") {
                event = e.trim().to_string();
            } else if let Some(d) = line.strip_prefix("data:")
                && tx.send((event.clone(), d.trim().to_string())).is_err()
            {
                return;
            }
        }
    });
    let newcomer = KeyPair::generate(Suite::Ed25519Sha256).public_key().to_hex();
    let key_path = tmp.path().join("data/keys/submitter.key");
    let out = cairn(&["gov", "propose", "--node", &node.url, "--key", key_path.to_str().unwrap(), "add-member", "--org", "dev-org", "--member", &newcomer]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut seen_block = false;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let (event, data) = rx.recv_timeout(left).expect("a governance event within 30 s");
        seen_block |= event == "block";
        if event == "governance" {
            let v: Value = serde_json::from_str(&data).unwrap();
            assert_eq!(v["events"], json!(["proposed", "passed", "applied"]), "{v}");
            assert_eq!(v["proposal"]["action"]["key"], newcomer.as_str());
            assert!(seen_block, "the block's event comes first");
            break;
        }
    }
}
