use serde_json::json;

use super::*;

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn pre(v: Value) -> Result<String, HashError> {
    pre_hash_string(&obj(v), &Namespaces::default())
}

#[test]
fn namespaces_from_context_shapes() {
    let ns = Namespaces::from_context(&json!([
        "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
        {"example": "https://ns.example.com/epcis/", "@vocab": "https://x/", "@version": 1.1, "id": "@id"},
        {"term": {"@id": "example:term"}},
        {"example": "https://override.example.com/"}
    ]));
    assert_eq!(ns.0.len(), 1);
    assert_eq!(ns.resolve("example"), Some("https://override.example.com/"));
    assert_eq!(ns.resolve("gs1"), Some("https://gs1.org/voc/"), "standard prefix");
    assert_eq!(ns.resolve("nope"), None);
    assert_eq!(Namespaces::from_context(&json!("https://remote")), Namespaces::default());
    assert_eq!(Namespaces::from_context(&json!({"a": "urn:a:"})).resolve("a"), Some("urn:a:"));
}

#[test]
fn hash_id_round_trip() {
    let hash = [0xabu8; 32];
    let id = hash_id_string(&hash);
    assert_eq!(id, format!("ni:///sha-256;{}?ver=CBV2.0", "ab".repeat(32)));
    assert_eq!(parse_hash_id(&id), Some(hash));
    for bad in ["", "ni:///sha-256;ab?ver=CBV2.0", &id.to_uppercase(), &id.replace("CBV2.0", "CBV2.1"), &id.replace("sha-256", "sha3-256"), &format!("{id} ")] {
        assert_eq!(parse_hash_id(bad), None, "{bad}");
    }
}

#[test]
fn a_minimal_event() {
    let event = json!({
        "type": "ObjectEvent",
        "eventTime": "2020-03-04T11:00:30+01:00",
        "eventTimeZoneOffset": "+01:00",
        "epcList": ["urn:epc:id:sgtin:0614141.107346.2018", " urn:epc:id:sgtin:0614141.107346.2017 "],
        "action": "OBSERVE",
        "bizStep": "shipping",
        "disposition": "urn:epcglobal:cbv:disp:in_transit",
        "eventID": "ni:///sha-256;00?ver=CBV2.0",
        "recordTime": "2020-03-04T11:00:31+01:00",
        "errorDeclaration": {"declarationTime": "2020-03-05T00:00:00Z", "reason": "incorrect_data"},
        "rdfs:comment": "not hashed",
    });
    assert_eq!(
        pre(event).as_deref(),
        Ok("eventType=ObjectEventeventTime=2020-03-04T10:00:30.000ZeventTimeZoneOffset=+01:00\
            epcListepc=https://id.gs1.org/01/10614141073464/21/2017epc=https://id.gs1.org/01/10614141073464/21/2018\
            action=OBSERVEbizStep=https://ref.gs1.org/cbv/BizStep-shippingdisposition=https://ref.gs1.org/cbv/Disp-in_transit")
    );
}

#[test]
fn extensions_and_typed_lists_sort_after_the_order() {
    let ns = Namespaces::from_context(&json!({"ex": "https://ns.example.com/"}));
    let event = obj(json!({
        "type": "ObjectEvent",
        "ex:z": {"ex:b": 2.50, "ex:a": true, "ex:itemList": ["y", "x"], "ex:empty": ""},
        "https://abs.example.com/v/k": "1",
        "sourceList": [{"source": "urn:epc:id:pgln:4012345.00000", "type": "owning_party", "ex:note": "n"}],
        "bizTransactionList": [{"bizTransaction": "urn:x:2"}, {"type": "po", "bizTransaction": "urn:x:1"}],
        "ilmd": {"cbvmda:lotNumber": "L1"},
        "readPoint": {"ex:extra": "e", "id": "urn:epc:id:sgln:4012345.00011.0"},
    }));
    let got = pre_hash_string(&event, &ns);
    assert_eq!(
        got.as_deref(),
        Ok("eventType=ObjectEventreadPointid=https://id.gs1.org/414/4012345000115{https://ns.example.com/}extra=e\
            bizTransactionListbizTransaction=urn:x:2type=https://ref.gs1.org/cbv/BTT-pobizTransaction=urn:x:1\
            ilmd{urn:epcglobal:cbv:mda:}lotNumber=L1\
            sourceListtype=https://ref.gs1.org/cbv/SDT-owning_partysource=https://id.gs1.org/417/4012345000009{https://ns.example.com/}note=n\
            {https://abs.example.com/v/}k=1\
            {https://ns.example.com/}z{https://ns.example.com/}a=true{https://ns.example.com/}b=2.5{https://ns.example.com/}empty\
            {https://ns.example.com/}itemList{https://ns.example.com/}item=x{https://ns.example.com/}item=y")
    );
}

#[test]
fn event_context_adds_prefixes() {
    let event = obj(json!({"@context": {"ex": "https://e/"}, "type": "ObjectEvent", "ex:f": "v"}));
    assert_eq!(pre_hash_string(&event, &Namespaces::default()).as_deref(), Ok("eventType=ObjectEvent{https://e/}f=v"));
}

#[test]
fn ignored_fields_are_left_out() {
    let ns = Namespaces::from_context(&json!({"repo": "https://repo/"}));
    let event = obj(json!({"type": "ObjectEvent", "repo:hash": "x", "action": "ADD"}));
    assert_eq!(pre_hash_string_ignoring(&event, &ns, &["repo:hash"]).as_deref(), Ok("eventType=ObjectEventaction=ADD"));
    assert_eq!(pre_hash_string(&event, &ns).as_deref(), Ok("eventType=ObjectEventaction=ADD{https://repo/}hash=x"));
}

#[test]
fn errors_name_the_field() {
    assert_eq!(pre(json!({"action": "ADD"})), Err(HashError::MissingField("type")));
    assert!(matches!(pre(json!({"type": 5})), Err(HashError::WrongType { field, .. }) if field == "type"));
    let bad_time = pre(json!({"type": "ObjectEvent", "eventTime": "yesterday"}));
    assert_eq!(bad_time, Err(HashError::BadTime { field: "eventTime".into(), value: "yesterday".into() }));
    let nested = pre(json!({"type": "ObjectEvent", "sensorElementList": [{"sensorMetadata": {"time": 12}}]}));
    assert!(matches!(nested, Err(HashError::BadTime { field, .. }) if field == "time"));
    assert_eq!(pre(json!({"type": "ObjectEvent", "foo:bar": 1})), Err(HashError::UnknownPrefix("foo:bar".into())));
    let message = HashError::BadTime { field: "eventTime".into(), value: "x".into() }.to_string();
    assert!(message.contains("eventTime"), "{message}");
}

#[test]
fn deep_nesting_is_refused() {
    let mut value = json!("leaf");
    for _ in 0..MAX_DEPTH + 5 {
        value = json!({ "ex:n": value });
    }
    let ns = Namespaces::from_context(&json!({"ex": "https://ex/"}));
    let result = pre_hash_string(&obj(json!({"type": "ObjectEvent", "ex:top": value})), &ns);
    assert!(matches!(result, Err(HashError::TooDeep { limit: MAX_DEPTH, .. })), "{result:?}");
    let mut list = json!(1);
    for _ in 0..MAX_DEPTH + 5 {
        list = json!([list]);
    }
    assert!(matches!(pre(json!({"type": "ObjectEvent", "epcList": list})), Err(HashError::TooDeep { .. })));
}

#[test]
fn document_events_shapes() {
    let plain = json!({"epcisBody": {"eventList": [{"type": "ObjectEvent"}]}});
    assert_eq!(document_events(&plain).map(|e| e.len()), Ok(1));
    let query = json!({"epcisBody": {"queryResults": {"resultsBody": {"eventList": [{"type": "A"}, {"type": "B"}]}}}});
    assert_eq!(document_events(&query).map(|e| e.len()), Ok(2));
    let single = json!({"epcisBody": {"event": {"type": "ObjectEvent"}}});
    assert_eq!(document_events(&single).map(|e| e.len()), Ok(1));
    assert_eq!(document_events(&json!([])), Err(HashError::NotAnObject("the EPCIS document")));
    assert_eq!(document_events(&json!({"epcisBody": {}})), Err(HashError::NoEventList));
    assert!(document_events(&json!({"epcisBody": {"eventList": [1]}})).is_err());
}

/// xorshift: deterministic pseudo-random events for the no-panic check.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn value(&mut self, depth: usize) -> Value {
        const KEYS: &[&str] = &[
            "type",
            "epcList",
            "eventTime",
            "time",
            "readPoint",
            "id",
            "ex:a",
            "sensorReport",
            "sensorElementList",
            "bizTransactionList",
            "xList",
            "quantityList",
            "value",
            "@context",
            "foo:bar",
            "urn:x:y",
        ];
        const STRINGS: &[&str] = &[
            "",
            " ",
            "shipping",
            "1.50",
            "-0",
            "1e400",
            "urn:epc:id:sgtin:0614141.107346.2017",
            "https://x.org/01/09520123456788",
            "2020-01-01T00:00:00Z",
            "ex:y",
            "\u{0}é",
            "9999-12-31T23:59:59-14:00",
        ];
        let pick = |n: u64, items: &[&'static str]| items.get(n as usize % items.len()).copied().unwrap_or("");
        match (self.next() % 7, depth) {
            (0, d) if d < 40 => Value::Array((0..self.next() % 4).map(|_| self.value(d + 1)).collect()),
            (1 | 2, d) if d < 40 => Value::Object((0..self.next() % 5).map(|_| (pick(self.next(), KEYS).to_owned(), self.value(d + 1))).collect()),
            (3, _) => json!(self.next() % 1000),
            (4, _) => json!(self.next().is_multiple_of(2)),
            (5, _) => Value::Null,
            _ => json!(pick(self.next(), STRINGS)),
        }
    }
}

#[test]
fn hostile_events_never_panic() {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let ns = Namespaces::from_context(&json!({"ex": "https://ex/"}));
    for _ in 0..5_000 {
        let mut event = match rng.value(0) {
            Value::Object(m) => m,
            other => Map::from_iter([("x".to_owned(), other)]),
        };
        event.insert("type".into(), json!("ObjectEvent"));
        let _ = event_hash(&event, &ns);
    }
}
