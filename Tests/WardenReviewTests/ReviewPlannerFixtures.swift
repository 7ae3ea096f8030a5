import WardenCore
@testable import WardenReview

/// A small pack, as the planners see it: two review queues (one with an SLA), an appeals queue,
/// low/medium/high severities, an enforcement catalogue with a ladder for `spam`.
enum Fixture {
    static let hour: Int64 = 3_600_000
    static let now: Int64 = 1_800_000_000_000

    static let sla = SLAPolicy(targets: [.p1: SLATargets(firstAction: hour, resolution: 4 * hour),
                                         .p2: SLATargets(firstAction: 2 * hour, resolution: 8 * hour),
                                         .p3: SLATargets(firstAction: 4 * hour, resolution: 24 * hour),
                                         .p4: SLATargets(firstAction: 8 * hour, resolution: 48 * hour)])

    static let policy = ReviewPolicy(
        configuration: ReviewConfiguration(
            queues: [QueueDefinition(name: "general", sla: sla), QueueDefinition(name: "fraud"), QueueDefinition(name: "appeals", sla: sla)],
            routing: [RoutingRule(categories: ["fraud"], queue: "fraud")], defaultQueue: "general", appealsQueue: "appeals",
            defaultReporterTrust: 0.5),
        severities: ["low", "medium", "high"], leaseMillis: 300_000)

    static let context = DecisionContext(
        catalogue: EnforcementCatalogue(
            actions: [ActionDefinition(name: "no_action"), ActionDefinition(name: "warn"),
                      ActionDefinition(name: "remove_content", restriction: .visibility("DECISION_VISIBILITY_CONTENT_REMOVED"), reversal: "restore_content"),
                      ActionDefinition(name: "restore_content"),
                      ActionDefinition(name: "suspend", restriction: .account("DECISION_ACCOUNT_SUSPENDED"), needsDuration: true, reversal: "unsuspend"),
                      ActionDefinition(name: "unsuspend"),
                      ActionDefinition(name: "ban", restriction: .account("DECISION_ACCOUNT_TERMINATED"))],
            ladders: [EnforcementLadder(category: "spam", steps: [LadderStep(action: "warn"), LadderStep(action: "suspend", duration: 24 * hour),
                                                                  LadderStep(action: "ban")], strikeExpiry: 90 * 24 * hour)],
            territorialScope: ["DE", "FR"], contentTypes: ["content": "CONTENT_TYPE_TEXT"]),
        dsaCategories: ["spam": "STATEMENT_CATEGORY_SCAMS_AND_FRAUD", "spam.bulk": "STATEMENT_CATEGORY_SCAMS_AND_FRAUD"],
        dsaKeywords: ["spam": ["KEYWORD_INAUTHENTIC_ACCOUNTS", "KEYWORD_OTHER"]])

    /// The subject most tests decide about.
    static let u1 = EntityRef(type: "user", id: "u1")

    static var planner: ReviewPlanner { ReviewPlanner(policy: policy, now: now) }

    /// A case of `kind` in `state`, held by `holder` when given.
    static func record(id: Int64 = 7, kind: CaseKind = .review, subject: String = "user:u1", state: CaseState = .open, holder: ActorRef? = nil,
                       queue: String = "general", signals: Int = 1, reports: Int = 0) -> CaseRecord {
        var record = CaseRecord.opened(id: id, kind: kind, subject: EntityRef(parsing: subject)!, source: .signal, queue: queue, category: "spam", severity: "medium",
                                       contentAt: now - hour, policy: policy, now: now - hour)
        record.state = state
        record.assignee = holder
        record.signals = signals
        record.reports = reports
        if state.isHeld { record.leaseExpiresAt = now + 1000 }
        return record
    }
}
