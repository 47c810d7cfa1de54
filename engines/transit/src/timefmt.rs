//! Go's `time.RFC3339Nano` in UTC, as Vault writes key creation times.

use time::OffsetDateTime;

/// `2024-03-22T02:24:06.9453192Z`: trailing zeros of the fraction trimmed, none when zero.
pub fn rfc3339_nanos(instant: OffsetDateTime) -> String {
    let instant = instant.to_offset(time::UtcOffset::UTC);
    let mut text = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        instant.year(),
        u8::from(instant.month()),
        instant.day(),
        instant.hour(),
        instant.minute(),
        instant.second()
    );
    if instant.nanosecond() != 0 {
        let fraction = format!("{:09}", instant.nanosecond());
        text.push('.');
        text.push_str(fraction.trim_end_matches('0'));
    }
    text.push('Z');
    text
}

/// Go's `time.Time` JSON (RFC 3339, any offset); `None` for text that is not one or for Go's
/// zero time (`0001-01-01T00:00:00Z`, which keys restored from old Vault backups carry).
pub fn parse_rfc3339(text: &str) -> Option<OffsetDateTime> {
    let instant =
        OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    match instant.year() {
        1 => None,
        _ => Some(instant),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_like_go() {
        let instant = time::OffsetDateTime::from_unix_timestamp_nanos(1_711_074_246_945_319_200)
            .expect("in range");
        assert_eq!(
            super::rfc3339_nanos(instant),
            "2024-03-22T02:24:06.9453192Z"
        );
        assert_eq!(
            super::rfc3339_nanos(time::OffsetDateTime::UNIX_EPOCH),
            "1970-01-01T00:00:00Z"
        );
    }

    #[test]
    fn parses_go_times() {
        let rows = [
            ("2024-03-22T02:24:06.9453192Z", Some(1_711_074_246)),
            ("2024-03-22T03:24:06.945319214+01:00", Some(1_711_074_246)),
            ("0001-01-01T00:00:00Z", None),
            ("", None),
            ("yesterday", None),
        ];
        for (text, seconds) in rows {
            assert_eq!(
                super::parse_rfc3339(text).map(|instant| instant.unix_timestamp()),
                seconds,
                "{text}"
            );
        }
    }
}
