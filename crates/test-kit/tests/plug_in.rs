//! The claim of the module platform: a module in its own crate plugs in (executes with state,
//! answers over HTTP, shows in OpenAPI, serves a console page, passes the conformance
//! harness) and adding it changed no shared file.

use std::path::{Path, PathBuf};
use std::time::Duration;

use cairn_crypto::{KeyPair, Suite};
use cairn_node::{NodeConfig, RunningNode};
use cairn_test_kit::{MODULES, NAME};
use serde_json::Value;

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64
}

async fn put(client: &reqwest::Client, base: &str, key: &KeyPair, chain_id: &str, name: &str, value: &str) -> (u16, Value) {
    let tx = cairn_test_kit::sign_put(key, chain_id, name, value, now_ms(), 60_000);
    let resp = client
        .post(format!("{base}/v1/transactions?wait=true"))
        .header("content-type", "application/json")
        .body(serde_json::to_string(&hex::encode(tx.encode())).unwrap())
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

async fn get(client: &reqwest::Client, url: &str) -> (u16, String, String) {
    let resp = client.get(url).send().await.unwrap();
    let ctype = resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    (resp.status().as_u16(), ctype, resp.text().await.unwrap())
}

/// Puts `receipted = yes` and answers the log index of its leaf.
async fn body_leaf(client: &reqwest::Client, base: &str, key: &KeyPair, chain_id: &str) -> u64 {
    let (status, body) = put(client, base, key, chain_id, "receipted", "yes").await;
    assert_eq!(status, 200, "{body}");
    body["results"][0]["first_leaf"].as_u64().expect("committed with its first leaf")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_module_from_its_own_crate_executes_answers_and_documents_itself() {
    let dir = tempfile::tempdir().unwrap();
    let (paths, _) = cairn_node::dev::init_dev(dir.path(), "127.0.0.1:0".parse().unwrap(), Suite::Ed25519Sha256).unwrap();
    let node = RunningNode::start_with(NodeConfig::load(&paths.config).unwrap(), MODULES).await.unwrap();
    let base = format!("http://{}", node.addr);
    let client = reqwest::Client::new();
    let key = cairn_node::keys::read_key(&paths.submitter_key).unwrap();
    let chain_id = node.ledger.genesis().chain_id.clone();

    // Executes, writes state.
    let (status, body) = put(&client, &base, &key, &chain_id, "greeting", "hello").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"][0]["status"], "committed");

    // Queried over HTTP, under its own prefix.
    let (status, _, text) = get(&client, &format!("{base}/v1/{NAME}/values/greeting")).await;
    assert_eq!(status, 200, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["value"], "hello");
    assert_eq!(v["height"], body["results"][0]["block_height"]);
    let (status, ctype, text) = get(&client, &format!("{base}/v1/{NAME}/values/absent")).await;
    assert_eq!((status, ctype.as_str()), (404, "application/problem+json"), "{text}");
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap()["code"], "testkit.unknown-key");

    // Its own refusal, decided on state, reaches the client with its stamped code and status.
    assert_eq!(put(&client, &base, &key, &chain_id, "door", "locked").await.0, 200);
    let (status, body) = put(&client, &base, &key, &chain_id, "door", "open").await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["code"], "testkit.locked");

    // Its state is proven offline with the trust file alone.
    let trust: cairn_types::genesis::TrustFile = serde_json::from_str(&get(&client, &format!("{base}/v1/trust")).await.2).unwrap();
    let url = format!("{base}/v1/state/proof?module={NAME}&key={}", hex::encode("greeting"));
    let mut receipt = String::new();
    for _ in 0..100 {
        let (status, _, text) = get(&client, &url).await;
        if status == 200 {
            receipt = text;
            break;
        }
        assert_eq!(status, 503, "{text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let verified = cairn_types::state_receipt::verify_state_receipt(&receipt, &trust, &cairn_node::module_state_view).expect("the state receipt verifies");
    let value = verified.value.clone().expect("the key has a value");
    assert_eq!(&value[8..], b"hello");
    // The module's own readable view travels in the receipt (the shipped binary's verifier does
    // not know the module, so it says it did not check the view).
    assert_eq!(verified.view["value"], "hello");
    assert!(!verified.view_checked);
    // A verifier that knows the module checks the view, and refuses one that lies.
    let testkit_view =
        |m: &str, k: &[u8], v: Option<&[u8]>| (m == "testkit").then(|| cairn_module::Module::state_view(&cairn_test_kit::Testkit, k, v)).flatten();
    assert!(cairn_types::state_receipt::verify_state_receipt(&receipt, &trust, &testkit_view).expect("verifies").view_checked);
    let mut lying: Value = serde_json::from_str(&receipt).unwrap();
    lying["view"]["value"] = "goodbye".into();
    assert!(matches!(
        cairn_types::state_receipt::verify_state_receipt(&lying.to_string(), &trust, &testkit_view),
        Err(cairn_types::state_receipt::StateVerifyError::ViewMismatch)
    ));

    // Its leaf has a receipt anyone verifies offline with the trust file; tampering is caught.
    let first_leaf = body_leaf(&client, &base, &key, &chain_id).await;
    let url = format!("{base}/v1/leaves/{first_leaf}/receipt");
    let mut leaf_receipt = String::new();
    for _ in 0..100 {
        let (status, _, text) = get(&client, &url).await;
        if status == 200 {
            leaf_receipt = text;
            break;
        }
        assert_eq!(status, 503, "{text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let v = cairn_types::receipt::verify_leaf_receipt(&leaf_receipt, &trust).expect("the leaf receipt verifies");
    assert_eq!((v.module.as_str(), v.kind, v.payload), (NAME, 1, cairn_test_kit::encode_put("receipted", "yes")));
    let original: Value = serde_json::from_str(&leaf_receipt).unwrap();
    let tampered = |edit: &dyn Fn(&mut Value)| {
        let mut r = original.clone();
        edit(&mut r);
        cairn_types::receipt::verify_leaf_receipt(&r.to_string(), &trust).expect_err("tampered receipt refused")
    };
    tampered(&|r| r["module"] = "evidence".into());
    tampered(&|r| r["kind"] = 2.into());
    tampered(&|r| r["tree_size"] = (r["tree_size"].as_u64().unwrap() + 1).into());
    tampered(&|r| {
        let mut leaf = hex::decode(r["leaf"].as_str().unwrap()).unwrap();
        *leaf.last_mut().unwrap() ^= 1;
        r["leaf"] = hex::encode(leaf).into();
    });
    tampered(&|r| r["extra"] = 1.into());
    // An evidence record's leaf (version 1) has its own receipt, not a leaf receipt.
    let deposit = cairn_module_evidence::cli::sign_deposit(
        &key,
        &chain_id,
        vec![cairn_module_evidence::wire::RecordInput {
            digest_alg: cairn_module_evidence::wire::DigestAlg::Sha256,
            digest: [3; 32],
            size: 1,
            media_type: "text/plain".into(),
            title: "t".into(),
            reference: None,
            metadata: Default::default(),
        }],
        now_ms() + 60_000,
    );
    let resp = client
        .post(format!("{base}/v1/transactions?wait=true"))
        .header("content-type", "application/json")
        .body(serde_json::to_string(&hex::encode(deposit.encode())).unwrap())
        .send()
        .await
        .unwrap();
    let answer: Value = resp.json().await.unwrap();
    let evidence_leaf = answer["results"][0]["first_leaf"].as_u64().expect("committed");
    let (status, _, text) = get(&client, &format!("{base}/v1/leaves/{evidence_leaf}/receipt")).await;
    assert_eq!(status, 400, "{text}");
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap()["code"], "not-a-module-leaf");
    assert_eq!(get(&client, &format!("{base}/v1/leaves/999999/receipt")).await.0, 404);
    let (status, ctype, text) = get(&client, &format!("{base}/v1/leaves/-1/receipt")).await;
    assert_eq!((status, ctype.as_str()), (400, "application/problem+json"), "{text}");

    // Shows in OpenAPI and in the module list, with its console page served.
    let doc: Value = serde_json::from_str(&get(&client, &format!("{base}/v1/openapi.json")).await.2).unwrap();
    assert!(doc["paths"]["/v1/testkit/values/{key}"]["get"].is_object());
    assert!(doc["components"]["schemas"]["TestkitValue"].is_object());
    assert!(doc["paths"]["/v1/evidence/{id}/receipt"].is_object(), "the shipped modules stay documented");
    let modules: Value = serde_json::from_str(&get(&client, &format!("{base}/v1/modules")).await.2).unwrap();
    let listed: Vec<&Value> = modules["modules"].as_array().unwrap().iter().filter(|m| m["name"] == NAME).collect();
    assert_eq!(listed.len(), 1, "{modules}");
    let page = listed[0]["console"].as_str().unwrap();
    let (status, ctype, text) = get(&client, &format!("{base}{page}")).await;
    assert_eq!(status, 200);
    assert!(ctype.starts_with("text/javascript"), "{ctype}");
    assert!(text.contains("export default"));
    assert_eq!(get(&client, &format!("{base}/console/modules/{NAME}/secret.txt")).await.0, 404);

    // The shipped module still answers on the same node.
    let (status, _, text) = get(&client, &format!("{base}/v1/evidence?digest={}", "00".repeat(32))).await;
    assert_eq!(status, 200, "{text}");
    node.shutdown().await.unwrap();
}

/// A module declares its routes' read policies: in `members` mode its public route stays
/// public, its members route needs a member's signature, and its parties route sees who the
/// node authenticated (the caller's organisation).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_module_declares_who_may_read_its_routes() {
    let dir = tempfile::tempdir().unwrap();
    let (paths, _) = cairn_node::dev::init_dev(dir.path(), "127.0.0.1:0".parse().unwrap(), Suite::Ed25519Sha256).unwrap();
    let mut config = NodeConfig::load(&paths.config).unwrap();
    config.access.mode = cairn_node::config::AccessMode::Members;
    let node = RunningNode::start_with(config, MODULES).await.unwrap();
    let base = format!("http://{}", node.addr);
    let client = reqwest::Client::new();
    let key = cairn_node::keys::read_key(&paths.submitter_key).unwrap();
    let signed = |path: &str| {
        let now_s = now_ms() / 1000;
        let h = cairn_access::httpsig::sign(&key, "GET", path, None, now_s);
        client.get(format!("{base}{path}")).header("signature-input", h.signature_input).header("signature", h.signature)
    };
    assert_eq!(get(&client, &format!("{base}/v1/{NAME}/about")).await.0, 200);
    assert_eq!(get(&client, &format!("{base}/v1/{NAME}/values/x")).await.0, 401);
    assert_eq!(get(&client, &format!("{base}/v1/{NAME}/mine")).await.0, 401);
    assert_eq!(signed(&format!("/v1/{NAME}/values/x")).send().await.unwrap().status().as_u16(), 404);
    let mine: Value = signed(&format!("/v1/{NAME}/mine")).send().await.unwrap().json().await.unwrap();
    assert_eq!(mine["organisation"], "dev-org");
    node.shutdown().await.unwrap();
}

#[test]
fn the_test_module_passes_the_conformance_harness() {
    use cairn_exec::conformance::{Sample, check};
    use serde_json::json;
    let member = KeyPair::from_secret_bytes(Suite::Ed25519Sha256, &[7; 32]).unwrap();
    let genesis = cairn_exec::conformance::genesis(&member, Default::default());
    let put = |key: &str, value: &str, refused| Sample { method: "put", args: json!({"key": key, "value": value}), refused };
    check(
        cairn_test_kit::module,
        genesis,
        &member,
        &[
            put("a", "1", None),
            put("a", "2", None),
            put("b", "locked", None),
            put("b", "x", Some("testkit.locked")),
            put("", "x", Some("testkit.empty-key")),
            Sample { method: "nope", args: json!({}), refused: Some("unknown-method") },
        ],
    );
}

/// Files under version control (or, without git, on disk), relative to the repository root.
fn repository_files(root: &Path) -> Vec<PathBuf> {
    if let Ok(out) = std::process::Command::new("git").arg("-C").arg(root).args(["ls-files", "-co", "--exclude-standard"]).output()
        && out.status.success()
    {
        return String::from_utf8_lossy(&out.stdout).lines().map(PathBuf::from).collect();
    }
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if matches!(name.to_str(), Some("target" | ".git" | "node_modules")) {
                continue;
            }
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.push(path.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out
}

#[test]
fn adding_the_test_module_changed_no_shared_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap();
    let files = repository_files(&root);
    assert!(files.iter().any(|f| f.starts_with("crates/node")), "the walk found the repository at {}", root.display());
    let mut naming = Vec::new();
    for f in &files {
        // The module's own crate, and tests that exercise it, may name it; nothing else may.
        if f.starts_with("crates/test-kit") || f.starts_with("tests") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(root.join(f)) else { continue };
        if text.to_lowercase().contains(NAME) {
            naming.push(f.display().to_string());
        }
    }
    assert!(naming.is_empty(), "shared files name the test module {NAME}: {naming:?}; a module must plug in without them");
}
