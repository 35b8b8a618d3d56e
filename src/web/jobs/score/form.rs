//! The scoring form as posted and read: [`ScoreForm`] (the fields as sent), the
//! button's [`Action`], and [`Posted`], the form read and checked before the job is:
//! the four levels (required except for a draft, going back or a skip), the comment's
//! refusals, the one-time `form_key` and the next-job hint, each error naming its field.

use serde::Deserialize;

use crate::credentials::random_token;
use crate::domain::{DomainError, Factor, Level, check_text};
use crate::store::idempotency;
use crate::store::submissions;
use crate::web::{FieldError, Result, WebError};

/// The scoring form as posted.
#[derive(Debug, Deserialize)]
pub(super) struct ScoreForm {
    pub(super) client_engagement: Option<String>,
    pub(super) search_difficulty: Option<String>,
    pub(super) time_open: Option<String>,
    pub(super) fee_size: Option<String>,
    pub(super) comment: Option<String>,
    pub(super) action: Option<String>,
    /// The job the form's page named as next in my queue (a hint; checked on use).
    pub(super) next: Option<String>,
    /// The form's one-time key.
    pub(super) form_key: Option<String>,
    /// "Can't judge this one": an offered reason, or one in the scorer's words.
    pub(super) reason: Option<String>,
    pub(super) reason_other: Option<String>,
}

/// What the form's button asks for.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Action {
    /// Save a draft and come back.
    Draft,
    /// Show the confirmation step (also when no action is sent).
    Review,
    /// Back from the confirmation step to the form.
    Edit,
    /// Store the submission.
    Submit,
    /// Set the job aside for this week ("Can't judge this one").
    Skip,
    /// Anything else: refused once the job is known to take scores.
    Other(String),
}

impl Action {
    pub(super) fn parse(raw: Option<&str>) -> Action {
        match raw.unwrap_or("review") {
            "draft" => Action::Draft,
            "review" => Action::Review,
            "edit" => Action::Edit,
            "submit" => Action::Submit,
            "skip" => Action::Skip,
            other => Action::Other(other.to_string()),
        }
    }
}

/// The form read and checked, before the job is.
pub(super) struct Posted {
    pub(super) action: Action,
    /// Valid levels only.
    pub(super) levels: [Option<u8>; 4],
    pub(super) comment: String,
    /// Each naming its field.
    pub(super) errors: Vec<FieldError>,
    /// The next job the form named, when it reads as another job id.
    pub(super) hint: Option<i64>,
    /// The form's one-time key, when it carries one.
    pub(super) key: Option<String>,
}

/// The form's one-time key: absent (an older page, a script) or well formed; anything
/// else is a 400 naming the field.
fn read_key(raw: Option<&str>) -> Result<Option<String>> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(k) if idempotency::is_valid_key(k) => Ok(Some(k.to_string())),
        Some(_) => Err(WebError::BadRequest(
            "the form's one-time key (form_key) is not one this site made: reload the form and try again".into(),
        )),
    }
}

impl Posted {
    /// Every level is required except for a draft, for going back to the form and for
    /// a skip (which stores no levels).
    pub(super) fn read(form: &ScoreForm, id: i64) -> Result<Posted> {
        let action = Action::parse(form.action.as_deref());
        let required = !matches!(action, Action::Draft | Action::Edit | Action::Skip);
        let (levels, mut errors) = read_levels(form, required);
        let comment = form.comment.as_deref().map(str::trim).unwrap_or("");
        if action != Action::Skip {
            errors.extend(comment_error(comment));
        }
        Ok(Posted {
            key: read_key(form.form_key.as_deref())?,
            action,
            levels,
            comment: comment.to_string(),
            errors,
            // A malformed hint is dropped, not an error: it only saves a read.
            hint: form
                .next
                .as_deref()
                .and_then(|n| n.trim().parse::<i64>().ok())
                .filter(|n| *n > 0 && *n != id),
        })
    }

    /// This form's key, or a new one for a page that is to carry one.
    pub(super) fn key_or_new(&self) -> String {
        self.key.clone().unwrap_or_else(random_token)
    }

    pub(super) fn comment(&self) -> Option<String> {
        (!self.comment.is_empty()).then(|| self.comment.clone())
    }
}

/// Reads the four levels; `required` makes a missing one an error. Returns the raw
/// levels (valid ones only) and the errors, each naming its field.
fn read_levels(form: &ScoreForm, required: bool) -> ([Option<u8>; 4], Vec<FieldError>) {
    let raw = [
        &form.client_engagement,
        &form.search_difficulty,
        &form.time_open,
        &form.fee_size,
    ];
    let mut levels = [None; 4];
    let mut errors = Vec::new();
    for (i, f) in Factor::ALL.iter().enumerate() {
        match raw[i].as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            None if required => errors.push(FieldError {
                field: f.key().into(),
                message: format!("{}: pick a level from 1 to 5.", f.label()),
            }),
            None => {}
            Some(v) => match Level::parse(f.key(), v) {
                Ok(l) => levels[i] = Some(l.get()),
                Err(e) => errors.push(FieldError {
                    field: f.key().into(),
                    message: format!("{}: {e}.", f.label()),
                }),
            },
        }
    }
    (levels, errors)
}

/// The comment's refusal, if any: a control character, or too long.
fn comment_error(comment: &str) -> Option<FieldError> {
    let message = if let Err(DomainError::Invalid { reason, .. }) = check_text("comment", comment) {
        format!("Comment: {reason}.")
    } else if comment.chars().count() > submissions::MAX_COMMENT_CHARS {
        format!(
            "Comment: must be at most {} characters.",
            submissions::MAX_COMMENT_CHARS
        )
    } else {
        return None;
    };
    Some(FieldError {
        field: "comment".into(),
        message,
    })
}
