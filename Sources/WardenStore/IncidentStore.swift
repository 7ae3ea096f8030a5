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

    // MARK: Automations
    /// The audit entry automations have handled up to (nil: they never ran on this store).
    func automationCursor() async throws -> Int64?
    func setAutomationCursor(_ seq: Int64) async throws
    /// Records that `automation` starts on audit entry `triggerSeq`: its run id, or nil when it ran on
    /// that entry already (each automation runs once per entry, even across a crash).
    func beginAutomationRun(automation: String, triggerSeq: Int64, target: String, at: Int64) async throws -> Int64?
    /// Records how a run ended, with its audit entry.
    func finishAutomationRun(id: Int64, outcome: String, detail: String, audit: AuditDraft) async throws
    /// Runs, newest first.
    func automationRuns(automation: String?, limit: Int) async throws -> [AutomationRun]
    /// Runs of `automation` since `since` (the hourly guard).
    func automationRunCount(automation: String, since: Int64) async throws -> Int
    /// Queues deliveries, with the audit entry saying why.
    func notify(_ messages: [OutboxMessage], audit: AuditDraft) async throws
}

/// One run of an automation.
public struct AutomationRun: Sendable, Equatable {
    public var id: Int64
    public var automation: String
    public var triggerSeq: Int64
    public var target: String
    public var at: Int64
    /// `running`, `done`, `partial`, `failed` or `skipped`.
    public var outcome: String
    /// A JSON object: the actions and what became of each.
    public var detail: String

    public init(id: Int64, automation: String, triggerSeq: Int64, target: String, at: Int64, outcome: String, detail: String) {
        self.id = id
        self.automation = automation
        self.triggerSeq = triggerSeq
        self.target = target
        self.at = at
        self.outcome = outcome
        self.detail = detail
    }
}
