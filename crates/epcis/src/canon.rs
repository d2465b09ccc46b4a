//! Canonical forms of timestamps and numbers for the CBV 2.0 pre-hash string (CBV 2.0 section
//! 8.9: timestamps in UTC at millisecond precision, rounded half up on the fourth decimal;
//! numbers without a leading `+`, leading zeros or trailing zeros).

/// Years a timestamp may fall in, before and after conversion to UTC (`YYYY` has four digits).
const YEARS: std::ops::RangeInclusive<i64> = 1..=9999;
/// Largest time zone offset accepted, in minutes (xsd:dateTime allows ±14:00).
const MAX_OFFSET_MINUTES: i64 = 14 * 60;
/// Decimal exponents (of the leading digit) a numeric string may have to be treated as a number;
/// the bounds of an IEEE double, past which the reference implementation fails or underflows.
const DECIMAL_EXPONENTS: std::ops::RangeInclusive<i64> = -324..=308;
/// Cap on a parsed exponent's magnitude while reading it (anything past this is out of range).
const EXPONENT_CAP: i64 = 100_000;
/// Below this decimal exponent a fractional number is written in scientific notation, as the
/// reference implementation (Python's `repr(float)`) does: `0.0001` but `1e-05`.
const SCIENTIFIC_BELOW: i64 = -4;

const MS_PER_MINUTE: i64 = 60_000;
const MS_PER_DAY: i64 = 86_400_000;

/// An xsd:dateTime (`YYYY-MM-DDThh:mm:ss[.fraction](Z|±hh:mm)`) as `YYYY-MM-DDThh:mm:ss.sssZ` in
/// UTC. The fraction is cut to milliseconds, rounding up when the fourth decimal is 5–9. A value
/// without an offset is taken as UTC. `None` if `text` is not such a timestamp.
pub(crate) fn timestamp(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let date = (digits_at(b, 0, 4)?, digits_at(b, 5, 2)?, digits_at(b, 8, 2)?);
    let time = (digits_at(b, 11, 2)?, digits_at(b, 14, 2)?, digits_at(b, 17, 2)?);
    let separators = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if !separators.iter().all(|&(i, c)| b.get(i) == Some(&c)) || !matches!(b.get(10), Some(b'T' | b't')) {
        return None;
    }
    if !valid_date(date) || time.0 > 23 || time.1 > 59 || time.2 > 59 {
        return None;
    }
    let (millis, rest) = fraction_millis(b.get(19..)?)?;
    let offset = offset_minutes(rest)?;
    let seconds = time.0 * 3600 + time.1 * 60 + time.2;
    let utc_ms = days_from_civil(date) * MS_PER_DAY + seconds * 1000 + millis - offset * MS_PER_MINUTE;
    format_utc(utc_ms)
}

/// The ASCII decimal number of `len` digits at `at`, if there is one.
fn digits_at(b: &[u8], at: usize, len: usize) -> Option<i64> {
    let field = b.get(at..at + len)?;
    field.iter().try_fold(0i64, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0')))
}

fn valid_date((year, month, day): (i64, i64, i64)) -> bool {
    YEARS.contains(&year) && (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Milliseconds from an optional `.fraction` (rounded half up on the fourth decimal) and the rest.
fn fraction_millis(b: &[u8]) -> Option<(i64, &[u8])> {
    let Some(digits) = b.strip_prefix(b".") else { return Some((0, b)) };
    let len = digits.iter().take_while(|c| c.is_ascii_digit()).count();
    if len == 0 {
        return None;
    }
    let mut millis = 0;
    for i in 0..3 {
        millis = millis * 10 + digits.get(i).filter(|_| i < len).map_or(0, |c| i64::from(c - b'0'));
    }
    let round_up = len > 3 && digits.get(3).is_some_and(|&c| c >= b'5');
    Some((millis + i64::from(round_up), digits.get(len..)?))
}

/// The offset east of UTC in minutes: empty (taken as UTC), `Z`, or `±hh:mm`.
fn offset_minutes(b: &[u8]) -> Option<i64> {
    let sign = match b {
        [] | [b'Z' | b'z'] => return Some(0),
        [b'+', ..] => 1,
        [b'-', ..] => -1,
        _ => return None,
    };
    if b.len() != 6 || b.get(3) != Some(&b':') {
        return None;
    }
    let (hours, minutes) = (digits_at(b, 1, 2)?, digits_at(b, 4, 2)?);
    let total = hours * 60 + minutes;
    (minutes <= 59 && total <= MAX_OFFSET_MINUTES).then_some(sign * total)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil((year, month, day): (i64, i64, i64)) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01 (H. Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn format_utc(ms: i64) -> Option<String> {
    let (year, month, day) = civil_from_days(ms.div_euclid(MS_PER_DAY));
    if !YEARS.contains(&year) {
        return None;
    }
    let in_day = ms.rem_euclid(MS_PER_DAY);
    let (hour, minute) = (in_day / 3_600_000, in_day / MS_PER_MINUTE % 60);
    let (second, milli) = (in_day / 1000 % 60, in_day % 1000);
    Some(format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{milli:03}Z"))
}

/// A decimal number (`[+-]digits[.digits][e[+-]digits]`, also `.5` and `5.`) in canonical form:
/// no `+`, no leading or trailing zeros, integral values written out in full (`1e3` → `1000`,
/// `452.0` → `452`), fractions in positional notation down to 10⁻⁴ and scientific below
/// (`1e-05`, as Python's `repr` writes them). Exact decimal arithmetic: digits are never rounded.
/// `None` if `text` is not a number (then it stays as it is).
pub(crate) fn number(text: &str) -> Option<String> {
    let (negative, digits, exp) = parse_decimal(text)?;
    let digits = digits.trim_start_matches('0');
    let significant = digits.trim_end_matches('0');
    if significant.is_empty() {
        return Some("0".to_owned());
    }
    let exp = exp + (digits.len() - significant.len()) as i64;
    let lead = significant.len() as i64 - 1 + exp;
    if !DECIMAL_EXPONENTS.contains(&lead) {
        return None;
    }
    let sign = if negative { "-" } else { "" };
    Some(format!("{sign}{}", layout(significant, exp, lead)))
}

/// Splits a decimal string into (negative, all digits, exponent applying to the last digit).
fn parse_decimal(text: &str) -> Option<(bool, String, i64)> {
    let (negative, body) = match text.as_bytes().first()? {
        b'-' => (true, text.get(1..)?),
        b'+' => (false, text.get(1..)?),
        _ => (false, text),
    };
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (body.get(..i)?, Some(body.get(i + 1..)?)),
        None => (body, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all_digits = |s: &str| s.bytes().all(|c| c.is_ascii_digit());
    if int.len() + frac.len() == 0 || !all_digits(int) || !all_digits(frac) {
        return None;
    }
    let exp = exponent.map_or(Some(0), parse_exponent)?;
    Some((negative, format!("{int}{frac}"), exp - frac.len() as i64))
}

fn parse_exponent(text: &str) -> Option<i64> {
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, text.get(1..)?),
        b'+' => (false, text.get(1..)?),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let magnitude = digits.bytes().fold(0i64, |acc, c| (acc * 10 + i64::from(c - b'0')).min(EXPONENT_CAP));
    Some(if negative { -magnitude } else { magnitude })
}

/// `significant` × 10^`exp` (its leading digit at 10^`lead`) written out.
fn layout(significant: &str, exp: i64, lead: i64) -> String {
    if exp >= 0 {
        return format!("{significant}{}", "0".repeat(exp as usize));
    }
    if lead < SCIENTIFIC_BELOW {
        let (first, rest) = significant.split_at_checked(1).unwrap_or((significant, ""));
        let dot = if rest.is_empty() { "" } else { "." };
        return format!("{first}{dot}{rest}e-{:02}", -lead);
    }
    if lead < 0 {
        return format!("0.{}{significant}", "0".repeat((-lead - 1) as usize));
    }
    let (int, frac) = significant.split_at_checked(lead as usize + 1).unwrap_or((significant, ""));
    format!("{int}.{frac}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_go_to_utc_milliseconds() {
        assert_eq!(timestamp("2020-03-04T11:00:30.000+01:00").as_deref(), Some("2020-03-04T10:00:30.000Z"));
        assert_eq!(timestamp("2022-02-16T20:33:31.116000-06:00").as_deref(), Some("2022-02-17T02:33:31.116Z"));
        assert_eq!(timestamp("2023-03-27T11:30:00.0Z").as_deref(), Some("2023-03-27T11:30:00.000Z"));
        assert_eq!(timestamp("2019-10-21T14:45:00Z").as_deref(), Some("2019-10-21T14:45:00.000Z"));
        assert_eq!(timestamp("2019-10-21T14:45:00").as_deref(), Some("2019-10-21T14:45:00.000Z"), "no offset: UTC");
    }

    #[test]
    fn fractions_round_half_up_on_the_fourth_decimal() {
        assert_eq!(timestamp("2023-01-18T11:04:03.1415Z").as_deref(), Some("2023-01-18T11:04:03.142Z"));
        assert_eq!(timestamp("2023-01-18T11:04:03.1414999Z").as_deref(), Some("2023-01-18T11:04:03.141Z"));
        assert_eq!(timestamp("2023-01-18T11:04:03.1425Z").as_deref(), Some("2023-01-18T11:04:03.143Z"));
        assert_eq!(timestamp("2023-12-31T23:59:59.9996+00:00").as_deref(), Some("2024-01-01T00:00:00.000Z"));
        assert_eq!(timestamp("2024-02-29T00:30:00+01:00").as_deref(), Some("2024-02-28T23:30:00.000Z"));
    }

    #[test]
    fn bad_timestamps_are_refused() {
        for bad in [
            "",
            "2020-02-30T00:00:00Z",
            "2019-02-29T00:00:00Z",
            "2020-13-01T00:00:00Z",
            "2020-01-01T24:00:00Z",
            "2020-01-01T00:00:60Z",
            "2020-01-01 00:00:00Z",
            "2020-01-01T00:00:00.Z",
            "2020-01-01T00:00:00+1:00",
            "2020-01-01T00:00:00+15:00",
            "2020-01-01T00:00:00+01:60",
            "2020-01-01T00:00:00ZZ",
            "0000-01-01T00:00:00Z",
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59-01:00",
            "２０２０-01-01T00:00:00Z",
            "2020-01-01T00:00",
        ] {
            assert_eq!(timestamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn numbers_lose_signs_and_zeros() {
        for (input, want) in [
            ("1", "1"),
            ("1.0", "1"),
            ("452.0", "452"),
            ("+7", "7"),
            ("007", "7"),
            ("0.3434000", "0.3434"),
            ("-0.0", "0"),
            ("0", "0"),
            ("12.1", "12.1"),
            (".5", "0.5"),
            ("5.", "5"),
            ("1e3", "1000"),
            ("1.5E+2", "150"),
            ("0.0001", "0.0001"),
            ("0.00001", "1e-05"),
            ("-1.25e-7", "-1.25e-07"),
            ("123456789012345678901234567890", "123456789012345678901234567890"),
            ("-26.20", "-26.2"),
        ] {
            assert_eq!(number(input).as_deref(), Some(want), "{input}");
        }
    }

    #[test]
    fn non_numbers_stay_text() {
        for text in ["", "+", "-", ".", "e5", "1e", "1e+", "1.2.3", "0x10", "inf", "NaN", "1_000", "2019-10-21", "+01:00", "1e999999"] {
            assert_eq!(number(text), None, "{text}");
        }
    }
}
