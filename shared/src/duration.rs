//! The one parser for human durations on command lines: `250ms`, `5s`, `2m`, or bare seconds.

use std::time::Duration;

/// Parses `250ms`, `1.5s`, `5s`, `2m`, or a bare number of seconds (`5`).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (number, scale_ms) = if let Some(n) = t.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1000.0)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60_000.0)
    } else {
        (t, 1000.0)
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a duration; write e.g. 250ms, 5s or 2m"))?;
    let ms = value * scale_ms;
    if !ms.is_finite() || ms < 0.0 {
        return Err(format!("{text:?} is not a duration; it must be 0 or more"));
    }
    if ms > 86_400_000.0 {
        return Err(format!("{text:?} is too long; at most 24 h"));
    }
    Ok(Duration::from_micros((ms * 1000.0).round() as u64))
}

/// Formats a duration the way every table and log in ringshop shows it.
pub fn short(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.1} s", ms / 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_bare_seconds() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
    }

    #[test]
    fn rejects_garbage_negative_and_absurd() {
        for bad in ["", "abc", "5h", "-1s", "NaNs", "99999999s"] {
            assert!(parse_duration(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn short_picks_a_readable_unit() {
        assert_eq!(short(Duration::from_micros(420)), "0.42 ms");
        assert_eq!(short(Duration::from_millis(37)), "37 ms");
        assert_eq!(short(Duration::from_millis(3100)), "3.1 s");
    }
}
