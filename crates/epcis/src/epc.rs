//! GS1 identifiers as EPCIS carries them: EPC URNs (GS1 EPC Tag Data Standard 2.x, section 6
//! "EPC URI", section 7 "Correspondence between EPCs and GS1 Keys", section 8 "URIs for EPC
//! Pure Identity Patterns", and the `lgtin` class URI) and GS1 Digital Link URIs (GS1 Digital
//! Link: URI Syntax 1.2, section 4.11 "Canonical GS1 Digital Link URI").
//!
//! The conversions are the constrained canonical form that CBV 2.0 section 8.9 (event hash ID)
//! prescribes: domain `https://id.gs1.org`, no query string, only the finest level of
//! identification (a serial wins over a lot; CPV is dropped), GTINs padded to 14 digits. Values
//! are percent-encoded as the reference implementation and its vectors do: the characters the
//! EPC URN escapes (`"` `%` `&` `/` `<` `>` `?`, and `#` in a CPI) stay escaped and
//! `!` `(` `)` `*` `+` `,` `:` are escaped too; `'` `;` `=` and letters, digits, `-` `.` `_` are not.
//! Check digits are computed for URNs; Digital Link input is checked for syntax only.

/// Origin of every canonical GS1 Digital Link URI.
pub const CANONICAL_ORIGIN: &str = "https://id.gs1.org";

/// GS1 Company Prefix lengths an EPC URN may carry (TDS 2.x pure identity grammar).
const COMPANY_PREFIX_LEN: std::ops::RangeInclusive<usize> = 6..=12;
/// Longest input looked at: real identifiers are far shorter; this bounds the work hostile
/// input can cause (fuzzers, outside documents).
const MAX_INPUT_LEN: usize = 2048;
/// Most path segments a Digital Link URI may have (the key search is quadratic in them).
const MAX_PATH_SEGMENTS: usize = 64;
/// Leading digits an alphanumeric key (GINC, GIAI, CPID) must start with: it begins with a GS1
/// Company Prefix; this keeps ordinary URLs such as `/401/hello` from being taken for keys.
const MIN_LEADING_DIGITS: usize = 4;
/// Longest alphanumeric GS1 key (GINC, GIAI, CPID: 30 characters, GS1 General Specifications).
const MAX_ALPHANUMERIC_KEY: usize = 30;

/// The GS1 standard mod-10 check digit for `digits` (GTIN, GLN, SSCC, GSIN, GSRN, …; GS1
/// General Specifications 7.9.1), or `None` if `digits` is empty or not all ASCII digits.
pub fn check_digit(digits: &str) -> Option<char> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Weights 3, 1, 3, … from the right; summed modulo 10 so no input length can overflow.
    let sum = digits.bytes().rev().enumerate().fold(0u32, |acc, (i, b)| (acc + u32::from(b - b'0') * if i % 2 == 0 { 3 } else { 1 }) % 10);
    char::from_digit((10 - sum) % 10, 10)
}

/// An EPC pure-identity URN (`urn:epc:id:sgtin|sscc|sgln|grai|giai|gsrn|gsrnp|gdti|cpi|sgcn|
/// ginc|gsin|itip|upui|pgln:…`), an `urn:epc:class:lgtin:` class URN or an `urn:epc:idpat:`
/// pattern URN for a whole class (`sgtin`, `upui`, `grai`, `gdti`, `sgcn`, `cpi`, `itip` with
/// `.*` for the serial) as its canonical GS1 Digital Link URI, check digit included:
/// `urn:epc:id:sgtin:0614141.107346.2017` → `https://id.gs1.org/01/10614141073464/21/2017`.
/// URN percent-escapes are decoded and the value re-encoded for the URI. `None` for anything
/// else (other EPC schemes, wrong lengths, characters outside the standard's sets).
pub fn urn_to_digital_link(urn: &str) -> Option<String> {
    if urn.len() > MAX_INPUT_LEN {
        return None;
    }
    if let Some(rest) = urn.strip_prefix("urn:epc:id:") {
        let (scheme, body) = rest.split_once(':')?;
        return pure_identity(scheme, body);
    }
    if let Some(body) = urn.strip_prefix("urn:epc:class:lgtin:") {
        let [cp, item, lot] = fields(body)?;
        let lot = urn_value(lot, Charset::Ai82, 1, 20)?;
        return Some(format!("{CANONICAL_ORIGIN}/01/{}/10/{}", gtin14(cp, item)?, dl_encode(&lot)));
    }
    let (scheme, body) = urn.strip_prefix("urn:epc:idpat:")?.split_once(':')?;
    id_pattern(scheme, body)
}

/// Any GS1 Digital Link URI (http or https, any domain, optional path before the primary key,
/// short names such as `gtin`/`ser`, GTIN-8/12/13) as the constrained canonical form:
/// `https://example.com/01/9520123456788/21/12345?x=1` →
/// `https://id.gs1.org/01/09520123456788/21/12345`. `None` if `uri` is not one, or carries a key
/// qualifier the canonical form does not allow for its key.
pub fn canonical_digital_link(uri: &str) -> Option<String> {
    parse_digital_link(uri).map(|dl| dl.to_uri())
}

/// The form the event hash and indexing use: an EPC URN as its Digital Link URI if it converts,
/// a Digital Link URI in canonical form, anything else unchanged.
pub fn canonical_identifier(s: &str) -> String {
    let converted = if s.starts_with("urn:epc:") { urn_to_digital_link(s) } else { canonical_digital_link(s) };
    converted.unwrap_or_else(|| s.to_owned())
}

/// A canonical-izable GS1 Digital Link URI back to its EPC URN, given the length of the GS1
/// Company Prefix (which the key itself does not reveal): `…/01/10614141073464/21/2017` with 7
/// → `urn:epc:id:sgtin:0614141.107346.2017`. A GTIN alone gives the `urn:epc:idpat:sgtin:` pattern
/// and a GTIN with lot the `urn:epc:class:lgtin:` URN; GRAI, GDTI, GCN, ITIP and CPID without
/// a serial give their patterns. `None` without a length, for a length that does not fit the
/// key, for a wrong check digit, or for what the URN grammar cannot carry.
pub fn digital_link_to_urn(uri: &str, company_prefix_len: Option<usize>) -> Option<String> {
    let cp_len = company_prefix_len.filter(|n| COMPANY_PREFIX_LEN.contains(n))?;
    let dl = parse_digital_link(uri)?;
    if dl.key.has_check_digit() && !check_digit_ok(dl.key.checked_part(&dl.value)?) {
        return None;
    }
    reverse::to_urn(&dl, cp_len)
}

// ---------------------------------------------------------------------------------------------
// Character sets and escaping.

#[derive(Clone, Copy)]
enum Charset {
    /// GS1 AI encodable character set 82 (General Specifications figure 7.11-1).
    Ai82,
    /// GS1 AI encodable character set 39 (component/part references): `#` `-` `/` `0-9` `A-Z`.
    Ai39,
}

impl Charset {
    fn contains(self, b: u8) -> bool {
        match self {
            Charset::Ai82 => matches!(b, b'!' | b'"' | b'%'..=b'?' | b'A'..=b'Z' | b'_' | b'a'..=b'z'),
            Charset::Ai39 => matches!(b, b'#' | b'-' | b'/' | b'0'..=b'9' | b'A'..=b'Z'),
        }
    }

    /// Whether an EPC URN may carry `b` unescaped (TDS 2.x: the URN escapes the rest).
    fn raw_in_urn(self, b: u8) -> bool {
        match self {
            Charset::Ai82 => b.is_ascii_alphanumeric() || b"!'()*+,-.:;=_".contains(&b),
            Charset::Ai39 => b.is_ascii_digit() || b.is_ascii_uppercase() || b == b'-',
        }
    }
}

/// Characters written percent-encoded in a canonical Digital Link value.
const DL_ESCAPED: &[u8] = b"!\"#%&()*+,/:<>?";

fn dl_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match u8::try_from(c) {
            Ok(b) if DL_ESCAPED.contains(&b) => out.push_str(&format!("%{b:02X}")),
            _ => out.push(c),
        }
    }
    out
}

fn hex_value(b: u8) -> Option<u8> {
    char::from(b).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

/// Percent-decodes `s`; `raw_ok` says which bytes may appear unescaped. `None` on a broken escape.
fn percent_decode(s: &str, raw_ok: impl Fn(u8) -> bool) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let (hi, lo) = (hex_value(bytes.next()?)?, hex_value(bytes.next()?)?);
            out.push((hi << 4) | lo);
        } else if raw_ok(b) {
            out.push(b);
        } else {
            return None;
        }
    }
    Some(out)
}

/// A URN component decoded, if every character is in `set` and its length is within `min..=max`.
fn urn_value(s: &str, set: Charset, min: usize, max: usize) -> Option<String> {
    let decoded = percent_decode(s, |b| set.raw_in_urn(b))?;
    checked_value(decoded, set, min, max)
}

/// A Digital Link path segment decoded, with the same checks.
fn dl_value(s: &str, set: Charset, min: usize, max: usize) -> Option<String> {
    let decoded = percent_decode(s, |b| b.is_ascii_graphic())?;
    checked_value(decoded, set, min, max)
}

fn checked_value(decoded: Vec<u8>, set: Charset, min: usize, max: usize) -> Option<String> {
    let ok = (min..=max).contains(&decoded.len()) && decoded.iter().all(|&b| set.contains(b));
    ok.then(|| decoded.into_iter().map(char::from).collect())
}

fn all_digits(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit())
}

/// `s` if it is exactly `len` ASCII digits.
fn digits(s: &str, len: usize) -> Option<&str> {
    (s.len() == len && all_digits(s)).then_some(s)
}

fn check_digit_ok(with_check: &str) -> bool {
    let (body, last) = with_check.split_at_checked(with_check.len().saturating_sub(1)).unwrap_or(("", ""));
    check_digit(body).is_some_and(|c| last.starts_with(c))
}

// ---------------------------------------------------------------------------------------------
// EPC URN → GS1 key.

/// The first `N - 1` dot-separated fields of `body` and the rest (which may itself hold dots).
fn fields<const N: usize>(body: &str) -> Option<[&str; N]> {
    let parts: Vec<&str> = body.splitn(N, '.').collect();
    parts.try_into().ok()
}

fn company_prefix(cp: &str) -> Option<&str> {
    (COMPANY_PREFIX_LEN.contains(&cp.len()) && all_digits(cp)).then_some(cp)
}

/// `digits` followed by its check digit.
fn with_check(digits: String) -> Option<String> {
    let c = check_digit(&digits)?;
    Some(format!("{digits}{c}"))
}

/// GS1 Company Prefix + a reference that fills the key to `total` digits, with check digit
/// (GLN, GSRN, GSIN, GDTI, GCN, GRAI bodies).
fn prefixed_key(cp: &str, reference: &str, total: usize) -> Option<String> {
    let cp = company_prefix(cp)?;
    let reference = digits(reference, total.checked_sub(cp.len())?)?;
    with_check(format!("{cp}{reference}"))
}

/// GTIN-14 from a company prefix and an indicator-plus-item reference (TDS 7.1).
fn gtin14(cp: &str, indicator_item: &str) -> Option<String> {
    let cp = company_prefix(cp)?;
    let item = digits(indicator_item, 13 - cp.len())?;
    let (indicator, item) = item.split_at_checked(1)?;
    with_check(format!("{indicator}{cp}{item}"))
}

fn pure_identity(scheme: &str, body: &str) -> Option<String> {
    let (ai, value) = match scheme {
        "sgtin" | "itip" | "upui" => return trade_item(scheme, body),
        "sscc" => ("00", sscc(body)?),
        "sgln" => return sgln(body),
        "grai" => ("8003", grai(body)?),
        "giai" => ("8004", alphanumeric_key(body)?),
        "ginc" => ("401", alphanumeric_key(body)?),
        "gsrn" => ("8018", two_part(body, 17)?),
        "gsrnp" => ("8017", two_part(body, 17)?),
        "gsin" => ("402", two_part(body, 16)?),
        "pgln" => ("417", two_part(body, 12)?),
        "gdti" => ("253", gdti(body)?),
        "sgcn" => ("255", sgcn(body)?),
        "cpi" => return cpi(body),
        _ => return None,
    };
    Some(format!("{CANONICAL_ORIGIN}/{ai}/{value}"))
}

/// SGTIN (`/01/…/21/`), ITIP (`/8006/…/21/`) and UPUI (`/01/…/235/`).
fn trade_item(scheme: &str, body: &str) -> Option<String> {
    if scheme == "itip" {
        let [cp, item, piece, total, serial] = fields(body)?;
        let (piece, total) = (digits(piece, 2)?, digits(total, 2)?);
        let serial = urn_value(serial, Charset::Ai82, 1, 20)?;
        return Some(format!("{CANONICAL_ORIGIN}/8006/{}{piece}{total}/21/{}", gtin14(cp, item)?, dl_encode(&serial)));
    }
    let [cp, item, serial] = fields(body)?;
    let (qualifier, max) = if scheme == "upui" { ("235", 28) } else { ("21", 20) };
    let serial = urn_value(serial, Charset::Ai82, 1, max)?;
    Some(format!("{CANONICAL_ORIGIN}/01/{}/{qualifier}/{}", gtin14(cp, item)?, dl_encode(&serial)))
}

/// SSCC: extension digit + company prefix + serial reference + check digit (TDS 7.2).
fn sscc(body: &str) -> Option<String> {
    let [cp, serial_ref] = fields(body)?;
    let cp = company_prefix(cp)?;
    let serial_ref = digits(serial_ref, 17 - cp.len())?;
    let (extension, rest) = serial_ref.split_at_checked(1)?;
    with_check(format!("{extension}{cp}{rest}"))
}

/// SGLN: the GLN, plus `/254/` unless the extension is `0` (TDS 7.3: `0` means none).
fn sgln(body: &str) -> Option<String> {
    let [cp, location, extension] = fields(body)?;
    let gln = prefixed_key(cp, location, 12)?;
    let extension = urn_value(extension, Charset::Ai82, 1, 20)?;
    if extension == "0" {
        return Some(format!("{CANONICAL_ORIGIN}/414/{gln}"));
    }
    Some(format!("{CANONICAL_ORIGIN}/414/{gln}/254/{}", dl_encode(&extension)))
}

/// GRAI: `0` + company prefix + asset type + check digit, then the serial (TDS 7.4).
fn grai(body: &str) -> Option<String> {
    let [cp, asset_type, serial] = fields(body)?;
    let serial = urn_value(serial, Charset::Ai82, 1, 16)?;
    Some(format!("0{}{}", prefixed_key(cp, asset_type, 12)?, dl_encode(&serial)))
}

/// GIAI and GINC: company prefix + an alphanumeric reference, 30 characters at most.
fn alphanumeric_key(body: &str) -> Option<String> {
    let [cp, reference] = fields(body)?;
    let cp = company_prefix(cp)?;
    let reference = urn_value(reference, Charset::Ai82, 1, MAX_ALPHANUMERIC_KEY - cp.len())?;
    Some(dl_encode(&format!("{cp}{reference}")))
}

/// GSRN, GSRN-P, GSIN and PGLN: company prefix + a numeric reference + check digit.
fn two_part(body: &str, total: usize) -> Option<String> {
    let [cp, reference] = fields(body)?;
    prefixed_key(cp, reference, total)
}

/// GDTI: company prefix + document type + check digit, then the serial (TDS 7.8).
fn gdti(body: &str) -> Option<String> {
    let [cp, document_type, serial] = fields(body)?;
    let serial = urn_value(serial, Charset::Ai82, 1, 17)?;
    Some(format!("{}{}", prefixed_key(cp, document_type, 12)?, dl_encode(&serial)))
}

/// SGCN: company prefix + coupon reference + check digit, then a numeric serial (TDS 7.11).
fn sgcn(body: &str) -> Option<String> {
    let [cp, coupon, serial] = fields(body)?;
    let serial = (matches!(serial.len(), 1..=12) && all_digits(serial)).then_some(serial)?;
    Some(format!("{}{serial}", prefixed_key(cp, coupon, 12)?))
}

/// CPI: `/8010/` company prefix + part reference, `/8011/` serial (TDS 7.10).
fn cpi(body: &str) -> Option<String> {
    let [cp, part, serial] = fields(body)?;
    let cpid = cpid(cp, part)?;
    let serial = (matches!(serial.len(), 1..=12) && all_digits(serial)).then_some(serial)?;
    Some(format!("{CANONICAL_ORIGIN}/8010/{cpid}/8011/{serial}"))
}

fn cpid(cp: &str, part: &str) -> Option<String> {
    let cp = company_prefix(cp)?;
    let part = urn_value(part, Charset::Ai39, 1, MAX_ALPHANUMERIC_KEY - cp.len())?;
    Some(dl_encode(&format!("{cp}{part}")))
}

/// `urn:epc:idpat:` patterns that name a whole class (serial `*`, everything else given).
fn id_pattern(scheme: &str, body: &str) -> Option<String> {
    let (ai, value) = match scheme {
        "sgtin" | "upui" => {
            let [cp, item, star] = fields(body)?;
            ("01", (star == "*").then(|| gtin14(cp, item))??)
        }
        "itip" => {
            let [cp, item, piece, total, star] = fields(body)?;
            let value = format!("{}{}{}", gtin14(cp, item)?, digits(piece, 2)?, digits(total, 2)?);
            ("8006", (star == "*").then_some(value)?)
        }
        "grai" => ("8003", format!("0{}", class_key(body)?)),
        "gdti" => ("253", class_key(body)?),
        "sgcn" => ("255", class_key(body)?),
        "cpi" => {
            let [cp, part, star] = fields(body)?;
            ("8010", (star == "*").then(|| cpid(cp, part))??)
        }
        _ => return None,
    };
    Some(format!("{CANONICAL_ORIGIN}/{ai}/{value}"))
}

/// `CP.Reference.*` as the 13-digit key with check digit (GRAI body, GDTI, GCN).
fn class_key(body: &str) -> Option<String> {
    let [cp, reference, star] = fields(body)?;
    (star == "*").then(|| prefixed_key(cp, reference, 12))?
}

// ---------------------------------------------------------------------------------------------
// GS1 Digital Link.

/// Primary keys the constrained canonical form allows (CBV 2.0 section 8.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Sscc,
    Gtin,
    Itip,
    Cpid,
    Gln,
    Party,
    Gsrnp,
    Gsrn,
    Gcn,
    Gdti,
    Ginc,
    Gsin,
    Grai,
    Giai,
}

impl Key {
    /// The key for a path segment: its AI or its Digital Link 1.0 short name.
    fn from_segment(segment: &str) -> Option<Key> {
        Some(match segment {
            "00" | "sscc" => Key::Sscc,
            "01" | "gtin" => Key::Gtin,
            "8006" | "itip" => Key::Itip,
            "8010" | "cpid" => Key::Cpid,
            "414" | "gln" => Key::Gln,
            "417" | "party" => Key::Party,
            "8017" | "gsrnp" => Key::Gsrnp,
            "8018" | "gsrn" => Key::Gsrn,
            "255" | "gcn" => Key::Gcn,
            "253" | "gdti" => Key::Gdti,
            "401" | "ginc" => Key::Ginc,
            "402" | "gsin" => Key::Gsin,
            "8003" | "grai" => Key::Grai,
            "8004" | "giai" => Key::Giai,
            _ => return None,
        })
    }

    fn ai(self) -> &'static str {
        match self {
            Key::Sscc => "00",
            Key::Gtin => "01",
            Key::Itip => "8006",
            Key::Cpid => "8010",
            Key::Gln => "414",
            Key::Party => "417",
            Key::Gsrnp => "8017",
            Key::Gsrn => "8018",
            Key::Gcn => "255",
            Key::Gdti => "253",
            Key::Ginc => "401",
            Key::Gsin => "402",
            Key::Grai => "8003",
            Key::Giai => "8004",
        }
    }

    /// The decoded key value, checked and normalised (GTIN padded to 14 digits).
    fn value(self, segment: &str) -> Option<String> {
        let numeric = |len: usize| dl_value(segment, Charset::Ai82, len, len).filter(|v| all_digits(v));
        match self {
            Key::Sscc => numeric(18),
            Key::Gtin => dl_value(segment, Charset::Ai82, 8, 14).filter(|v| matches!(v.len(), 8 | 12 | 13 | 14) && all_digits(v)).map(|v| format!("{v:0>14}")),
            Key::Itip | Key::Gsrnp | Key::Gsrn => numeric(18),
            Key::Gln | Key::Party => numeric(13),
            Key::Gsin => numeric(17),
            Key::Gcn => dl_value(segment, Charset::Ai82, 13, 25).filter(|v| all_digits(v)),
            Key::Gdti => digits_then_serial(segment, 13, 17),
            Key::Grai => digits_then_serial(segment, 14, 16),
            Key::Ginc | Key::Giai => company_led(segment, Charset::Ai82),
            Key::Cpid => company_led(segment, Charset::Ai39),
        }
    }

    fn allows(self, qualifier: Qualifier) -> bool {
        use Qualifier::*;
        match self {
            Key::Gtin => matches!(qualifier, Cpv | Lot | Serial | Tpx),
            Key::Itip => matches!(qualifier, Cpv | Lot | Serial),
            Key::Gln => qualifier == GlnExtension,
            Key::Cpid => qualifier == Cpsn,
            _ => false,
        }
    }

    fn has_check_digit(self) -> bool {
        !matches!(self, Key::Cpid | Key::Ginc | Key::Giai)
    }

    /// The digits of `value` that end in the key's check digit.
    fn checked_part(self, value: &str) -> Option<&str> {
        let len = match self {
            Key::Gtin => 14,
            Key::Itip => 14,
            Key::Gcn | Key::Gdti | Key::Gln | Key::Party => 13,
            Key::Grai => 14,
            Key::Gsin => 17,
            Key::Sscc | Key::Gsrn | Key::Gsrnp => 18,
            Key::Cpid | Key::Ginc | Key::Giai => return None,
        };
        value.get(..len)
    }
}

/// `fixed` ASCII digits, then an optional CSET 82 serial of at most `max_serial` characters.
fn digits_then_serial(segment: &str, fixed: usize, max_serial: usize) -> Option<String> {
    let value = dl_value(segment, Charset::Ai82, fixed, fixed + max_serial)?;
    value.get(..fixed).filter(|d| all_digits(d))?;
    Some(value)
}

/// An alphanumeric key that starts with a company prefix (at least four digits).
fn company_led(segment: &str, set: Charset) -> Option<String> {
    let value = dl_value(segment, set, MIN_LEADING_DIGITS + 1, MAX_ALPHANUMERIC_KEY)?;
    value.get(..MIN_LEADING_DIGITS).filter(|d| all_digits(d))?;
    Some(value)
}

/// Key qualifiers the constrained canonical form knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Qualifier {
    /// AI 22, consumer product variant: accepted, then dropped.
    Cpv,
    /// AI 10, batch/lot.
    Lot,
    /// AI 21, serial number.
    Serial,
    /// AI 235, third-party controlled serialised extension (UPUI).
    Tpx,
    /// AI 254, GLN extension component.
    GlnExtension,
    /// AI 8011, component/part serial number.
    Cpsn,
}

impl Qualifier {
    fn from_segment(segment: &str) -> Option<Qualifier> {
        Some(match segment {
            "22" | "cpv" => Qualifier::Cpv,
            "10" | "lot" => Qualifier::Lot,
            "21" | "ser" => Qualifier::Serial,
            "235" => Qualifier::Tpx,
            "254" => Qualifier::GlnExtension,
            "8011" => Qualifier::Cpsn,
            _ => return None,
        })
    }

    fn ai(self) -> &'static str {
        match self {
            Qualifier::Cpv => "22",
            Qualifier::Lot => "10",
            Qualifier::Serial => "21",
            Qualifier::Tpx => "235",
            Qualifier::GlnExtension => "254",
            Qualifier::Cpsn => "8011",
        }
    }

    fn value(self, segment: &str) -> Option<String> {
        match self {
            Qualifier::Cpv | Qualifier::Lot | Qualifier::Serial | Qualifier::GlnExtension => dl_value(segment, Charset::Ai82, 1, 20),
            Qualifier::Tpx => dl_value(segment, Charset::Ai82, 1, 28),
            Qualifier::Cpsn => dl_value(segment, Charset::Ai82, 1, 12).filter(|v| all_digits(v)),
        }
    }

    /// Rank in "most fine-granular wins" (higher wins); CPV never survives.
    fn rank(self) -> u8 {
        match self {
            Qualifier::Cpv => 0,
            Qualifier::Lot => 1,
            Qualifier::Serial | Qualifier::Tpx | Qualifier::GlnExtension | Qualifier::Cpsn => 2,
        }
    }
}

/// A parsed Digital Link reduced to its canonical parts.
#[derive(Debug, Clone, PartialEq, Eq)]
struct DigitalLink {
    key: Key,
    /// The decoded key value.
    value: String,
    /// The finest qualifier kept, with its decoded value.
    qualifier: Option<(Qualifier, String)>,
}

impl DigitalLink {
    fn to_uri(&self) -> String {
        let mut uri = format!("{CANONICAL_ORIGIN}/{}/{}", self.key.ai(), dl_encode(&self.value));
        if let Some((q, v)) = &self.qualifier {
            uri.push_str(&format!("/{}/{}", q.ai(), dl_encode(v)));
        }
        uri
    }
}

fn parse_digital_link(uri: &str) -> Option<DigitalLink> {
    if uri.len() > MAX_INPUT_LEN {
        return None;
    }
    let mut segments: Vec<&str> = uri_path(uri)?.split('/').skip(1).collect();
    if segments.last() == Some(&"") {
        segments.pop();
    }
    if segments.len() > MAX_PATH_SEGMENTS {
        return None;
    }
    (0..segments.len()).find_map(|i| {
        let key = Key::from_segment(segments.get(i)?)?;
        key_path(key, segments.get(i + 1..)?)
    })
}

/// The path of an `http`/`https` URI with an authority, without query and fragment.
fn uri_path(uri: &str) -> Option<&str> {
    let (scheme, rest) = uri.split_once("://")?;
    if !scheme.eq_ignore_ascii_case("https") && !scheme.eq_ignore_ascii_case("http") {
        return None;
    }
    let authority_end = rest.find(['/', '?', '#'])?;
    let (authority, rest) = rest.split_at_checked(authority_end)?;
    if authority.is_empty() || !rest.starts_with('/') {
        return None;
    }
    Some(rest.split(['?', '#']).next().unwrap_or(rest))
}

/// The primary key value and qualifier pairs that follow `key` in the path.
fn key_path(key: Key, rest: &[&str]) -> Option<DigitalLink> {
    let (value, pairs) = rest.split_first()?;
    let value = key.value(value)?;
    if pairs.len() % 2 != 0 {
        return None;
    }
    let mut seen: Vec<Qualifier> = Vec::new();
    let mut finest: Option<(Qualifier, String)> = None;
    for pair in pairs.chunks_exact(2) {
        let (code, raw) = (pair.first()?, pair.get(1)?);
        let q = Qualifier::from_segment(code).filter(|q| key.allows(*q) && !seen.contains(q))?;
        seen.push(q);
        let v = q.value(raw)?;
        if q.rank() > finest.as_ref().map_or(0, |(f, _)| f.rank()) {
            finest = Some((q, v));
        }
    }
    if seen.contains(&Qualifier::Serial) && seen.contains(&Qualifier::Tpx) {
        return None;
    }
    Some(DigitalLink { key, value, qualifier: finest })
}

// ---------------------------------------------------------------------------------------------
// GS1 key → EPC URN.

mod reverse {
    use super::{Charset, DigitalLink, Key, Qualifier, all_digits};

    /// TDS 2.x escapes in URN components: characters the URN grammar cannot carry raw.
    fn urn_encode(value: &str, set: Charset) -> String {
        let mut out = String::with_capacity(value.len());
        for b in value.bytes() {
            if set.raw_in_urn(b) {
                out.push(char::from(b));
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        out
    }

    /// Splits `s` at `at` as two strings, or `None` if `s` is too short.
    fn cut(s: &str, at: usize) -> Option<(&str, &str)> {
        s.split_at_checked(at)
    }

    /// (company prefix, indicator + item reference) of a GTIN-14 (the part before the check digit).
    fn gtin_parts(gtin: &str, cp_len: usize) -> Option<(String, String)> {
        let (indicator, rest) = cut(gtin, 1)?;
        let (cp, item) = cut(rest, cp_len)?;
        let item = item.get(..12 - cp_len)?;
        Some((cp.to_owned(), format!("{indicator}{item}")))
    }

    /// (company prefix, reference) of a 13-digit key with check digit, `total` digits before it.
    fn key_parts(body: &str, cp_len: usize, total: usize) -> Option<(&str, &str)> {
        let (cp, rest) = cut(body, cp_len)?;
        Some((cp, rest.get(..total.checked_sub(cp_len)?)?))
    }

    fn serial_of(dl: &DigitalLink, want: Qualifier) -> Option<&str> {
        dl.qualifier.as_ref().filter(|(q, _)| *q == want).map(|(_, v)| v.as_str())
    }

    pub(super) fn to_urn(dl: &DigitalLink, cp_len: usize) -> Option<String> {
        let v = dl.value.as_str();
        match dl.key {
            Key::Gtin => gtin_urn(dl, cp_len),
            Key::Itip => {
                let (cp, item) = gtin_parts(v, cp_len)?;
                let (piece, total) = (v.get(14..16)?, v.get(16..18)?);
                Some(match serial_of(dl, Qualifier::Serial) {
                    Some(s) => format!("urn:epc:id:itip:{cp}.{item}.{piece}.{total}.{}", urn_encode(s, Charset::Ai82)),
                    None if dl.qualifier.is_none() => format!("urn:epc:idpat:itip:{cp}.{item}.{piece}.{total}.*"),
                    None => return None,
                })
            }
            Key::Sscc => {
                let (extension, rest) = cut(v, 1)?;
                let (cp, serial) = key_parts(rest, cp_len, 16)?;
                Some(format!("urn:epc:id:sscc:{cp}.{extension}{serial}"))
            }
            Key::Gln => {
                let (cp, location) = key_parts(v, cp_len, 12)?;
                let extension = serial_of(dl, Qualifier::GlnExtension).unwrap_or("0");
                Some(format!("urn:epc:id:sgln:{cp}.{location}.{}", urn_encode(extension, Charset::Ai82)))
            }
            Key::Party => numeric_urn("pgln", v, cp_len, 12),
            Key::Gsrn => numeric_urn("gsrn", v, cp_len, 17),
            Key::Gsrnp => numeric_urn("gsrnp", v, cp_len, 17),
            Key::Gsin => numeric_urn("gsin", v, cp_len, 16),
            Key::Grai => serialised_urn("grai", v.strip_prefix('0')?, cp_len),
            Key::Gdti => serialised_urn("gdti", v, cp_len),
            Key::Gcn => serialised_urn("sgcn", v, cp_len),
            Key::Ginc | Key::Giai => {
                let (cp, reference) = cut(v, cp_len).filter(|(cp, r)| all_digits(cp) && !r.is_empty())?;
                let scheme = if dl.key == Key::Ginc { "ginc" } else { "giai" };
                Some(format!("urn:epc:id:{scheme}:{cp}.{}", urn_encode(reference, Charset::Ai82)))
            }
            Key::Cpid => {
                let (cp, part) = cut(v, cp_len).filter(|(cp, r)| all_digits(cp) && !r.is_empty())?;
                let part = urn_encode(part, Charset::Ai39);
                Some(match serial_of(dl, Qualifier::Cpsn) {
                    Some(serial) => format!("urn:epc:id:cpi:{cp}.{part}.{serial}"),
                    None => format!("urn:epc:idpat:cpi:{cp}.{part}.*"),
                })
            }
        }
    }

    fn gtin_urn(dl: &DigitalLink, cp_len: usize) -> Option<String> {
        let (cp, item) = gtin_parts(&dl.value, cp_len)?;
        Some(match &dl.qualifier {
            Some((Qualifier::Serial, s)) => format!("urn:epc:id:sgtin:{cp}.{item}.{}", urn_encode(s, Charset::Ai82)),
            Some((Qualifier::Tpx, s)) => format!("urn:epc:id:upui:{cp}.{item}.{}", urn_encode(s, Charset::Ai82)),
            Some((Qualifier::Lot, s)) => format!("urn:epc:class:lgtin:{cp}.{item}.{}", urn_encode(s, Charset::Ai82)),
            Some(_) => return None,
            None => format!("urn:epc:idpat:sgtin:{cp}.{item}.*"),
        })
    }

    /// PGLN, GSRN, GSRN-P, GSIN: company prefix + reference (the check digit dropped).
    fn numeric_urn(scheme: &str, v: &str, cp_len: usize, total: usize) -> Option<String> {
        let (cp, reference) = key_parts(v, cp_len, total)?;
        Some(format!("urn:epc:id:{scheme}:{cp}.{reference}"))
    }

    /// GRAI (without its leading `0`), GDTI, GCN: 13-digit key, then a serial or nothing (pattern).
    fn serialised_urn(scheme: &str, v: &str, cp_len: usize) -> Option<String> {
        let (cp, reference) = key_parts(v, cp_len, 12)?;
        let serial = v.get(13..)?;
        if serial.is_empty() {
            return Some(format!("urn:epc:idpat:{scheme}:{cp}.{reference}.*"));
        }
        Some(format!("urn:epc:id:{scheme}:{cp}.{reference}.{}", urn_encode(serial, Charset::Ai82)))
    }
}

#[cfg(test)]
mod tests;
