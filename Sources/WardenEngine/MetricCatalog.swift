/// Every `warden_` series the server exports: its name, kind, labels and help text, in one place.
/// The metrics factory the server runs with (`DocumentedMetricsFactory`) takes the help text from
/// here, the dashboard (`grafana/warden-dashboard.json`) may only use these names, and a test checks
/// both ways: everything `/metrics` shows is listed here with help, everything listed here shows.
public enum WardenMetric: String, CaseIterable, Sendable {
    case intakeEvents = "warden_intake_events_total"
    case intakeCommitSeconds = "warden_intake_commit_seconds"
    case intakeGroupSubmissions = "warden_intake_group_submissions"
    case detectionEvents = "warden_detection_events_total"
    case classificationJobs = "warden_classification_jobs_total"
    case decisions = "warden_decisions_total"
    case slaEvents = "warden_sla_events_total"
    case webhookDeliveries = "warden_webhook_deliveries_total"
    case casesOpen = "warden_cases_open"
    case oldestWaiting = "warden_queue_oldest_waiting_seconds"
    case casesSLA = "warden_cases_sla"
    case outbox = "warden_outbox_deliveries"
    case consumerLagEvents = "warden_consumer_lag_events"
    case consumerLagSeconds = "warden_consumer_lag_seconds"
    case statements = "warden_statements_of_reasons"
    case incidentsActive = "warden_incidents_active"
    case alertsOpen = "warden_alerts_open"

    /// How Prometheus sees it.
    public enum Kind: String, Sendable { case counter, gauge, histogram }

    public var kind: Kind {
        switch self {
        case .intakeEvents, .detectionEvents, .classificationJobs, .decisions, .slaEvents, .webhookDeliveries: .counter
        case .intakeCommitSeconds, .intakeGroupSubmissions: .histogram
        case .casesOpen, .oldestWaiting, .casesSLA, .outbox, .consumerLagEvents, .consumerLagSeconds, .statements, .incidentsActive, .alertsOpen: .gauge
        }
    }

    /// Its labels.
    public var labels: [String] {
        switch self {
        case .intakeEvents: ["status"]
        case .intakeCommitSeconds, .intakeGroupSubmissions, .detectionEvents: []
        case .classificationJobs: ["outcome"]
        case .decisions: ["queue", "outcome"]
        case .slaEvents: ["queue", "event"]
        case .webhookDeliveries: ["outcome"]
        case .casesOpen: ["queue", "band", "state"]
        case .oldestWaiting: ["queue", "band"]
        case .casesSLA: ["queue", "status"]
        case .outbox: ["state"]
        case .consumerLagEvents, .consumerLagSeconds: ["consumer"]
        case .statements: ["submission"]
        case .incidentsActive: ["severity"]
        case .alertsOpen: ["rule"]
        }
    }

    /// The `# HELP` text.
    public var help: String {
        switch self {
        case .intakeEvents:
            "Event lines intake answered, by status: accepted (new and durable), duplicate (the same event again), conflict (its id with a different body), rejected (invalid)."
        case .intakeCommitSeconds: "Time to commit one intake group (fsync included): what an acknowledgement waits for."
        case .intakeGroupSubmissions: "Requests committed together in one intake group (group commit size)."
        case .detectionEvents: "Events detection has run the pack's rules on."
        case .classificationJobs:
            "Rule hits waiting for served classifiers, by outcome: fired, not_fired, retried (asked again later), failed (no answer after its attempts)."
        case .decisions:
            "Review decisions, by queue and outcome: violation, no_violation, or for appeals upheld and overturned."
        case .slaEvents:
            "SLA warnings and breaches raised on cases, by queue and event (first_action.warning, first_action.breached, resolution.warning, resolution.breached)."
        case .webhookDeliveries:
            "Enforcement webhook delivery attempts, by outcome: delivered, retry (will be tried again), dead (dead-lettered)."
        case .casesOpen:
            "Cases not yet decided, by queue, priority band (p1 most urgent) and state (open, escalated: waiting; in_review, on_hold: with a reviewer)."
        case .oldestWaiting: "Age of the oldest case waiting (open or escalated) in each queue and band, in seconds; 0 when none waits."
        case .casesSLA:
            "Undecided cases that have raised an SLA warning or breach (first action or resolution), by queue and status (warning, breached)."
        case .outbox: "Webhook deliveries in the outbox, by state: pending (not yet delivered) and dead (dead-lettered, waiting for a redrive)."
        case .consumerLagEvents:
            "How far each log consumer is behind, in items: entity_graph, detection, alert_series and search in events, case_builder in signals and reports, classification in pending jobs."
        case .consumerLagSeconds: "Age of the oldest item each log consumer has not processed yet, in seconds; 0 when it is caught up."
        case .statements:
            "Statements of reasons by submission to the EU DSA Transparency Database: unsubmitted, created, already_present, refused."
        case .incidentsActive: "Incidents being responded to (investigating, identified, mitigating, monitoring), by severity."
        case .alertsOpen: "Alerts not resolved (firing, acknowledged or snoozed), by alert rule."
        }
    }

    /// The catalogue entry for a series name (histograms' `_bucket`, `_sum`, `_count` included).
    public static func named(_ series: String) -> WardenMetric? {
        if let metric = WardenMetric(rawValue: series) { return metric }
        for suffix in ["_bucket", "_sum", "_count"] where series.hasSuffix(suffix) {
            if let metric = WardenMetric(rawValue: String(series.dropLast(suffix.count))), metric.kind == .histogram { return metric }
        }
        return nil
    }
}
