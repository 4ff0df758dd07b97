//! Cron schedules: which times they fire at, and the longest wait between
//! two runs, which bounds how fresh a port can be.

/// A five-field cron expression, as the sets of values each field allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    minutes: Vec<u32>,
    hours: Vec<u32>,
    days: Vec<u32>,
    months: Vec<u32>,
    weekdays: Vec<u32>,
    /// Whether day of month and day of week were restricted (cron fires
    /// when either matches if both are).
    days_restricted: bool,
    weekdays_restricted: bool,
}

const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const WEEKDAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/// Parses `0 3 * * *`, lists, ranges, steps, month and weekday names, and
/// the `@hourly` ... `@yearly` shorthands.
pub fn parse(text: &str) -> Result<Cron, String> {
    let expanded = match text.trim() {
        "@hourly" => "0 * * * *",
        "@daily" | "@midnight" => "0 0 * * *",
        "@weekly" => "0 0 * * 0",
        "@monthly" => "0 0 1 * *",
        "@yearly" | "@annually" => "0 0 1 1 *",
        other => other,
    };
    let fields: Vec<&str> = expanded.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!("{} fields; cron has five", fields.len()));
    }
    let field = |i: usize, lo: u32, hi: u32, names: &[&str], offset: u32| field(fields[i], lo, hi, names, offset);
    let mut weekdays = field(4, 0, 7, &WEEKDAYS, 0)?;
    weekdays.iter_mut().for_each(|d| *d %= 7);
    weekdays.sort_unstable();
    weekdays.dedup();
    Ok(Cron {
        minutes: field(0, 0, 59, &[], 0)?,
        hours: field(1, 0, 23, &[], 0)?,
        days: field(2, 1, 31, &[], 0)?,
        months: field(3, 1, 12, &MONTHS, 1)?,
        weekdays,
        days_restricted: fields[2] != "*",
        weekdays_restricted: fields[4] != "*",
    })
}

fn field(text: &str, lo: u32, hi: u32, names: &[&str], offset: u32) -> Result<Vec<u32>, String> {
    let value = |s: &str| -> Result<u32, String> {
        let lower = s.to_ascii_lowercase();
        if let Some(i) = names.iter().position(|n| *n == lower) {
            return Ok(i as u32 + offset);
        }
        let v: u32 = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
        if v < lo || v > hi {
            return Err(format!("{v} is out of range {lo}-{hi}"));
        }
        Ok(v)
    };
    let mut out = vec![];
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, s.parse::<u32>().ok().filter(|s| *s > 0).ok_or(format!("bad step in `{part}`"))?),
            None => (part, 1),
        };
        let (from, to) = match range {
            "*" => (lo, hi),
            r => match r.split_once('-') {
                Some((a, b)) => (value(a)?, value(b)?),
                None if step > 1 => (value(r)?, hi),
                None => (value(r)?, value(r)?),
            },
        };
        if from > to {
            return Err(format!("empty range `{range}`"));
        }
        out.extend((from..=to).step_by(step as usize));
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// Days since 1970-01-01 to (year, month, day).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

impl Cron {
    fn fires_on(&self, days: i64) -> bool {
        let (_, month, day) = civil(days);
        let weekday = (days + 4).rem_euclid(7) as u32; // 1970-01-01 was a Thursday
        let dom = self.days.contains(&day);
        let dow = self.weekdays.contains(&weekday);
        let day_ok = match (self.days_restricted, self.weekdays_restricted) {
            (true, true) => dom || dow,
            (true, false) => dom,
            (false, true) => dow,
            (false, false) => true,
        };
        day_ok && self.months.contains(&month)
    }

    /// The longest time between two runs, in seconds (over eight years,
    /// which covers leap days and every weekday of every month).
    pub fn longest_gap(&self) -> Option<u64> {
        let times: Vec<i64> =
            self.hours.iter().flat_map(|h| self.minutes.iter().map(move |m| i64::from(h * 60 + m))).collect();
        let every_day =
            !self.days_restricted && !self.weekdays_restricted && (1..=12).all(|m| self.months.contains(&m));
        if every_day {
            // The same times every day (most schedules): the gaps within a
            // day, and the one over midnight, without walking the calendar.
            let within = times.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0);
            let overnight = times.first()? + 1440 - times.last()?;
            return Some(within.max(overnight) as u64 * 60);
        }
        let start = 19_723; // 2024-01-01
        let mut last: Option<i64> = None;
        let mut longest = 0;
        for day in start..start + 8 * 366 {
            if !self.fires_on(day) {
                continue;
            }
            for t in &times {
                let at = day * 1440 + t;
                if let Some(prev) = last {
                    longest = longest.max(at - prev);
                }
                last = Some(at);
            }
        }
        (longest > 0).then_some(longest as u64 * 60)
    }
}

/// `26h`-style text for a number of seconds, in the largest whole unit.
pub fn describe(seconds: u64) -> String {
    for (unit, size) in [("w", 604_800), ("d", 86_400), ("h", 3600), ("m", 60)] {
        if seconds.is_multiple_of(size) {
            return format!("{}{unit}", seconds / size);
        }
    }
    format!("{seconds}s")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gap(text: &str) -> u64 {
        parse(text).unwrap().longest_gap().unwrap()
    }

    #[test]
    fn gaps_of_common_schedules() {
        assert_eq!(gap("0 3 * * *"), 86_400);
        assert_eq!(gap("@hourly"), 3600);
        assert_eq!(gap("*/15 * * * *"), 900);
        assert_eq!(gap("0 6,18 * * *"), 12 * 3600);
        assert_eq!(gap("0 2 * * 1-5"), 3 * 86_400); // Friday to Monday
        assert_eq!(gap("0 0 1 * *"), 31 * 86_400);
        assert_eq!(gap("0 0 29 2 *"), (366 + 365 * 3) * 86_400); // leap days only
        assert_eq!(gap("0 7 * * mon"), 7 * 86_400);
        assert_eq!(gap("30 1,22 * * *"), 21 * 3600);
        assert_eq!(gap("0 9-17 * * *"), 16 * 3600); // 17:00 to 09:00
        assert_eq!(gap("0 3 * 1-12 *"), 86_400);
        assert_eq!(gap("0 3 * 1-11 *"), 32 * 86_400); // 30 November to 1 January
    }

    #[test]
    fn bad_schedules_are_rejected() {
        for bad in ["daily at 03:00", "61 * * * *", "0 3 * *", "0 3 * * * *", "*/0 * * * *", "5-1 * * * *"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn day_of_month_or_day_of_week() {
        // Both restricted: either matches (the 1st, and every Monday).
        assert!(gap("0 0 1 * mon") <= 7 * 86_400);
    }
}
