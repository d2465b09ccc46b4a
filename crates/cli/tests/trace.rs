//! Traceability end to end on a real node: the GS1 EPCIS 2.0 binding (capture jobs, single
//! events, queries, paging, live subscriptions), refusals that name the event and field, the
//! chain-wide uniqueness of event hash IDs, a farm-to-shelf trace, and event receipts checked
//! offline with `cairn verify --epcis`.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{DevNode, cairn, client, wait_for};
use serde_json::{Value, json};

const CONTEXT: &str = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld";

fn examples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/epcis/examples");
    let mut out = Vec::new();
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "jsonld") {
                out.push(p);
            }
        }
    }
    out.sort();
    assert!(out.len() >= 40, "the GS1 examples are in testdata/epcis/examples");
    out
}

fn post_json(url: &str, body: &Value, headers: &[(&str, &str)]) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut req = client().post(url).header("content-type", "application/json").body(body.to_string());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().unwrap();
    let status = resp.status().as_u16();
    let h = resp.headers().clone();
    (status, h, resp.json().unwrap_or(Value::Null))
}

fn get_json(url: &str) -> (u16, Value) {
    let resp = client().get(url).send().unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().unwrap_or(Value::Null))
}

/// Waits for a capture job to finish; its document.
fn finished_job(node: &DevNode, location: &str) -> Value {
    wait_for(Duration::from_secs(30), "the capture job to finish", || {
        let (s, v) = get_json(&format!("{}{location}", node.url));
        assert_eq!(s, 200, "{v}");
        (v["running"] == false).then_some(v)
    })
}

fn events_of(doc: &Value) -> Vec<Value> {
    let list = doc.pointer("/epcisBody/eventList").or_else(|| doc.pointer("/epcisBody/queryResults/resultsBody/eventList"));
    list.and_then(Value::as_array).cloned().unwrap_or_default()
}

fn hash_id(event: &Value, context: &Value) -> String {
    let mut e = event.as_object().unwrap().clone();
    e.entry("@context").or_insert(context.clone());
    let ns = cairn_epcis::hash::Namespaces::from_context(context);
    cairn_epcis::hash::hash_id_string(&cairn_epcis::hash::event_hash(&e, &ns).unwrap())
}

fn url_encode(s: &str) -> String {
    reqwest::Url::parse_with_params("http://x/", &[("v", s)]).unwrap().query().unwrap()[2..].to_string()
}

#[test]
fn every_gs1_example_is_captured_and_found_by_its_event_hash_id() {
    let tmp = tempfile::tempdir().unwrap();
    let node = DevNode::start(&tmp.path().join("data"), "ed25519-sha256");
    let mut expected = Vec::new();
    for path in examples() {
        let doc: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        // Several examples share events: `proceed` skips those recorded already.
        let (status, headers, body) = post_json(&format!("{}/epcis/capture", node.url), &doc, &[("GS1-Capture-Error-Behaviour", "proceed")]);
        assert_eq!(status, 202, "{}: {body}", path.display());
        assert_eq!(headers["gs1-epcis-version"], "2.0.0");
        let job = finished_job(&node, headers["location"].to_str().unwrap());
        for e in job["errors"].as_array().unwrap() {
            assert!(e["detail"].as_str().unwrap().contains("recorded already"), "{}: {e}", path.display());
        }
        for e in events_of(&doc) {
            expected.push((path.clone(), hash_id(&e, &doc["@context"]), e["eventID"].as_str().map(str::to_string)));
        }
    }
    for (path, id, event_id) in &expected {
        let (s, v) = get_json(&format!("{}/epcis/events/{}", node.url, url_encode(id)));
        if s == 404 {
            // Skipped: another example holds an event under the same eventID.
            let event_id = event_id.as_deref().unwrap_or_else(|| panic!("{} event {id} is missing: {v}", path.display()));
            assert_eq!(get_json(&format!("{}/epcis/events/{}", node.url, url_encode(event_id))).0, 200, "{} event {event_id}", path.display());
            continue;
        }
        assert_eq!(s, 200, "{} event {id}: {v}", path.display());
        assert!(v["recordTime"].is_string() && v["type"].is_string(), "{v}");
    }
    // Capturing a recorded event again is a 409 naming the first record.
    let first = &examples()[0];
    let doc: Value = serde_json::from_slice(&std::fs::read(first).unwrap()).unwrap();
    let (status, _, p) = post_json(&format!("{}/epcis/capture", node.url), &doc, &[]);
    assert_eq!(status, 409, "{p}");
    assert_eq!(p["type"], "epcisException:ResourceAlreadyExistsException");
    assert_eq!(p["code"], "trace.duplicate-event");
    assert!(p["firstRecord"]["leafIndex"].is_u64() && p["firstRecord"]["organisation"] == "dev-org", "{p}");
}

fn one_event() -> Value {
    json!({
        "@context": [CONTEXT],
        "type": "ObjectEvent",
        "eventTime": "2026-03-01T08:00:00.000+08:00",
        "eventTimeZoneOffset": "+08:00",
        "epcList": ["urn:epc:id:sgtin:0614141.107346.2017"],
        "action": "OBSERVE",
        "bizStep": "shipping",
        "disposition": "in_transit",
        "readPoint": {"id": "urn:epc:id:sgln:0614141.07346.1234"},
        "quantityList": [{"epcClass": "urn:epc:class:lgtin:0614141.107346.LOT1", "quantity": 12.5, "uom": "KGM"}]
    })
}

fn document(events: Vec<Value>) -> Value {
    json!({"@context": [CONTEXT], "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-03-01T00:00:00Z", "epcisBody": {"eventList": events}})
}

#[test]
fn malformed_documents_and_events_get_problems_naming_the_event_and_field() {
    let tmp = tempfile::tempdir().unwrap();
    let node = DevNode::start(&tmp.path().join("data"), "ed25519-sha256");
    let url = format!("{}/epcis/capture", node.url);
    let without = |field: &str| {
        let mut e = one_event();
        e.as_object_mut().unwrap().remove(field);
        e
    };
    let with = |field: &str, v: Value| {
        let mut e = one_event();
        e[field] = v;
        e
    };
    let mut bad_quantity = one_event();
    bad_quantity["quantityList"][0]["quantity"] = json!("twelve");
    let cases: Vec<(&str, Value, &str)> = vec![
        ("no eventTime", document(vec![one_event(), without("eventTime")]), "eventTime"),
        ("no action", document(vec![without("action")]), "action"),
        ("a bad bizStep", document(vec![with("bizStep", json!("teleporting"))]), "bizStep"),
        ("quantity as text", document(vec![one_event(), one_event(), bad_quantity]), "quantity"),
    ];
    for (what, doc, field) in cases {
        let (status, _, p) = post_json(&url, &doc, &[]);
        assert_eq!(status, 400, "{what}: {p}");
        assert_eq!(p["type"], "epcisException:ValidationException", "{what}: {p}");
        let expected_index = doc["epcisBody"]["eventList"].as_array().unwrap().len() - 1;
        assert_eq!(p["eventIndex"], expected_index, "{what}: {p}");
        assert!(p["field"].as_str().unwrap_or("").contains(field) || p["detail"].as_str().unwrap().contains(field), "{what}: {p}");
    }
    let mut no_context = document(vec![one_event()]);
    no_context.as_object_mut().unwrap().remove("@context");
    let (status, _, p) = post_json(&url, &no_context, &[]);
    assert_eq!((status, p["field"].as_str()), (400, Some("/@context")), "{p}");
    // Not JSON, the wrong media type, an unknown behaviour.
    let resp = client().post(&url).header("content-type", "application/json").body("{\"type\": ").send().unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let resp = client().post(&url).header("content-type", "text/plain").body(document(vec![one_event()]).to_string()).send().unwrap();
    assert_eq!(resp.status().as_u16(), 415);
    let (status, _, _) = post_json(&url, &document(vec![one_event()]), &[("GS1-Capture-Error-Behaviour", "maybe")]);
    assert_eq!(status, 400);
    // Nothing was captured by any of them.
    let (_, v) = get_json(&format!("{}/epcis/events", node.url));
    assert_eq!(events_of(&v).len(), 0, "{v}");
    // proceed: the good events go on, the bad one is named in the job.
    let (status, h, _) = post_json(&url, &document(vec![one_event(), without("action")]), &[("GS1-Capture-Error-Behaviour", "proceed")]);
    assert_eq!(status, 202);
    let job = finished_job(&node, h["location"].to_str().unwrap());
    assert_eq!(job["success"], false, "{job}");
    assert_eq!(job["errors"][0]["eventIndex"], 1, "{job}");
    assert_eq!(job["eventCount"], 1, "{job}");
}

#[test]
fn single_events_queries_pages_and_subscriptions_speak_the_binding() {
    use std::io::BufRead as _;
    let tmp = tempfile::tempdir().unwrap();
    let node = DevNode::start(&tmp.path().join("data"), "ed25519-sha256");
    let resp = client().request(reqwest::Method::OPTIONS, format!("{}/epcis/capture", node.url)).send().unwrap();
    assert_eq!(resp.status().as_u16(), 204);
    assert_eq!(resp.headers()["gs1-epcis-capture-limit"], "1000");
    assert!(resp.headers().contains_key("gs1-epcis-capture-file-size-limit"));

    // A live subscription to shipping events, opened before they exist.
    let sub = client().get(format!("{}/epcis/events?EQ_bizStep=shipping", node.url)).header("accept", "text/event-stream").send().unwrap();
    assert_eq!(sub.status().as_u16(), 200);
    let (tx, rx) = std::sync::mpsc::channel::<Value>();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(sub).lines() {
            let Ok(line) = line else { return };
            if let Some(d) = line.strip_prefix("data:")
                && tx.send(serde_json::from_str(d.trim()).unwrap()).is_err()
            {
                return;
            }
        }
    });

    let (status, h, body) = post_json(&format!("{}/epcis/events", node.url), &one_event(), &[]);
    assert_eq!(status, 201, "{body}");
    let location = h["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("/epcis/events/ni%3A%2F%2F%2Fsha-256"), "{location}");
    let (s, event) = get_json(&format!("{}{location}", node.url));
    assert_eq!(s, 200);
    assert_eq!(event["eventID"], body["eventID"]);
    let (status, _, p) = post_json(&format!("{}/epcis/events", node.url), &one_event(), &[]);
    assert_eq!((status, p["code"].as_str()), (409, Some("trace.duplicate-event")), "{p}");
    // An event with the same eventID and other content is refused too.
    let mut same_id = one_event();
    same_id["eventID"] = json!("urn:uuid:5a2c6a9e-3d2f-4b39-9d9e-aaaaaaaaaaaa");
    same_id["epcList"] = json!(["urn:epc:id:sgtin:0614141.107346.2999"]);
    assert_eq!(post_json(&format!("{}/epcis/events", node.url), &same_id, &[]).0, 201);
    same_id["bizStep"] = json!("receiving");
    let (status, _, p) = post_json(&format!("{}/epcis/events", node.url), &same_id, &[]);
    assert_eq!((status, p["code"].as_str()), (409, Some("trace.duplicate-event-id")), "{p}");

    let live = rx.recv_timeout(Duration::from_secs(10)).expect("the subscription hears the shipping event");
    assert_eq!(live["bizStep"], "shipping");

    // Ten more events, then queries: by EPC URN and by Digital Link alike, by class, paged.
    let more: Vec<Value> = (0..10)
        .map(|i| {
            let mut e = one_event();
            e["eventTime"] = json!(format!("2026-03-02T0{}:00:00.000Z", i % 10));
            e["epcList"] = json!([format!("urn:epc:id:sgtin:0614141.107346.{}", 3000 + i)]);
            e
        })
        .collect();
    let (status, h, _) = post_json(&format!("{}/epcis/capture", node.url), &document(more), &[]);
    assert_eq!(status, 202);
    assert_eq!(finished_job(&node, h["location"].to_str().unwrap())["success"], true);
    for epc in ["urn:epc:id:sgtin:0614141.107346.3004", "https://id.gs1.org/01/10614141073464/21/3004", "https://example.com/01/10614141073464/21/3004?x=1"] {
        let (s, v) = get_json(&format!("{}/epcis/events?MATCH_epc={}", node.url, url_encode(epc)));
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["type"], "EPCISQueryDocument");
        assert_eq!(events_of(&v).len(), 1, "{epc}: {v}");
    }
    let (_, v) =
        get_json(&format!("{}/epcis/events?MATCH_epcClass={}&GE_quantity=12&LT_quantity=13", node.url, url_encode("urn:epc:class:lgtin:0614141.107346.LOT1")));
    assert_eq!(events_of(&v).len(), 12, "{v}");
    let (_, v) = get_json(&format!("{}/epcis/events?GT_quantity=13", node.url));
    assert_eq!(events_of(&v).len(), 0, "{v}");
    // Pages of 5, newest event time first, through nextPageToken.
    let mut url = format!("{}/epcis/events?EQ_bizStep=shipping&orderBy=eventTime&perPage=5", node.url);
    let mut times = Vec::new();
    loop {
        let resp = client().get(&url).send().unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        let next = resp.headers().get("link").map(|l| l.to_str().unwrap().to_string());
        let v: Value = resp.json().unwrap();
        times.extend(events_of(&v).iter().map(|e| e["eventTime"].as_str().unwrap().to_string()));
        match next {
            Some(l) => url = format!("{}{}", node.url, &l[1..l.find('>').unwrap()]),
            None => break,
        }
    }
    assert_eq!(times.len(), 12, "{times:?}");
    let mut parsed: Vec<i64> = times.iter().map(|t| cairn_module_trace::prepare::parse_time_ms(t).unwrap()).collect();
    let sorted = {
        let mut s = parsed.clone();
        s.sort_by(|a, b| b.cmp(a));
        s
    };
    assert_eq!(parsed, sorted, "descending event time");
    parsed.dedup();
    let (s, v) = get_json(&format!("{}/epcis/events?eventCountLimit=3", node.url));
    assert_eq!((s, events_of(&v).len()), (200, 3));
    // A typo is refused, not a broader answer; a token of another query is refused.
    let (s, p) = get_json(&format!("{}/epcis/events?EQ_bizstep=shipping", node.url));
    assert_eq!((s, p["type"].as_str()), (400, Some("epcisException:QueryParameterException")), "{p}");
    let token = url.split("nextPageToken=").nth(1).map(str::to_string);
    if let Some(t) = token {
        let (s, _) = get_json(&format!("{}/epcis/events?EQ_bizStep=receiving&nextPageToken={t}", node.url));
        assert_eq!(s, 400);
    }
    // Named queries.
    let (s, _, _) = post_json(
        &format!("{}/epcis/queries", node.url),
        &json!({"name": "shipped-3004", "query": {"MATCH_epc": ["urn:epc:id:sgtin:0614141.107346.3004"]}}),
        &[],
    );
    assert_eq!(s, 201);
    let (s, v) = get_json(&format!("{}/epcis/queries/shipped-3004/events", node.url));
    assert_eq!((s, events_of(&v).len()), (200, 1), "{v}");
    assert_eq!(get_json(&format!("{}/epcis/queries/nope/events", node.url)).0, 404);
    // A named query's pages: its links carry only the paging.
    assert_eq!(post_json(&format!("{}/epcis/queries", node.url), &json!({"name": "shipping", "query": {"EQ_bizStep": "shipping"}}), &[]).0, 201);
    let mut url = format!("{}/epcis/queries/shipping/events?perPage=5", node.url);
    let mut seen = 0;
    loop {
        let resp = client().get(&url).send().unwrap();
        assert_eq!(resp.status().as_u16(), 200, "{url}");
        let next = resp.headers().get("link").map(|l| l.to_str().unwrap().to_string());
        seen += events_of(&resp.json().unwrap()).len();
        match next {
            Some(l) => url = format!("{}{}", node.url, &l[1..l.find('>').unwrap()]),
            None => break,
        }
    }
    assert_eq!(seen, 12);
    // Identifiers in GS1 Digital Link form on request.
    let resp = client()
        .get(format!("{}/epcis/events?MATCH_epc={}", node.url, url_encode("urn:epc:id:sgtin:0614141.107346.3004")))
        .header("GS1-EPC-Format", "Always_GS1_Digital_Link")
        .send()
        .unwrap();
    let v: Value = resp.json().unwrap();
    assert_eq!(events_of(&v)[0]["epcList"][0], "https://id.gs1.org/01/10614141073464/21/3004");
}

// ---- farm to shelf ----

const MILK: &str = "urn:epc:class:lgtin:4012345.011111.MILK-B1";
const PALLET: &str = "urn:epc:id:sscc:4012345.0000000001";

fn can(i: u32) -> String {
    format!("urn:epc:id:sgtin:4012345.022222.{i}")
}

fn ev(ty: &str, day: u32, fields: Value) -> Value {
    let mut e = json!({"type": ty, "eventTime": format!("2026-04-{day:02}T09:00:00.000+08:00"), "eventTimeZoneOffset": "+08:00"});
    e.as_object_mut().unwrap().extend(fields.as_object().unwrap().clone());
    e
}

/// The milk-powder chain: a farm's milk batch, made into three cans, packed on a pallet,
/// shipped, received, unpacked, one can sold.
fn farm_to_shelf() -> Vec<Vec<Value>> {
    let milk = json!([{"epcClass": MILK, "quantity": 1000, "uom": "LTR"}]);
    let cans: Vec<String> = (1..=3).map(can).collect();
    vec![
        // The farm.
        vec![
            ev(
                "ObjectEvent",
                1,
                json!({"action": "ADD", "bizStep": "commissioning", "quantityList": milk, "bizLocation": {"id": "urn:epc:id:sgln:4012345.00001.0"}}),
            ),
            ev(
                "ObjectEvent",
                2,
                json!({"action": "OBSERVE", "bizStep": "shipping", "quantityList": milk, "readPoint": {"id": "urn:epc:id:sgln:4012345.00001.0"}}),
            ),
        ],
        // The processor.
        vec![
            ev(
                "ObjectEvent",
                3,
                json!({"action": "OBSERVE", "bizStep": "receiving", "quantityList": milk, "readPoint": {"id": "urn:epc:id:sgln:4012345.00002.0"}}),
            ),
            ev(
                "TransformationEvent",
                4,
                json!({"bizStep": "commissioning", "inputQuantityList": milk, "outputEPCList": cans, "transformationID": "urn:epc:id:gdti:4012345.00002.T1"}),
            ),
            ev("AggregationEvent", 5, json!({"action": "ADD", "bizStep": "packing", "parentID": PALLET, "childEPCs": cans})),
            ev("ObjectEvent", 6, json!({"action": "OBSERVE", "bizStep": "shipping", "epcList": [PALLET]})),
        ],
        // The distributor.
        vec![
            ev("ObjectEvent", 7, json!({"action": "OBSERVE", "bizStep": "receiving", "epcList": [PALLET]})),
            ev("AggregationEvent", 8, json!({"action": "DELETE", "bizStep": "unpacking", "parentID": PALLET, "childEPCs": cans})),
        ],
        // The retailer.
        vec![ev("ObjectEvent", 9, json!({"action": "OBSERVE", "bizStep": "retail_selling", "epcList": [can(2)]}))],
    ]
}

fn trace_days(node: &DevNode, epc: &str, direction: &str) -> (Vec<u32>, Value) {
    let (s, v) = get_json(&format!("{}/epcis/trace?epc={}&direction={direction}", node.url, url_encode(epc)));
    assert_eq!(s, 200, "{v}");
    let mut days: Vec<u32> = v["events"].as_array().unwrap().iter().map(|e| e["event"]["eventTime"].as_str().unwrap()[8..10].parse().unwrap()).collect();
    days.sort();
    (days, v)
}

#[test]
fn milk_powder_is_traced_back_and_forward_and_each_receipt_verifies_offline() {
    let tmp = tempfile::tempdir().unwrap();
    let node = DevNode::start(&tmp.path().join("data"), "ed25519-sha256");
    let key = tmp.path().join("data/keys/submitter.key");
    let mut files = Vec::new();
    for (i, events) in farm_to_shelf().into_iter().enumerate() {
        let f = tmp.path().join(format!("party-{i}.jsonld"));
        std::fs::write(&f, document(events).to_string()).unwrap();
        files.push(f);
    }
    // Captured by the CLI, signed with the member's own key.
    let mut args = vec!["trace", "capture", "--node", &node.url, "--key", key.to_str().unwrap()];
    args.extend(files.iter().map(|f| f.to_str().unwrap()));
    let out = cairn(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("captured 9 of 9"), "{}", String::from_utf8_lossy(&out.stdout));

    // Back from the can on the shelf: every event, down to the farm's commissioning.
    let (days, back) = trace_days(&node, &can(2), "back");
    assert_eq!(days, (1..=9).collect::<Vec<_>>(), "{back}");
    // The graph is one history: every event on an edge, every edge from earlier to later.
    let time_of =
        |leaf: &Value| back["events"].as_array().unwrap().iter().find(|e| e["leafIndex"] == *leaf).unwrap()["eventTime"].as_str().unwrap().to_string();
    let edges = back["edges"].as_array().unwrap();
    for e in back["events"].as_array().unwrap() {
        assert!(edges.iter().any(|x| x["from"] == e["leafIndex"] || x["to"] == e["leafIndex"]), "leaf {} is on no edge: {edges:?}", e["leafIndex"]);
    }
    assert!(edges.iter().all(|x| time_of(&x["from"]) <= time_of(&x["to"])), "{edges:?}");
    // Forward from the farm's batch: to the shelf, but not the other cans' fates after unpacking.
    let (days, _) = trace_days(&node, MILK, "forward");
    assert_eq!(days, (1..=9).collect::<Vec<_>>());
    // Back from the pallet's receipt: no farm milk after the pallet was unpacked.
    let (days, _) = trace_days(&node, &can(1), "back");
    assert_eq!(days, (1..=8).collect::<Vec<_>>(), "can 1 was not sold");
    let out = cairn(&["trace", "back", "--node", &node.url, &can(2)]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("9 events") && text.contains("commissioning") && text.contains("retail_selling"), "{text}");

    // Each event's receipt checks offline against its event document; a changed one does not.
    let trust = node.trust_path();
    let sold = back["events"].as_array().unwrap().iter().find(|e| e["bizStep"] == "retail_selling").unwrap().clone();
    let receipt = tmp.path().join("receipt.json");
    std::fs::write(&receipt, sold["receipt"].to_string()).unwrap();
    let event_file = tmp.path().join("sold.json");
    let mut event = farm_to_shelf()[3][0].clone();
    event["@context"] = json!([CONTEXT]);
    std::fs::write(&event_file, event.to_string()).unwrap();
    let out = cairn(&["verify", "--epcis", event_file.to_str().unwrap(), "--receipt", receipt.to_str().unwrap(), "--trust", trust.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.starts_with("VALID") && text.contains("dev-org"), "{text}");
    event["epcList"] = json!([can(3)]);
    std::fs::write(&event_file, event.to_string()).unwrap();
    let out = cairn(&["verify", "--epcis", event_file.to_str().unwrap(), "--receipt", receipt.to_str().unwrap(), "--trust", trust.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("INVALID"), "{}", String::from_utf8_lossy(&out.stdout));
    // The state says when the event was first recorded, provably.
    let (s, proof) = get_json(&format!("{}/v1/trace/state?event={}", node.url, url_encode(sold["eventHashID"].as_str().unwrap())));
    assert_eq!(s, 200, "{proof}");
    let proof_file = tmp.path().join("state.json");
    std::fs::write(&proof_file, proof.to_string()).unwrap();
    let out = cairn(&["verify", "--state-proof", proof_file.to_str().unwrap(), "--trust", trust.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}
