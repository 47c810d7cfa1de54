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
}
