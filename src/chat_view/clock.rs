//! How a message's time reads: the time of day for today's, the date too for older ones.

/// A moment in the reader's own time zone, as the browser's `Date` breaks it down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocalTime {
    pub year: i32,
    /// 1–12.
    pub month: u32,
    /// 1–31.
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
}

/// `hh:mm` for a message written on the day of `now`; `yyyy-mm-dd hh:mm` for one written
/// on another day (readable in every language, and never mistaken for another date).
pub fn time_label(at: LocalTime, now: LocalTime) -> String {
    let time = format!("{:02}:{:02}", at.hour, at.minute);
    if (at.year, at.month, at.day) == (now.year, now.month, now.day) {
        time
    } else {
        format!("{:04}-{:02}-{:02} {time}", at.year, at.month, at.day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(year: i32, month: u32, day: u32, hour: u32, minute: u32) -> LocalTime {
        LocalTime {
            year,
            month,
            day,
            hour,
            minute,
        }
    }

    #[test]
    fn today_shows_the_time_only() {
        let now = at(2025, 3, 14, 23, 59);
        assert_eq!(time_label(at(2025, 3, 14, 0, 5), now), "00:05");
        assert_eq!(time_label(at(2025, 3, 14, 23, 59), now), "23:59");
    }

    #[test]
    fn another_day_shows_its_date() {
        let now = at(2025, 3, 14, 0, 1);
        assert_eq!(time_label(at(2025, 3, 13, 23, 58), now), "2025-03-13 23:58");
        // The same day and month of another year is another day.
        assert_eq!(time_label(at(2024, 3, 14, 9, 0), now), "2024-03-14 09:00");
        assert_eq!(time_label(at(2025, 2, 14, 9, 0), now), "2025-02-14 09:00");
    }
}
