// What each action the audit ledger records is called in words. The entries keep the codes
// (`image_view`, `tracking_approval`, ...) for programs and overseers' tools; the Ledger screen
// shows these names and offers them in its filter. crates/server/tests/web_ui.rs fails when an
// action the ledger can record (anpr_ledger::Action::NAMED) has no name here.
//
// No DOM here, so the table can be checked by node as well as used by the pages.

export const ACTION_NAMES = {
  // Signing in.
  login: 'Signed in',
  login_failed: 'Sign-in refused',
  logout: 'Signed out',
  session: 'Session checked',
  // Plate data.
  search: 'Search of plate reads',
  read_view: 'Read viewed',
  image_view: 'Image viewed',
  export: 'Data exported',
  sightings_view: 'Sightings of a watch viewed',
  // Tracking.
  tracking_request: 'Tracking requested',
  tracking_approval: 'Tracking approved',
  tracking_refusal: 'Tracking refused',
  tracking_revocation: 'Tracking stopped',
  tracking_end: 'Tracking ended by the platform',
  tracking_expiry: 'Tracking expired',
  // Look-back.
  lookback_request: 'Look-back requested',
  lookback_approval: 'Look-back approved',
  lookback_refusal: 'Look-back refused',
  lookback_revocation: 'Look-back stopped',
  lookback_end: 'Look-back ended by the platform',
  authorisation_list: 'Authorisations listed',
  authorisation_view: 'Authorisation viewed',
  // Alerts.
  alert_delivered: 'Alert delivered',
  alert_ack: 'Alert acknowledged',
  alert_list: 'Alerts listed',
  alert_stream: 'Alert stream opened',
  // The stolen-vehicle hot list.
  hot_list_load: 'Hot list loaded',
  hot_list_view: 'Hot list viewed',
  // Ingestion, registers and the catalog.
  ingest: 'Reads received from a camera',
  register_import: 'Register imported',
  register_read: 'Registers or agreements read',
  catalog_change: 'Network, site or camera changed',
  catalog_read: 'Networks, sites or cameras listed',
  camera_key_change: 'Camera key changed',
  agreement_change: 'Sharing agreement changed',
  legal_hold: 'Legal hold set or released',
  network_controls_view: 'Network sharing controls read',
  network_controls_change: 'Network sharing controls changed',
  network_watch_notices: 'Network watch notices read',
  network_uses: 'Network\u2019s record of use read',
  network_ledger_slice: 'Network\u2019s ledger slice fetched',
  network_statement: 'Network\u2019s monthly statement fetched',
  user_change: 'User account changed',
  user_list: 'User accounts listed',
  purge: 'Data purged by retention',
  // Reports and oversight.
  report_usage: 'Usage report',
  report_transparency: 'Transparency report',
  subject_access: 'Subject access request',
  integrity_run: 'Integrity rules run',
  integrity_case_view: 'Integrity cases viewed',
  integrity_case_change: 'Integrity case step',
  integrity_explanation: 'Explanation given in an integrity case',
  ledger_read: 'Audit ledger read',
  metrics_read: 'Operational metrics read',
  // Refused before anyone was known.
  denied: 'Request without valid credentials',
  throttled: 'Requests without credentials throttled',
  unrouted: 'Request to an unknown address',
};

/** An action in words; an action this version does not know keeps its code, in words. */
export function actionName(code) {
  return ACTION_NAMES[code] || String(code || '').replaceAll('_', ' ');
}
