//! What each message says: the weekly digest, an alert batch and a password reset
//! link, as an email (a plain-text part written here and a simple HTML part from a
//! template under `templates/email/`, escaped by askama) and as a Slack post (mrkdwn
//! escaped by [`crate::slack::escape`]). Pure: the callers read the store.

use askama::Template;

use crate::slack::{Block, SlackMessage, escape, link};

/// A date as messages show it: "7 Dec 2026".
pub fn day(d: chrono::NaiveDate) -> String {
    d.format("%-d %b %Y").to_string()
}

/// How a message greets someone: their first name ("Tom" for "Tom Okafor").
pub fn first_name(full: &str) -> String {
    full.split_whitespace().next().unwrap_or(full).to_string()
}

/// "1 job", "3 jobs".
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// One job in a list, with its link when the public URL is known.
#[derive(Debug, Clone, PartialEq)]
pub struct JobLine {
    pub title: String,
    pub client: String,
    /// "A", "B", "C", or "no rank yet".
    pub rank: String,
    pub url: Option<String>,
}

impl JobLine {
    fn text(&self) -> String {
        let rank = if self.rank.len() == 1 {
            format!("rank {}", self.rank)
        } else {
            self.rank.clone()
        };
        with_url(
            format!("{} ({}), {rank}", self.title, self.client),
            &self.url,
        )
    }
}

/// One scorer's week: how many of the jobs due they scored.
#[derive(Debug, Clone, PartialEq)]
pub struct ScorerLine {
    pub name: String,
    pub done: usize,
    pub due: usize,
}

/// A job whose rank changed in the week.
#[derive(Debug, Clone, PartialEq)]
pub struct MoveLine {
    pub title: String,
    pub client: String,
    /// The rank before ("B"), or "no rank".
    pub from: String,
    pub to: String,
    pub url: Option<String>,
}

impl MoveLine {
    fn text(&self) -> String {
        with_url(
            format!(
                "{} ({}): {} → {}",
                self.title, self.client, self.from, self.to
            ),
            &self.url,
        )
    }
}

fn with_url(text: String, url: &Option<String>) -> String {
    match url {
        Some(u) => format!("{text}\n  {u}"),
        None => text,
    }
}

/// Last week's participation, for the CEO.
#[derive(Debug, Clone, PartialEq)]
pub struct WeekLines {
    /// "1 Dec 2026 to 7 Dec 2026".
    pub period: String,
    pub scorers: Vec<ScorerLine>,
}

/// One person's weekly digest: the jobs that need their score (a scorer) and, for the
/// CEO, last week's participation and the week's rank changes.
#[derive(Debug, Clone, PartialEq, Template)]
#[template(path = "email/digest.html")]
pub struct DigestEmail {
    pub name: String,
    /// The week's Monday, in words.
    pub week: String,
    pub to_score: Vec<JobLine>,
    /// For the CEO.
    pub participation: Option<WeekLines>,
    /// For the CEO: the jobs whose rank changed in the last 7 days.
    pub moves: Option<Vec<MoveLine>>,
    pub dashboard: Option<String>,
    pub me: Option<String>,
}

impl DigestEmail {
    /// Whether there is anything to tell: jobs to score, or (for the CEO) someone's
    /// participation or a rank change.
    pub fn has_news(&self) -> bool {
        !self.to_score.is_empty()
            || self
                .participation
                .as_ref()
                .is_some_and(|p| !p.scorers.is_empty())
            || self.moves.as_ref().is_some_and(|m| !m.is_empty())
    }

    pub fn subject(&self) -> String {
        let n = self.to_score.len();
        let jobs = format!(
            "{} your score this week",
            count(n, "job needs", "jobs need")
        );
        match (n > 0, self.participation.is_some() || self.moves.is_some()) {
            (true, true) => format!("{jobs}; last week's participation and rank changes"),
            (true, false) => jobs,
            (false, _) => "Weekly digest: last week's participation and rank changes".into(),
        }
    }

    pub fn text(&self) -> String {
        let mut t = format!("Hello {},\n\n", self.name);
        if !self.to_score.is_empty() {
            t += &format!(
                "{}:\n\n",
                count(
                    self.to_score.len(),
                    "job needs your score this week",
                    "jobs need your score this week"
                )
            );
            for j in &self.to_score {
                t += &format!("- {}\n", j.text());
            }
            t += "\n";
        }
        if let Some(p) = &self.participation {
            t += &format!(
                "Participation last week ({}): jobs scored of those due\n\n",
                p.period
            );
            if p.scorers.is_empty() {
                t += "- Nobody had jobs due.\n";
            }
            for s in &p.scorers {
                t += &format!("- {}: {} of {}\n", s.name, s.done, s.due);
            }
            t += "\n";
        }
        if let Some(moves) = &self.moves {
            t += "Rank changes in the last 7 days:\n\n";
            if moves.is_empty() {
                t += "- No job changed rank.\n";
            }
            for m in moves {
                t += &format!("- {}\n", m.text());
            }
            t += "\n";
        }
        t += &footer(&self.dashboard, &self.me, "the weekly digest");
        t
    }

    pub fn html(&self) -> Result<String, askama::Error> {
        self.render()
    }
}

fn footer(dashboard: &Option<String>, me: &Option<String>, what: &str) -> String {
    let mut t = String::new();
    if let Some(d) = dashboard {
        t += &format!("Open jobrank: {d}\n");
    }
    match me {
        Some(m) => t += &format!("You can switch {what} off on My settings: {m}\n"),
        None => t += &format!("You can switch {what} off on My settings in jobrank.\n"),
    }
    t
}

/// The team's digest post: who has jobs to score, and the week's rank changes. (Each
/// person's participation goes to the CEO only.)
pub fn slack_digest(
    week: &str,
    to_score: &[(String, usize)],
    moves: &[MoveLine],
    dashboard: Option<&str>,
) -> SlackMessage {
    let total: usize = to_score.iter().map(|(_, n)| n).sum();
    let heading = format!("Weekly digest, week of {week}");
    let mut blocks = vec![Block::Header(heading.clone())];
    let mut text = heading;
    if !to_score.is_empty() {
        let who: Vec<String> = to_score
            .iter()
            .map(|(name, n)| format!("{} {n}", escape(name)))
            .collect();
        let line = format!(
            "*Scores due this week:* {} ({total} in all)",
            who.join(", ")
        );
        text += &format!("\n{}", line.replace('*', ""));
        blocks.push(Block::Section(line));
    }
    if !moves.is_empty() {
        let lines: Vec<String> = moves
            .iter()
            .map(|m| {
                let label = format!("{} ({})", m.title, m.client);
                let job = match &m.url {
                    Some(u) => link(u, &label),
                    None => escape(&label),
                };
                format!("• {job}: {} → {}", m.from, m.to)
            })
            .collect();
        blocks.push(Block::Section(section(
            "*Rank changes in the last 7 days*",
            &lines,
        )));
        text += &format!("\n{}", count(moves.len(), "rank change", "rank changes"));
    }
    if let Some(d) = dashboard {
        blocks.push(Block::Context(link(d, "Open jobrank")));
    }
    SlackMessage { text, blocks }
}

/// A section's mrkdwn: a title and lines, kept under Slack's 3,000 characters per
/// section ("… and N more" when cut).
fn section(title: &str, lines: &[String]) -> String {
    let mut out = title.to_string();
    for (i, l) in lines.iter().enumerate() {
        if out.len() + l.len() > 2800 {
            out += &format!("\n… and {} more", lines.len() - i);
            break;
        }
        out += "\n";
        out += l;
    }
    out
}

/// One thing an alert says: the job ("Head of Data (Acme)"), what happened to it (a
/// sentence part), the same in two or three words for a subject, and the job's link.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertLine {
    pub job: String,
    /// "dropped to C (was B; team score 2.75)".
    pub what: String,
    /// "dropped to C".
    pub short: String,
    pub url: Option<String>,
}

impl AlertLine {
    /// "Head of Data (Acme): dropped to C (was B; team score 2.75)."
    pub fn sentence(&self) -> String {
        format!("{}: {}.", self.job, self.what)
    }
}

/// One person's alert message: every alert of a batch about jobs they follow.
#[derive(Debug, Clone, PartialEq, Template)]
#[template(path = "email/alerts.html")]
pub struct AlertsEmail {
    pub name: String,
    pub lines: Vec<AlertLine>,
    pub me: Option<String>,
}

impl AlertsEmail {
    pub fn subject(&self) -> String {
        match self.lines.as_slice() {
            [one] => format!("jobrank alert: {} {}", one.job, one.short),
            lines => format!(
                "jobrank alerts: {} need attention",
                count(lines.len(), "job", "jobs")
            ),
        }
    }

    pub fn text(&self) -> String {
        let mut t = format!("Hello {},\n\n", self.name);
        for l in &self.lines {
            t += &format!("- {}\n", with_url(l.sentence(), &l.url));
        }
        t += "\nAlerts come at most once an hour; later ones wait for the next message.\n";
        t += &footer(&None, &self.me, "alerts");
        t
    }

    pub fn html(&self) -> Result<String, askama::Error> {
        self.render()
    }
}

/// The team's post for an alert batch.
pub fn slack_alerts(lines: &[AlertLine]) -> SlackMessage {
    let heading = format!(
        "jobrank alerts: {}",
        count(lines.len(), "job needs attention", "jobs need attention")
    );
    let shown: Vec<String> = lines
        .iter()
        .map(|l| {
            let job = match &l.url {
                Some(u) => link(u, &l.job),
                None => escape(&l.job),
            };
            format!("• {job}: {}", escape(&l.what))
        })
        .collect();
    SlackMessage {
        text: heading.clone(),
        blocks: vec![
            Block::Header(heading),
            Block::Section(section("", &shown).trim_start().to_string()),
        ],
    }
}

/// The "forgot password" email: a single-use link valid for 30 minutes.
#[derive(Debug, Clone, PartialEq, Template)]
#[template(path = "email/password_reset.html")]
pub struct ResetEmail {
    pub name: String,
    pub url: String,
    pub minutes: i64,
}

impl ResetEmail {
    pub fn subject(&self) -> String {
        "Reset your jobrank password".into()
    }

    pub fn text(&self) -> String {
        format!(
            "Hello {},\n\nSomeone (we hope you) asked to reset your jobrank password. To choose a new one, open this link within {} minutes; it works once:\n\n{}\n\nIf you did not ask, ignore this email: your password stays as it is.\n",
            self.name, self.minutes, self.url
        )
    }

    pub fn html(&self) -> Result<String, askama::Error> {
        self.render()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(title: &str, rank: &str) -> JobLine {
        JobLine {
            title: title.into(),
            client: "Acme <R&D>".into(),
            rank: rank.into(),
            url: Some("https://jobrank.example/jobs/7/score".into()),
        }
    }

    #[test]
    fn a_scorers_digest_lists_the_jobs_in_both_parts_escaped_in_html() {
        let d = DigestEmail {
            name: "Tom".into(),
            week: "7 Dec 2026".into(),
            to_score: vec![job("Head of <Data>", "B"), job("Analyst", "no rank yet")],
            participation: None,
            moves: None,
            dashboard: Some("https://jobrank.example/".into()),
            me: Some("https://jobrank.example/me".into()),
        };
        assert!(d.has_news());
        assert_eq!(d.subject(), "2 jobs need your score this week");
        let text = d.text();
        assert!(
            text.contains(
                "- Head of <Data> (Acme <R&D>), rank B\n  https://jobrank.example/jobs/7/score"
            ),
            "{text}"
        );
        assert!(
            text.contains("- Analyst (Acme <R&D>), no rank yet"),
            "{text}"
        );
        assert!(
            text.contains("My settings: https://jobrank.example/me"),
            "{text}"
        );
        let html = d.html().unwrap();
        assert!(
            html.contains("Head of &#60;Data&#62;") || html.contains("Head of &lt;Data&gt;"),
            "{html}"
        );
        assert!(!html.contains("<Data>"), "{html}");
        assert!(
            html.contains("href=\"https://jobrank.example/jobs/7/score\""),
            "{html}"
        );
    }

    #[test]
    fn the_ceos_digest_has_participation_and_rank_changes() {
        let d = DigestEmail {
            name: "Claire".into(),
            week: "7 Dec 2026".into(),
            to_score: vec![],
            participation: Some(WeekLines {
                period: "30 Nov 2026 to 6 Dec 2026".into(),
                scorers: vec![ScorerLine {
                    name: "Tom".into(),
                    done: 8,
                    due: 10,
                }],
            }),
            moves: Some(vec![MoveLine {
                title: "Fleet Manager".into(),
                client: "Beta".into(),
                from: "B".into(),
                to: "C".into(),
                url: None,
            }]),
            dashboard: None,
            me: None,
        };
        assert!(d.has_news());
        assert_eq!(
            d.subject(),
            "Weekly digest: last week's participation and rank changes"
        );
        let text = d.text();
        assert!(text.contains("- Tom: 8 of 10\n"), "{text}");
        assert!(text.contains("- Fleet Manager (Beta): B → C\n"), "{text}");
        let nothing = DigestEmail {
            participation: Some(WeekLines {
                period: String::new(),
                scorers: vec![],
            }),
            moves: Some(vec![]),
            ..d
        };
        assert!(!nothing.has_news());
    }

    #[test]
    fn slack_posts_escape_what_people_typed() {
        let m = slack_digest(
            "7 Dec 2026",
            &[("Tom <@U1>".into(), 3), ("Priya".into(), 2)],
            &[],
            Some("https://jobrank.example/"),
        );
        let json = serde_json::to_string(&m).unwrap();
        assert!(
            json.contains("Tom &lt;@U1&gt; 3, Priya 2 (5 in all)"),
            "{json}"
        );
        let line = AlertLine {
            job: "Head of <Data> (Acme)".into(),
            what: "dropped to C (was B; team score 2.75)".into(),
            short: "dropped to C".into(),
            url: Some("https://jobrank.example/jobs/7".into()),
        };
        let a = slack_alerts(std::slice::from_ref(&line));
        let json = serde_json::to_string(&a).unwrap();
        assert!(
            json.contains("<https://jobrank.example/jobs/7|Head of &lt;Data&gt; (Acme)>"),
            "{json}"
        );
        assert_eq!(a.text, "jobrank alerts: 1 job needs attention");
        let email = AlertsEmail {
            name: "Tom".into(),
            lines: vec![line],
            me: None,
        };
        assert_eq!(
            email.subject(),
            "jobrank alert: Head of <Data> (Acme) dropped to C"
        );
        assert!(email.text().contains(
            "- Head of <Data> (Acme): dropped to C (was B; team score 2.75).\n  https://jobrank.example/jobs/7"
        ));
    }
}
