//! The integrity unit's review cases, for the API (and any other entry point): findings of the
//! integrity rules open cases; the unit (role `integrity`) lists, assigns, asks the member of
//! staff to explain and closes them; routine samples go to the supervisors of the member of
//! staff's district instead. A member of staff sees their own cases only once an explanation
//! has been asked for, and nobody reviews a case about themselves.
//!
//! Who sees which case is the policy's decision (`anpr_policy::oversight::CaseScope`), recorded
//! before any case is read ([`crate::access::case_scope`]); a case outside it is "not found",
//! so its existence is never revealed.

use crate::access;
use crate::error::{AppError, AppResult};
use crate::App;
use anpr_domain::User;
use anpr_integrity::review::{apply, Case, CaseOutcome, CaseQueue, CaseStatus, Step};
use anpr_policy::oversight::{CaseFacts, CaseScope, CaseView};
use anpr_policy::Subject;
use anpr_store::CaseFilter;

/// A case as the policy sees it.
fn facts(c: &Case) -> CaseFacts<'_> {
    CaseFacts {
        staff_id: &c.staff_id,
        district: c.district.as_deref(),
        routine_sample: c.queue == CaseQueue::Supervisor,
        explanation_requested: c.explanation_request.is_some(),
    }
}

/// Review cases, newest first, narrowed to what the user reviews: every case (but their own)
/// for the integrity unit, the routine samples of their district for a supervisor.
pub async fn list(state: &App, user: &User, mut filter: CaseFilter) -> AppResult<Vec<Case>> {
    let scope = access::case_scope(state, user, CaseView::Review, None).await?;
    if !scope.integrity_unit {
        filter.queue = Some(CaseQueue::Supervisor);
        filter.district = scope.sample_district.clone();
    }
    let cases = state.cases.cases(filter).await?;
    Ok(cases
        .into_iter()
        .filter(|c| scope.sees(&facts(c)))
        .collect())
}

/// One case the user reviews, or "not found".
pub async fn reviewed(state: &App, user: &User, id: i64) -> AppResult<Case> {
    let scope = access::case_scope(state, user, CaseView::Review, Some(id)).await?;
    visible(state, &scope, id).await
}

async fn visible(state: &App, scope: &CaseScope, id: i64) -> AppResult<Case> {
    match state.cases.case(id).await? {
        Some(c) if scope.sees(&facts(&c)) => Ok(c),
        _ => Err(AppError::NotFound(format!("case {id}"))),
    }
}

/// Applies a step and stores it, compare-and-set on the status it was taken from.
async fn take_step(state: &App, user: &User, case: Case, step: Step) -> AppResult<Case> {
    let next = apply(&case, &step, &user.staff_id, chrono::Utc::now())?;
    state.cases.update_case(next.clone(), case.status).await?;
    Ok(next)
}

/// Assigns a case the user reviews to `to`, an active member of staff who reviews it too.
pub async fn assign(state: &App, user: &User, id: i64, to: &str) -> AppResult<Case> {
    let case = reviewed(state, user, id).await?;
    let reviewer = state
        .store
        .users()
        .await?
        .into_iter()
        .find(|u| u.staff_id == to.trim() && u.active)
        .ok_or_else(|| AppError::invalid("to", "no active member of staff with that id"))?;
    let theirs = CaseScope::reviewer(&Subject::from_user(&reviewer));
    if !theirs.is_ok_and(|scope| scope.sees(&facts(&case))) {
        return Err(AppError::invalid(
            "to",
            "that member of staff does not review this case",
        ));
    }
    take_step(
        state,
        user,
        case,
        Step::Assign {
            to: reviewer.staff_id,
        },
    )
    .await
}

/// Asks the member of staff the case is about to explain.
pub async fn request_explanation(
    state: &App,
    user: &User,
    id: i64,
    question: String,
) -> AppResult<Case> {
    let case = reviewed(state, user, id).await?;
    take_step(state, user, case, Step::RequestExplanation { question }).await
}

/// Closes a case: explained, training, or misconduct referral.
pub async fn close(
    state: &App,
    user: &User,
    id: i64,
    outcome: CaseOutcome,
    note: String,
) -> AppResult<Case> {
    let case = reviewed(state, user, id).await?;
    take_step(state, user, case, Step::Close { outcome, note }).await
}

/// The user's own cases in which an explanation has been asked for (an open investigation is
/// not disclosed to its subject before that).
pub async fn mine(state: &App, user: &User) -> AppResult<Vec<Case>> {
    let scope = access::case_scope(state, user, CaseView::Own, None).await?;
    let cases = state
        .cases
        .cases(CaseFilter {
            staff_id: Some(user.staff_id.clone()),
            statuses: vec![
                CaseStatus::ExplanationRequested,
                CaseStatus::Explained,
                CaseStatus::Closed,
            ],
            limit: 1000,
            ..Default::default()
        })
        .await?;
    Ok(cases
        .into_iter()
        .filter(|c| scope.sees(&facts(c)))
        .collect())
}

/// Answers the request for an explanation in one's own case.
pub async fn explain(state: &App, user: &User, id: i64, text: String) -> AppResult<Case> {
    let scope = access::case_scope(state, user, CaseView::Own, Some(id)).await?;
    let case = visible(state, &scope, id).await?;
    take_step(state, user, case, Step::Explain { text }).await
}

/// A case with the names of the members of staff it is about and assigned to, so that a
/// reviewer reads who they are without looking the ids up.
#[derive(Debug, Clone)]
pub struct NamedCase {
    pub case: Case,
    pub staff_name: Option<String>,
    pub assigned_to_name: Option<String>,
}

/// `cases` with their staff's names from the user directory. Only for cases the caller
/// reviews: each came through [`list`], [`reviewed`] or a step, after the policy's decision on
/// the caller's scope was recorded.
pub async fn with_names(state: &App, cases: Vec<Case>) -> AppResult<Vec<NamedCase>> {
    let names = crate::accounts::names_by_staff_id(state).await?;
    let name = |id: Option<&String>| id.and_then(|id| names.get(id)).cloned();
    Ok(cases
        .into_iter()
        .map(|case| NamedCase {
            staff_name: name(Some(&case.staff_id)),
            assigned_to_name: name(case.assigned_to.as_ref()),
            case,
        })
        .collect())
}

/// [`with_names`] of one case.
pub async fn with_name(state: &App, case: Case) -> AppResult<NamedCase> {
    let mut named = with_names(state, vec![case]).await?;
    Ok(named.pop().expect("one case in, one out"))
}
