// Screen 4: integrity. The review queue of cases opened by the integrity rules' findings (the
// integrity unit sees every case, a supervisor the routine samples of their district); running
// the rules on demand; a case page with the finding's explanation, its evidence (ledger entry
// indices) and the workflow (assign, ask the member of staff to explain, close); and "My cases",
// where any member of staff answers a request for an explanation in a case about them. The
// queue groups the cases about one member of staff under one rule (a rule that fires daily on
// one person opens a case a day), newest group first, each member of staff named beside their id.

import { h, fill, field, message, timeEl, plural, nzTimesIn } from './dom.js';
import { get, post, qs } from './api.js';

const RULES = {
  own_vehicle: 'Own or connected vehicle',
  stolen_report: 'Suspect stolen report',
  file_not_theirs: 'File number not theirs',
  file_many_plates: 'One file, many plates',
  boilerplate_justification: 'Boilerplate justification',
  repeated_interest: 'Repeated interest in a plate',
  polling: 'Polling a plate',
  unusual_volume: 'Unusual volume',
  unusual_hours: 'Unusual hours',
  renewal_chain: 'Chained renewals',
  tracking_after_recovery: 'Tracking after recovery',
  approval_conflict: 'Approval by the wrong person',
  staged_tracking: 'Tracking set up by one administrator',
  emergency_chain: 'Rolling emergency requests',
  read_enumeration: 'Reads asked for by id, never shown',
  routine_sample: 'Routine sample',
  ledger_altered: 'Audit ledger altered',
};
const STATUS = {
  open: 'open', assigned: 'assigned', explanation_requested: 'explanation requested',
  explained: 'explained', closed: 'closed',
};
const OUTCOMES = [
  ['explained', 'Explained: no further action'],
  ['training', 'Training'],
  ['misconduct_referral', 'Misconduct referral'],
];
const outcomeWords = (o) => (OUTCOMES.find(([v]) => v === o) || [o, o])[1];
const ruleWords = (r) => RULES[r] || r;
const NOT_CLOSED = 'open,assigned,explanation_requested,explained';

/** The queue; `#/integrity/12` opens case 12 instead. */
export function integrityScreen(main, user, arg) {
  if (arg) { caseScreen(main, user, Number(arg)); return; }
  const isUnit = user.roles.includes('integrity');
  const status = h('select', { id: 'cases-status', name: 'status' },
    h('option', { value: NOT_CLOSED }, 'Not closed'),
    h('option', { value: 'closed' }, 'Closed'),
    h('option', { value: '' }, 'All'));
  const queue = h('select', { id: 'cases-queue', name: 'queue' },
    h('option', { value: '' }, 'All'),
    h('option', { value: 'integrity' }, 'Integrity unit'),
    h('option', { value: 'supervisor' }, 'Routine samples (supervisors)'));
  const runSlot = h('div.status-slot#run-report', { 'aria-live': 'polite' });
  const listSlot = h('div.slot', {}, 'Loading…');
  const runButton = isUnit ? h('button.primary#run-rules', { type: 'button', onclick: runRules }, 'Run the rules now') : null;
  status.addEventListener('change', load);
  queue.addEventListener('change', load);
  fill(main,
    h('div.live-head', {}, h('h1', {}, 'Integrity'), runButton),
    h('p.hint', {}, isUnit
      ? 'Cases opened by the integrity rules\u2019 findings, newest first. Each step you take is recorded in the ledger.'
      : 'Routine samples of your district\u2019s queries for your review, newest first. Each step you take is recorded in the ledger.'),
    runSlot,
    h('section.card', { 'aria-labelledby': 'cases-title' },
      h('h2#cases-title', {}, 'Cases'),
      h('div.row', {}, field('Status', status), isUnit ? field('Queue', queue) : null),
      listSlot));

  // Only the list of the filters last chosen is drawn: an earlier request that answers later
  // (the first load, then a quick change of filter) must not overwrite it.
  let latest = 0;
  async function load() {
    const asked = ++latest;
    try {
      const cases = await get(`/api/v1/integrity/cases${qs({ status: status.value, queue: isUnit ? queue.value : '' })}`);
      if (asked === latest) fill(listSlot, cases.length ? caseTable(cases) : message('info', 'No cases match.'));
    } catch (err) {
      if (asked === latest) fill(listSlot, message('error', err.message));
    }
  }

  async function runRules() {
    runButton.disabled = true;
    fill(runSlot, message('info', 'Running the rules over the new ledger entries…'));
    try {
      const r = await post('/api/v1/integrity/runs', {});
      const byRule = Object.entries(r.findings || {});
      fill(runSlot, message('ok',
        r.to_index === null || r.to_index === undefined
          ? `Nothing new in the ledger since entry ${r.from_index}.`
          : `The rules read ledger entries ${r.from_index} to ${r.to_index}: ${plural(r.uses, 'use')} of plate data, ${plural(byRule.reduce((n, [, c]) => n + c, 0), 'finding')} new or changed, ${plural(r.cases_opened, 'case')} opened, ${plural(r.findings_updated, 'open finding')} gained evidence (${r.seconds.toFixed(2)} s).`),
      byRule.length ? h('ul#run-findings', {}, byRule.map(([rule, n]) => h('li', {}, `${ruleWords(rule)}: ${n}`))) : null);
      await load();
    } catch (err) {
      fill(runSlot, message('error', err.message));
    } finally {
      runButton.disabled = false;
    }
  }

  load();
}

/** "Ann Smith (S1001)", or the id alone when the name is not known. */
const staffWords = (id, name) => (name ? `${name} (${id})` : id);

/** The cases grouped by member of staff and rule, in the order of each group's newest case. */
function groupCases(cases) {
  const groups = new Map();
  for (const c of cases) {
    const key = `${c.staff_id}\u0000${c.finding.rule}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(c);
  }
  return [...groups.values()];
}

function caseTable(cases) {
  const groups = groupCases(cases);
  return h('div.table-wrap', {}, h('table.cases', {},
    h('caption', {}, `${plural(cases.length, 'case')} in ${plural(groups.length, 'group')}, one for each member of staff and rule`),
    h('thead', {}, h('tr', {}, ['Case', 'Opened (NZ)', 'Severity', 'Rule', 'Staff', 'Status', 'Assigned to', ''].map((c) => h('th', { scope: 'col' }, c)))),
    groups.map(caseGroup)));
}

/** One member of staff's cases under one rule: the newest shown, the others on request. */
function caseGroup(list) {
  const [newest] = list;
  const rows = list.map((c, k) => {
    const row = h('tr', { 'data-case-id': c.id, 'data-staff-id': c.staff_id, 'data-rule': c.finding.rule, hidden: k > 0 },
      h('td.num', {}, String(c.id)), h('td', {}, timeEl(c.opened_at)),
      h('td', {}, h(`span.badge.severity-${c.finding.severity}`, {}, c.finding.severity)),
      h('td', {}, ruleWords(c.finding.rule)), h('td', {}, staffWords(c.staff_id, c.staff_name)),
      h('td', {}, STATUS[c.status] || c.status), h('td', {}, c.assigned_to ? staffWords(c.assigned_to, c.assigned_to_name) : '—'),
      h('td', {}, h('a', { href: `#/integrity/${c.id}`, 'aria-label': `Open case ${c.id}` }, 'Open')));
    return row;
  });
  const who = staffWords(newest.staff_id, newest.staff_name);
  const more = list.length - 1;
  let toggle = null;
  if (more) {
    toggle = h('button.link', { type: 'button', 'aria-expanded': 'false', 'aria-label': `Show the ${plural(more, 'earlier case')} about ${who} under ${ruleWords(newest.finding.rule)}` }, `Show ${plural(more, 'earlier case')}`);
    toggle.addEventListener('click', () => {
      const open = toggle.getAttribute('aria-expanded') !== 'true';
      rows.slice(1).forEach((r) => { r.hidden = !open; });
      toggle.setAttribute('aria-expanded', String(open));
      toggle.textContent = open ? `Hide ${plural(more, 'earlier case')}` : `Show ${plural(more, 'earlier case')}`;
    });
  }
  const head = h('tr.group-head', { 'data-group-staff': newest.staff_id, 'data-group-rule': newest.finding.rule, 'data-count': list.length },
    h('th', { scope: 'rowgroup', colspan: 8 },
      `${who} — ${ruleWords(newest.finding.rule)}: ${plural(list.length, 'case')}`,
      toggle ? [' ', toggle] : null));
  return h('tbody.case-group', {}, head, rows);
}

/** The finding and what has happened in the case so far, as a list of facts. */
function caseFacts(c) {
  const f = c.finding;
  return h('dl.facts', {},
    h('dt', {}, 'Rule'), h('dd', {}, ruleWords(f.rule)),
    h('dt', {}, 'Severity'), h('dd', {}, f.severity),
    h('dt', {}, 'About'), h('dd#case-staff', {}, `${staffWords(c.staff_id, c.staff_name)}${c.district ? `, ${c.district}` : ''}`),
    h('dt', {}, 'Status'), h('dd#case-status', {}, STATUS[c.status] || c.status),
    h('dt', {}, 'Queue'), h('dd', {}, c.queue === 'supervisor' ? 'routine samples (supervisors)' : 'integrity unit'),
    h('dt', {}, 'Assigned to'), h('dd#case-assigned', {}, c.assigned_to ? staffWords(c.assigned_to, c.assigned_to_name) : '—'),
    h('dt', {}, 'Uses'), h('dd', {}, plural(f.uses, 'use')),
    h('dt', {}, 'First / last'), h('dd', {}, timeEl(f.first_at), ' – ', timeEl(f.last_at)),
    h('dt', {}, 'Opened'), h('dd', {}, timeEl(c.opened_at)),
    c.explanation_request ? [h('dt', {}, 'Question asked'), h('dd#case-question', {}, c.explanation_request)] : null,
    c.explanation ? [h('dt', {}, 'Explanation'), h('dd#case-explanation', {}, c.explanation, ' (', timeEl(c.explained_at), ')')] : null,
    c.outcome ? [h('dt', {}, 'Outcome'), h('dd#case-outcome', {}, outcomeWords(c.outcome))] : null,
    c.closing_note ? [h('dt', {}, 'Closing note'), h('dd', {}, c.closing_note, ` (${c.closed_by}, `, timeEl(c.closed_at), ')')] : null);
}

function caseScreen(main, user, id) {
  const canSeeLedger = user.roles.some((r) => r === 'integrity' || r === 'auditor');
  const status = h('div.status-slot', { 'aria-live': 'polite' });
  const body = h('div.stack', {}, 'Loading…');
  fill(main, h('p', {}, h('a', { href: '#/integrity' }, '\u2190 All cases')), h('h1', {}, `Case ${id}`), status, body);

  function show(c) {
    const evidence = c.finding.evidence.map((i) => h('li', {},
      canSeeLedger ? h('a', { href: `#/ledger/${i}` }, `ledger entry ${i}`) : `ledger entry ${i}`));
    fill(body,
      h('section.card', { 'aria-labelledby': 'finding-title' },
        h('h2#finding-title', {}, 'Finding'),
        h('p#case-finding', {}, nzTimesIn(c.finding.explanation)),
        caseFacts(c)),
      h('section.card', { 'aria-labelledby': 'evidence-title' },
        h('h2#evidence-title', {}, 'Evidence'),
        h('p.hint', {}, `The ledger entries the finding rests on (${c.finding.evidence.length} shown of ${plural(c.finding.uses, 'use')}).`),
        h('ul#case-evidence', {}, evidence)),
      c.status === 'closed' ? null : workflow(c));
  }

  function workflow(c) {
    const to = h('input', { id: 'assign-to', name: 'to', autocomplete: 'off', value: c.assigned_to || user.staff_id, maxlength: 40 });
    const question = h('textarea', { id: 'explain-question', name: 'question', rows: 3, maxlength: 4000 });
    const outcome = h('select', { id: 'close-outcome', name: 'outcome' },
      h('option', { value: '' }, 'Choose…'), OUTCOMES.map(([v, words]) => h('option', { value: v }, words)));
    const note = h('textarea', { id: 'close-note', name: 'note', rows: 3, maxlength: 4000 });
    const step = (path, payload, problem) => async (e) => {
      e.preventDefault();
      if (problem()) { fill(status, message('error', problem())); return; }
      const button = e.submitter || e.target.querySelector('button');
      if (button) button.disabled = true;
      try {
        const next = await post(`/api/v1/integrity/cases/${c.id}/${path}`, payload());
        fill(status, message('ok', `Case ${c.id}: ${STATUS[next.status] || next.status}.`));
        show(next);
      } catch (err) {
        fill(status, message('error', err.message));
        if (button) button.disabled = false;
      }
    };
    const canExplain = ['open', 'assigned', 'explained'].includes(c.status);
    return h('section.card', { 'aria-labelledby': 'workflow-title' },
      h('h2#workflow-title', {}, 'Review'),
      h('form#assign-form', { novalidate: true, onsubmit: step('assign', () => ({ to: to.value.trim() }), () => (to.value.trim() ? null : 'Enter the staff id of the reviewer.')) },
        h('div.row', {}, field('Assign to (staff id)', to, 'yourself, or another reviewer of this case')),
        h('div.actions', {}, h('button', { type: 'submit' }, 'Assign'))),
      canExplain ? h('form#explain-form', { novalidate: true, onsubmit: step('request-explanation', () => ({ question: question.value.trim() }), () => (question.value.trim() ? null : 'Write the question for the member of staff.')) },
        field(`Ask ${c.staff_id} to explain`, question, `${staffWords(c.staff_id, c.staff_name)} sees the finding and this question under My cases`),
        h('div.actions', {}, h('button', { type: 'submit' }, 'Request explanation'))) : null,
      h('form#close-form', { novalidate: true, onsubmit: step('close', () => ({ outcome: outcome.value, note: note.value.trim() }), () => (!outcome.value ? 'Choose the outcome.' : !note.value.trim() ? 'Write the reasons for the outcome.' : null)) },
        h('div.row', {}, field('Outcome', outcome)),
        field('Reasons', note),
        h('div.actions', {}, h('button.primary', { type: 'submit' }, 'Close case'))));
  }

  (async () => {
    try {
      show(await get(`/api/v1/integrity/cases/${id}`));
    } catch (err) {
      fill(body, message('error', err.message));
    }
  })();
}

/** "My cases": the cases about the signed-in member of staff in which an explanation was asked. */
export function myCasesScreen(main) {
  const slot = h('div.stack', {}, 'Loading…');
  fill(main, h('h1', {}, 'My cases'),
    h('p.hint', {}, 'Cases about your use of the platform in which the integrity unit or your supervisor has asked you to explain. Your answer goes to the reviewer and is kept with the case.'),
    slot);

  function card(c) {
    const status = h('div.status-slot', { 'aria-live': 'polite' });
    const text = h('textarea', { id: `my-explanation-${c.id}`, name: 'text', rows: 4, maxlength: 4000 });
    const form = c.status === 'explanation_requested' ? h('form.my-explain', { novalidate: true }, field('Your explanation', text),
      h('div.actions', {}, h('button.primary', { type: 'submit' }, 'Send explanation'))) : null;
    const section = h('section.card.my-case', { 'data-case-id': c.id, 'aria-labelledby': `my-case-${c.id}` },
      h('h2', { id: `my-case-${c.id}` }, `Case ${c.id}: ${ruleWords(c.finding.rule)}`),
      h('p', {}, nzTimesIn(c.finding.explanation)),
      h('dl.facts', {},
        h('dt', {}, 'Status'), h('dd.my-status', {}, STATUS[c.status] || c.status),
        h('dt', {}, 'Question'), h('dd', {}, c.explanation_request),
        c.explanation ? [h('dt', {}, 'Your explanation'), h('dd', {}, c.explanation)] : null,
        c.outcome ? [h('dt', {}, 'Outcome'), h('dd', {}, outcomeWords(c.outcome))] : null),
      form, status);
    if (form) {
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        if (!text.value.trim()) { fill(status, message('error', 'Write your explanation.')); return; }
        try {
          const next = await post(`/api/v1/integrity/my-cases/${c.id}/explanation`, { text: text.value.trim() });
          section.replaceWith(card(next));
        } catch (err) {
          fill(status, message('error', err.message));
        }
      });
    }
    return section;
  }

  (async () => {
    try {
      const cases = await get('/api/v1/integrity/my-cases');
      fill(slot, cases.length ? cases.map(card) : message('info', 'You have no cases in which you have been asked to explain.'));
    } catch (err) {
      fill(slot, message('error', err.message));
    }
  })();
}
