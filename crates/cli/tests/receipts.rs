//! End to end from the CLI: deposit files to a real `cairn dev`, get receipts, verify them
//! offline; every single flipped byte of a receipt or of the file makes it INVALID.

mod common;

use cairn_module_evidence::receipt::verify_receipt;
use cairn_types::genesis::TrustFile;
use common::*;

fn deposit_and_verify(suite: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let node = DevNode::start(&tmp.path().join("data"), suite);
    let files = tmp.path().join("files");
    std::fs::create_dir_all(&files).unwrap();
    let a = files.join("contract.pdf");
    let b = files.join("photo.jpg");
    std::fs::write(&a, b"%PDF-1.7 a signed contract, scanned").unwrap();
    std::fs::write(&b, vec![0xffu8; 70_000]).unwrap();
    let out = tmp.path().join("receipts");
    let key = node.dir.join("keys/submitter.key");
    let r = cairn(&[
        "evidence",
        "submit",
        "--node",
        &node.url,
        "--key",
        key.to_str().unwrap(),
        "--wait",
        "--reference",
        "(2026) case 42",
        "--out",
        out.to_str().unwrap(),
        a.to_str().unwrap(),
        b.to_str().unwrap(),
    ]);
    assert!(r.status.success(), "submit failed: {}", String::from_utf8_lossy(&r.stderr));

    let trust = node.trust_path();
    // The exported trust file equals the one written at creation.
    let exported = cairn(&["trust", "export", "--node", &node.url]);
    assert!(exported.status.success());
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&exported.stdout).unwrap(),
        serde_json::from_slice::<serde_json::Value>(&std::fs::read(&trust).unwrap()).unwrap()
    );

    for (file, name) in [(&a, "contract.pdf"), (&b, "photo.jpg")] {
        for ext in ["receipt.json", "tlog-proof"] {
            let receipt = out.join(format!("{name}.{ext}"));
            let v = cairn(&["verify", "--receipt", receipt.to_str().unwrap(), "--trust", trust.to_str().unwrap(), "--file", file.to_str().unwrap()]);
            let text = String::from_utf8_lossy(&v.stdout);
            assert_eq!(v.status.code(), Some(0), "{text}");
            assert!(text.starts_with("VALID"), "{text}");
        }
    }
    // The other file does not match the first receipt: INVALID, exit 1, with the reason.
    let receipt = out.join("contract.pdf.receipt.json");
    let v = cairn(&["verify", "--receipt", receipt.to_str().unwrap(), "--trust", trust.to_str().unwrap(), "--file", b.to_str().unwrap()]);
    assert_eq!(v.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&v.stdout).contains("INVALID: the file's"), "{}", String::from_utf8_lossy(&v.stdout));

    // Every flipped byte, in the JSON receipt, the tlog-proof and the file, is caught.
    let trust_file = TrustFile::from_json(&std::fs::read(&trust).unwrap()).unwrap();
    let data = std::fs::read(&a).unwrap();
    for ext in ["receipt.json", "tlog-proof"] {
        let text = std::fs::read(out.join(format!("contract.pdf.{ext}"))).unwrap();
        verify_receipt(std::str::from_utf8(&text).unwrap(), &trust_file, Some(&data)).unwrap();
        for i in 0..text.len() {
            for bit in [0x01u8, 0x20] {
                let mut t = text.clone();
                t[i] ^= bit;
                let Ok(s) = std::str::from_utf8(&t) else { continue }; // not text: the CLI says INVALID
                assert!(
                    verify_receipt(s, &trust_file, Some(&data)).is_err(),
                    "{ext}: flipping bit {bit:#x} of byte {i} ({:?}) still verifies",
                    text[i] as char
                );
            }
        }
    }
    for i in 0..data.len() {
        let mut d = data.clone();
        d[i] ^= 0x01;
        let text = std::fs::read_to_string(out.join("contract.pdf.receipt.json")).unwrap();
        assert!(verify_receipt(&text, &trust_file, Some(&d)).is_err(), "file byte {i}");
    }

    // A receipt checked against another chain's trust file is INVALID.
    let other = tempfile::tempdir().unwrap();
    let other_node = DevNode::start(&other.path().join("data"), suite);
    let v = cairn(&["verify", "--receipt", receipt.to_str().unwrap(), "--trust", other_node.trust_path().to_str().unwrap()]);
    assert_eq!(v.status.code(), Some(1));
}

#[test]
fn ed25519_receipts_verify_offline_and_catch_every_flip() {
    deposit_and_verify("ed25519-sha256");
}

#[test]
fn sm2_receipts_verify_offline_and_catch_every_flip() {
    deposit_and_verify("sm2-sm3");
}
