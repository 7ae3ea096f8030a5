public import WardenCore
public import WardenIncidents

/// Incidents, alerts, pages and on-call overrides, and the per-minute series alerts read. Every
/// change is worked out by the pure planners of WardenIncidents inside one transaction.
public protocol IncidentStore: Sendable {
    // MARK: Incidents
    func openIncident(_ draft: IncidentDraft, actor: ActorRef, settings: IncidentSettings, now: Int64) async throws -> IncidentRecord
    func changeIncident(id: Int64, _ change: IncidentChange, actor: ActorRef, settings: IncidentSettings, pager: Pager, now: Int64) async throws -> IncidentRecord
    func incident(id: Int64) async throws -> IncidentRecord?
    /// Incidents newest first: all, only open ones (not closed), or one status; before id `before`.
    func incidents(status: IncidentStatus?, openOnly: Bool, before: Int64?, limit: Int) async throws -> [IncidentRecord]
    /// Incidents opened since `since` (for measures), oldest first.
    func incidents(createdSince since: Int64, limit: Int) async throws -> [IncidentRecord]
    func incidentTimeline(id: Int64) async throws -> [IncidentTimelineEntry]
    func incidentLinks(id: Int64) async throws -> [IncidentLinkRecord]
    func incidentTasks(id: Int64) async throws -> [IncidentTask]
    /// Incidents an item is linked to, newest first.
    func incidents(linkedTo link: IncidentLink) async throws -> [IncidentRecord]
    /// Posts reminders for active incidents whose stakeholder update is overdue; returns how many.
    func remindOverdueIncidents(settings: IncidentSettings, now: Int64, limit: Int) async throws -> Int
    /// What the post-incident review states beside the incident: linked cases and their actions,
    /// alerts linked or fired for it, linked rules' signals from detection to resolution, pages.
    func reviewFacts(incidentID: Int64, now: Int64) async throws -> ReviewFacts

    // MARK: Alerts
    /// Evaluates `rules` at the end of minute `minute` and applies the rounds (and the incidents and
    /// pages alerts open); returns the alerts opened.
    func evaluateAlerts(_ rules: [AlertRule], minute: Int64, settings: IncidentSettings, now: Int64) async throws -> [AlertRecord]
    func alert(id: Int64) async throws -> AlertRecord?
    /// Alerts newest first (open ones only, or all).
    func alerts(openOnly: Bool, rule: String?, limit: Int) async throws -> [AlertRecord]
    /// Alerts first fired since `since`, oldest first.
    func alerts(firedSince since: Int64, limit: Int) async throws -> [AlertRecord]
    func commandAlert(id: Int64, _ command: AlertCommand, actor: ActorRef, pager: Pager, now: Int64) async throws -> AlertRecord
    /// Opens an incident from an alert (linked both ways).
    func incidentFromAlert(id: Int64, severity: String, title: String?, actor: ActorRef, settings: IncidentSettings, now: Int64) async throws -> IncidentRecord

    // MARK: Series
    /// Counts what was written since the last call into the per-minute series (a consumer of the
    /// event log, signals, cases and classification jobs); returns how many rows it read.
    func recordSeries(batch: Int) async throws -> Int
    /// Adds counts to a series (imports of history, benchmarks and tests; the server counts with
    /// ``recordSeries(batch:)``).
    func addSeriesCounts(_ series: AlertSeries, _ counts: [SeriesCount]) async throws
    /// A series' counts per minute and key in `after < minute ≤ through`.
    func seriesBuckets(_ series: AlertSeries, after: Int64, through: Int64) async throws -> [SeriesCount]
    /// The first minute counted (series history starts there: before it, nothing was counted; after
    /// it, a minute without a row counted zero).
    func seriesHistoryStart() async throws -> Int64?

    // MARK: Pages and on-call
    /// Fires the page steps due at `now`; returns how many pages advanced.
    func advancePages(pager: Pager, now: Int64, limit: Int) async throws -> Int
    func pages(subject: String?, openOnly: Bool, limit: Int) async throws -> [PageRecord]
    /// Pages started since `since`, oldest first (for pages per person).
    func pages(startedSince since: Int64, limit: Int) async throws -> [PageRecord]
    func addOverride(schedule: String, person: String, startsAt: Int64, endsAt: Int64, actor: ActorRef, now: Int64) async throws -> OnCallOverride
    /// Overrides that have not ended by `now`.
    func overrides(now: Int64) async throws -> [OnCallOverride]
    func deleteOverride(id: Int64, actor: ActorRef, now: Int64) async throws -> Bool
}
