//! The bound on job updates (`RECRUITERFLOW_WRITE_BACK_PER_MINUTE`), with the clock
//! as a parameter.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};

/// The bound on job updates: a token bucket of `per_minute` tokens in which each
/// update spends one that comes back a minute after it was spent, so no minute (any
/// 60 seconds, not only clock minutes) sees more than `per_minute` updates. The clock
/// is a parameter: every method takes the time.
#[derive(Debug, Clone)]
pub struct RateBound {
    per_minute: u32,
    /// When each token now spent was spent, oldest first.
    spent: VecDeque<DateTime<Utc>>,
}

const MINUTE: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

impl RateBound {
    /// A bound of `per_minute` updates in any minute; 0 for none.
    pub fn new(per_minute: u32) -> RateBound {
        RateBound {
            per_minute,
            spent: VecDeque::new(),
        }
    }

    fn refill(&mut self, now: DateTime<Utc>) {
        // A clock set back must not hold tokens for longer than a minute from now.
        for t in self.spent.iter_mut() {
            *t = (*t).min(now);
        }
        while self.spent.front().is_some_and(|t| *t + MINUTE <= now) {
            self.spent.pop_front();
        }
    }

    /// Takes up to `wanted` tokens at `now`; returns how many were taken (all of them
    /// without a bound).
    pub fn take(&mut self, wanted: usize, now: DateTime<Utc>) -> usize {
        if self.per_minute == 0 {
            return wanted;
        }
        self.refill(now);
        let free = (self.per_minute as usize).saturating_sub(self.spent.len());
        let n = wanted.min(free);
        self.spent.extend(std::iter::repeat_n(now, n));
        n
    }

    /// When the next token comes back, if none is free at `now`.
    pub fn next_free_at(&mut self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if self.per_minute == 0 {
            return None;
        }
        self.refill(now);
        if self.spent.len() < self.per_minute as usize {
            return None;
        }
        self.spent.front().map(|t| *t + MINUTE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
    }

    #[test]
    fn the_bound_lets_per_minute_updates_through_in_any_minute() {
        let mut b = RateBound::new(3);
        assert_eq!(b.take(2, t(0)), 2);
        assert_eq!(b.next_free_at(t(0)), None, "one token is still free");
        assert_eq!(b.take(5, t(10)), 1);
        assert_eq!(b.take(1, t(59)), 0);
        // The first two tokens come back a minute after they were spent.
        assert_eq!(b.next_free_at(t(59)), Some(t(60)));
        assert_eq!(b.take(5, t(60)), 2);
        assert_eq!(b.next_free_at(t(60)), Some(t(70)));
        assert_eq!(b.take(5, t(70)), 1);
        // Never more than 3 in any 60 seconds.
        let mut b = RateBound::new(3);
        let mut sent = Vec::new();
        for s in 0..600 {
            for _ in 0..b.take(2, t(s)) {
                sent.push(s);
            }
        }
        for (i, s) in sent.iter().enumerate() {
            let in_minute = sent[i..].iter().take_while(|x| **x < s + 60).count();
            assert!(in_minute <= 3, "{in_minute} updates in the minute from {s}");
        }
        assert_eq!(sent.len(), 30, "3 a minute for 10 minutes");
    }

    #[test]
    fn no_bound_lets_everything_through_and_a_clock_set_back_holds_tokens_a_minute_at_most() {
        let mut none = RateBound::new(0);
        assert_eq!(none.take(10_000, t(0)), 10_000);
        assert_eq!(none.next_free_at(t(0)), None);
        let mut b = RateBound::new(1);
        assert_eq!(b.take(1, t(3600)), 1);
        // The clock goes back an hour: the token comes back a minute from then.
        assert_eq!(b.next_free_at(t(0)), Some(t(60)));
        assert_eq!(b.take(1, t(60)), 1);
    }
}
