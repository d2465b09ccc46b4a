use super::*;

fn dl(urn: &str) -> Option<String> {
    urn_to_digital_link(urn)
}

#[test]
fn check_digits() {
    assert_eq!(check_digit("1061414107346"), Some('4'));
    assert_eq!(check_digit("04012345000000333"), Some('8'));
    assert_eq!(check_digit("061414107346"), Some('7'));
    assert_eq!(check_digit("0000000000000"), Some('0'));
    assert_eq!(check_digit(""), None);
    assert_eq!(check_digit("12a4"), None);
}

#[test]
fn brief_examples() {
    assert_eq!(dl("urn:epc:id:sgtin:0614141.107346.2017").as_deref(), Some("https://id.gs1.org/01/10614141073464/21/2017"));
    assert_eq!(dl("urn:epc:id:sscc:4012345.0000000333").as_deref(), Some("https://id.gs1.org/00/040123450000003338"));
    assert_eq!(dl("urn:epc:id:sgln:0614141.07346.1234").as_deref(), Some("https://id.gs1.org/414/0614141073467/254/1234"));
    assert_eq!(dl("urn:epc:id:sgln:0614141.07346.0").as_deref(), Some("https://id.gs1.org/414/0614141073467"));
}

#[test]
fn every_pure_identity_scheme() {
    for (urn, want) in [
        ("urn:epc:id:sgtin:4012345.011111.98%22", "https://id.gs1.org/01/04012345111118/21/98%22"),
        ("urn:epc:id:sgtin:415056789012.0.987654", "https://id.gs1.org/01/04150567890128/21/987654"),
        ("urn:epc:id:sgtin:0614141.812345.6789%2F%26%25%22!%3F()", "https://id.gs1.org/01/80614141123458/21/6789%2F%26%25%22%21%3F%28%29"),
        ("urn:epc:id:sgtin:0614141.812345.a.b", "https://id.gs1.org/01/80614141123458/21/a.b"),
        ("urn:epc:id:sscc:4012345.3111111111", "https://id.gs1.org/00/340123451111111111"),
        ("urn:epc:id:sscc:4012345.0000000011", "https://id.gs1.org/00/040123450000000115"),
        ("urn:epc:id:sgln:4012345.00005.122", "https://id.gs1.org/414/4012345000054/254/122"),
        ("urn:epc:id:sgln:4012345.00005.0", "https://id.gs1.org/414/4012345000054"),
        ("urn:epc:id:grai:4012345.00022.334455", "https://id.gs1.org/8003/04012345000221334455"),
        ("urn:epc:id:giai:4012345.ABC345", "https://id.gs1.org/8004/4012345ABC345"),
        ("urn:epc:id:gsrn:4012345.0000006765", "https://id.gs1.org/8018/401234500000067657"),
        ("urn:epc:id:gsrn:4012345.9876540000", "https://id.gs1.org/8018/401234598765400000"),
        ("urn:epc:id:gsrnp:4012345.0000000007", "https://id.gs1.org/8017/401234500000000074"),
        ("urn:epc:id:gsrnp:4012345.0000098765", "https://id.gs1.org/8017/401234500000987658"),
        ("urn:epc:id:gdti:4012345.00009.PO-4711", "https://id.gs1.org/253/4012345000092PO-4711"),
        ("urn:epc:id:gdti:987659999999..9", "https://id.gs1.org/253/98765999999929"),
        ("urn:epc:id:cpi:0614141.11111111111111-A%23%2F.1234", "https://id.gs1.org/8010/061414111111111111111-A%23%2F/8011/1234"),
        ("urn:epc:id:sgcn:4012345.99999.44", "https://id.gs1.org/255/401234599999044"),
        ("urn:epc:id:ginc:0614141.xyz47%2F11", "https://id.gs1.org/401/0614141xyz47%2F11"),
        ("urn:epc:id:gsin:4012345.222333444", "https://id.gs1.org/402/40123452223334442"),
        ("urn:epc:id:gsin:4012345.999987654", "https://id.gs1.org/402/40123459999876541"),
        ("urn:epc:id:itip:4012345.011111.01.02.987", "https://id.gs1.org/8006/040123451111180102/21/987"),
        ("urn:epc:id:upui:1234567.098765.51qIgY)%3C%26Jp3*j7'SDB", "https://id.gs1.org/01/01234567987651/235/51qIgY%29%3C%26Jp3%2Aj7'SDB"),
        ("urn:epc:id:pgln:4000001.00000", "https://id.gs1.org/417/4000001000005"),
        ("urn:epc:id:pgln:999999999999.", "https://id.gs1.org/417/9999999999994"),
    ] {
        assert_eq!(dl(urn).as_deref(), Some(want), "{urn}");
    }
}

#[test]
fn class_and_pattern_urns() {
    for (urn, want) in [
        ("urn:epc:class:lgtin:4012345.012345.Lot987", "https://id.gs1.org/01/04012345123456/10/Lot987"),
        ("urn:epc:class:lgtin:4054739.099914.20160711", "https://id.gs1.org/01/04054739999148/10/20160711"),
        ("urn:epc:idpat:sgtin:4012345.012345.*", "https://id.gs1.org/01/04012345123456"),
        ("urn:epc:idpat:upui:4012345.012345.*", "https://id.gs1.org/01/04012345123456"),
        ("urn:epc:idpat:grai:4012345.99999.*", "https://id.gs1.org/8003/04012345999990"),
        ("urn:epc:idpat:gdti:4012345.11111.*", "https://id.gs1.org/253/4012345111118"),
        ("urn:epc:idpat:sgcn:4012345.22222.*", "https://id.gs1.org/255/4012345222227"),
        ("urn:epc:idpat:cpi:4012345.AB12.*", "https://id.gs1.org/8010/4012345AB12"),
        ("urn:epc:idpat:itip:4012345.012345.01.02.*", "https://id.gs1.org/8006/040123451234560102"),
    ] {
        assert_eq!(dl(urn).as_deref(), Some(want), "{urn}");
    }
}

#[test]
fn bad_urns_give_none() {
    for urn in [
        "",
        "urn:epc:id:",
        "urn:epc:id:sgtin:",
        "urn:epc:id:sgtin:0614141.107346",
        "urn:epc:id:sgtin:0614141.10734.2017",
        "urn:epc:id:sgtin:06141.1073466.2017",
        "urn:epc:id:sgtin:0614141.107346.",
        "urn:epc:id:sgtin:0614141.107346.123456789012345678901",
        "urn:epc:id:sgtin:0614141.107346.a/b",
        "urn:epc:id:sgtin:0614141.107346.a%2",
        "urn:epc:id:sgtin:0614141.107346.a%zz",
        "urn:epc:id:sgtin:0614141.107346.a%20b",
        "urn:epc:id:sgtin:0614141.107346.é",
        "urn:epc:id:sgtin:061414a.107346.1",
        "urn:epc:id:sscc:4012345.000000033",
        "urn:epc:id:sscc:4012345.0000000333.1",
        "urn:epc:id:sgln:0614141.07346",
        "urn:epc:id:grai:4012345.00022.",
        "urn:epc:id:giai:4012345.",
        "urn:epc:id:giai:4012345.12345678901234567890123a",
        "urn:epc:id:cpi:0614141.abc.1234",
        "urn:epc:id:cpi:0614141.ABC.12a",
        "urn:epc:id:sgcn:4012345.99999.",
        "urn:epc:id:itip:4012345.011111.1.02.987",
        "urn:epc:id:bic:CSQU3054383",
        "urn:epc:id:gid:95100000.12345.400",
        "urn:epc:idpat:sgtin:4012345.*.*",
        "urn:epc:idpat:sgtin:4012345.012345.12",
        "urn:epc:idpat:sscc:4012345.*",
        "urn:epc:class:lgtin:4012345.012345.",
        "URN:EPC:ID:SGTIN:0614141.107346.2017",
        "urn:epc:id:sgtin:٠٦١٤١٤١.107346.2017",
    ] {
        assert_eq!(dl(urn), None, "{urn}");
    }
}

#[test]
fn digital_links_are_canonicalised() {
    for (uri, want) in [
        ("https://example.com/01/09520123456788/21/12345", "https://id.gs1.org/01/09520123456788/21/12345"),
        ("https://id.gs1.de/01/04012345999990/21/XYZ-1234", "https://id.gs1.org/01/04012345999990/21/XYZ-1234"),
        ("https://id.gs1.org/gtin/09780345418913", "https://id.gs1.org/01/09780345418913"),
        ("https://example.com/gtin/09780345418913/21/765tz?abc=211121", "https://id.gs1.org/01/09780345418913/21/765tz"),
        ("http://example.de/gtin-8/01/97803111", "https://id.gs1.org/01/00000097803111"),
        ("http://us-company-with-UPC.com/01/001122334455", "https://id.gs1.org/01/00001122334455"),
        ("http://us-company-with-UPC.com/01/001122334455/ser/GHB", "https://id.gs1.org/01/00001122334455/21/GHB"),
        ("https://ean-13.de/gtin/4012345123456/ser/ABC524", "https://id.gs1.org/01/04012345123456/21/ABC524"),
        ("http://id.gs1.org/gtin/9780345418913", "https://id.gs1.org/01/09780345418913"),
        ("https://id.gs1.org/gtin/9780345418913/cpv/344/lot/1223/ser/765tz", "https://id.gs1.org/01/09780345418913/21/765tz"),
        ("https://id.gs1.org/gtin/9780345418913/cpv/344", "https://id.gs1.org/01/09780345418913"),
        ("http://example.de/01/040123451234/cpv/344/lot/ABD", "https://id.gs1.org/01/00040123451234/10/ABD"),
        ("https://id.gs1.org/01/9780345418913/22/344/10/1223/21/765tz", "https://id.gs1.org/01/09780345418913/21/765tz"),
        ("https://id.gs1.org/itip/123456789101100190/cpv/ABCD", "https://id.gs1.org/8006/123456789101100190"),
        ("https://fashion-corp.com/8006/040123451234560102/22/AB/21/443322", "https://id.gs1.org/8006/040123451234560102/21/443322"),
        ("https://id.gs1.org/8006/040123451234560102/22/ABCD/10/XYZ", "https://id.gs1.org/8006/040123451234560102/10/XYZ"),
        ("https://gs1.test.example.org/01/9780345418913/10/1223", "https://id.gs1.org/01/09780345418913/10/1223"),
        ("https://example.org/01/9780345418913/21/765tz?11=221109#x", "https://id.gs1.org/01/09780345418913/21/765tz"),
        ("https://example.org/01/9780345418913/21/765tz/", "https://id.gs1.org/01/09780345418913/21/765tz"),
        ("https://example.org/a/b/01/9780345418913/21/a%2Fb!", "https://id.gs1.org/01/09780345418913/21/a%2Fb%21"),
        ("https://id.gs1.org/00/340123453111111115", "https://id.gs1.org/00/340123453111111115"),
        ("https://example.co.uk/party/4226350800008", "https://id.gs1.org/417/4226350800008"),
        ("https://id.gs1.org/414/4280000000002/254/12", "https://id.gs1.org/414/4280000000002/254/12"),
        ("https://id.gs1.org/8003/03870585000552987", "https://id.gs1.org/8003/03870585000552987"),
        ("https://id.gs1.org/8004/0180451111ABC987", "https://id.gs1.org/8004/0180451111ABC987"),
        ("https://id.gs1.org/8018/385888700111111111", "https://id.gs1.org/8018/385888700111111111"),
        ("https://id.gs1.org/8017/440018922222222226", "https://id.gs1.org/8017/440018922222222226"),
        ("https://id.gs1.org/253/4602443000331XYZ", "https://id.gs1.org/253/4602443000331XYZ"),
        ("https://id.gs1.org/8010/0628165987/8011/9876", "https://id.gs1.org/8010/0628165987/8011/9876"),
        ("https://id.gs1.org/255/0811625999996554433", "https://id.gs1.org/255/0811625999996554433"),
        ("http://fashion.com/itip/040123451234560102/ser/ABC145", "https://id.gs1.org/8006/040123451234560102/21/ABC145"),
        ("HTTPS://Example.COM/01/09520123456788", "https://id.gs1.org/01/09520123456788"),
    ] {
        assert_eq!(canonical_digital_link(uri).as_deref(), Some(want), "{uri}");
    }
}

#[test]
fn non_digital_links_give_none() {
    for uri in [
        "",
        "42",
        "Hello World!",
        "http://example.org/123/4012345ABC987/456/4711",
        "http://id.gs1.org/99/9780345418913",
        "http://id.gs1.org/01/9780345418913/99/utfgf",
        "http://example.de/abc/9780345418913",
        "http://example.de/01/97803",
        "https://id.gs1.org/8006/04012345123456/22/ABCD/10/XYZ",
        "https://id.gs1.org/01/09520123456788/21",
        "https://id.gs1.org/01/09520123456788/21/x/21/y",
        "https://id.gs1.org/01/09520123456788/21/x/235/y",
        "https://id.gs1.org/01/09520123456788/254/x",
        "https://id.gs1.org/01/095201234567889",
        "https://id.gs1.org/01/0952012345678a",
        "https://id.gs1.org/01/09520123456788/21/123456789012345678901",
        "https://id.gs1.org/01/09520123456788/21/a%2",
        "https://id.gs1.org/401/hello",
        "ftp://id.gs1.org/01/09520123456788",
        "https:///01/09520123456788",
        "https://example.com?01/09520123456788",
        "http://transaction.acme.com/po/12345678",
        "https://accreditation-council.example.org/certificate/ABC12345",
        "geo:47.506694,11.104301",
        "urn:epc:id:sgtin:0614141.107346.2017",
    ] {
        assert_eq!(canonical_digital_link(uri), None, "{uri}");
    }
}

#[test]
fn canonical_identifier_picks_the_right_path() {
    assert_eq!(canonical_identifier("urn:epc:id:sgtin:0614141.107346.2017"), "https://id.gs1.org/01/10614141073464/21/2017");
    assert_eq!(canonical_identifier("https://id.gs1.de/414/4012345000115"), "https://id.gs1.org/414/4012345000115");
    assert_eq!(canonical_identifier("urn:epc:id:bic:CSQU3054383"), "urn:epc:id:bic:CSQU3054383");
    assert_eq!(canonical_identifier("urn:epcglobal:cbv:bt:0614141073467:1152"), "urn:epcglobal:cbv:bt:0614141073467:1152");
    assert_eq!(canonical_identifier("geo:47.506694,11.104301"), "geo:47.506694,11.104301");
    assert_eq!(canonical_identifier(""), "");
}

#[test]
fn digital_link_back_to_urn() {
    for (urn, cp_len) in [
        ("urn:epc:id:sgtin:0614141.107346.2017", 7),
        ("urn:epc:id:sgtin:0614141.812345.6789%2F%26%25%22!%3F()", 7),
        ("urn:epc:id:sgtin:415056789012.0.987654", 12),
        ("urn:epc:id:sscc:4012345.3111111111", 7),
        ("urn:epc:id:sgln:4012345.00005.122", 7),
        ("urn:epc:id:sgln:4012345.00005.0", 7),
        ("urn:epc:id:grai:4012345.00022.334455", 7),
        ("urn:epc:id:giai:4012345.ABC345", 7),
        ("urn:epc:id:gsrn:4012345.0000006765", 7),
        ("urn:epc:id:gsrnp:4012345.0000000007", 7),
        ("urn:epc:id:gdti:4012345.00009.PO-4711", 7),
        ("urn:epc:id:cpi:0614141.11111111111111-A%23%2F.1234", 7),
        ("urn:epc:id:sgcn:4012345.99999.44", 7),
        ("urn:epc:id:ginc:0614141.xyz47%2F11", 7),
        ("urn:epc:id:gsin:4012345.222333444", 7),
        ("urn:epc:id:itip:4012345.011111.01.02.987", 7),
        ("urn:epc:id:upui:1234567.098765.51qIgY)%3C%26Jp3*j7'SDB", 7),
        ("urn:epc:id:pgln:999999999999.", 12),
        ("urn:epc:class:lgtin:4012345.012345.Lot987", 7),
        ("urn:epc:idpat:sgtin:4012345.012345.*", 7),
        ("urn:epc:idpat:grai:4012345.99999.*", 7),
        ("urn:epc:idpat:gdti:4012345.11111.*", 7),
        ("urn:epc:idpat:sgcn:4012345.22222.*", 7),
        ("urn:epc:idpat:cpi:4012345.AB12.*", 7),
        ("urn:epc:idpat:itip:4012345.012345.01.02.*", 7),
    ] {
        let link = dl(urn).unwrap_or_default();
        assert_eq!(digital_link_to_urn(&link, Some(cp_len)).as_deref(), Some(urn), "{link}");
    }
}

#[test]
fn digital_link_to_urn_refuses_what_it_cannot_know() {
    let link = "https://id.gs1.org/01/10614141073464/21/2017";
    assert_eq!(digital_link_to_urn(link, None), None);
    assert_eq!(digital_link_to_urn(link, Some(5)), None);
    assert_eq!(digital_link_to_urn(link, Some(13)), None);
    assert_eq!(digital_link_to_urn("https://id.gs1.org/01/10614141073465/21/2017", Some(7)), None, "bad check digit");
    assert_eq!(digital_link_to_urn("https://id.gs1.org/8004/4012345ABC345", Some(12)), None, "prefix not all digits");
    assert_eq!(digital_link_to_urn("https://id.gs1.org/8004/4012345", Some(7)), None, "empty asset reference");
    assert_eq!(digital_link_to_urn("not a link", Some(7)), None);
}

/// A small xorshift generator: deterministic pseudo-random input for the no-panic checks.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items.get(self.next() as usize % items.len()).copied().unwrap_or("")
    }
}

#[test]
fn hostile_input_never_panics() {
    let pieces = [
        "urn:epc:id:",
        "urn:epc:idpat:",
        "urn:epc:class:lgtin:",
        "sgtin:",
        "sscc:",
        "sgln:",
        "grai:",
        "giai:",
        "gdti:",
        "cpi:",
        "sgcn:",
        "ginc:",
        "gsin:",
        "itip:",
        "upui:",
        "pgln:",
        "gsrn:",
        "gsrnp:",
        "https://",
        "http://",
        "x.org",
        "/",
        "01",
        "21",
        "10",
        "22",
        "235",
        "254",
        "8006",
        "8010",
        "8011",
        "414",
        "00",
        "8003",
        "8004",
        "253",
        "255",
        ".",
        "..",
        "*",
        "%",
        "%2",
        "%2F",
        "%C3%A9",
        "0",
        "0614141",
        "107346",
        "4012345",
        "123456789012",
        "1234567890123",
        "09520123456788",
        "é",
        "?",
        "#",
        "\u{0}",
        "ü",
        "€",
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..20_000 {
        let n = rng.next() % 12;
        let s: String = (0..n).map(|_| rng.pick(&pieces)).collect();
        let _ = urn_to_digital_link(&s);
        let _ = canonical_digital_link(&s);
        let _ = canonical_identifier(&s);
        let _ = digital_link_to_urn(&s, Some(7));
    }
    let long = "1".repeat(MAX_INPUT_LEN + 1);
    assert_eq!(urn_to_digital_link(&format!("urn:epc:id:giai:4012345.{long}")), None);
    assert_eq!(canonical_digital_link(&format!("https://x.org/01/09520123456788/{long}")), None);
    assert_eq!(canonical_digital_link(&format!("https://x.org{}", "/a".repeat(MAX_PATH_SEGMENTS + 1))), None);
}
