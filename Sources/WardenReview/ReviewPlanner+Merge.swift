import Foundation
import WardenCore

/// What merging one signal or report needs, as the store found it.
public struct MergeState: Sendable, Equatable {
    /// Whether this signal or report was merged already (merging is idempotent on it).
    public var alreadyMerged: Bool
    /// The subject's open review case, if it has one.
    public var openCase: CaseRecord?
    /// The identifier a new case gets.
    public var nextCaseID: Int64
    /// The reporter's standing (reports), nil for one never seen.
    public var reporter: ReporterRecord?
    /// Whether the reporter already reported the open case.
    public var reporterOnCase: Bool

    /// Creates a merge state.
    public init(alreadyMerged: Bool, openCase: CaseRecord?, nextCaseID: Int64, reporter: ReporterRecord? = nil, reporterOnCase: Bool = false) {
        self.alreadyMerged = alreadyMerged
        self.openCase = openCase
        self.nextCaseID = nextCaseID
        self.reporter = reporter
        self.reporterOnCase = reporterOnCase
    }
}

extension ReviewPlanner {
    /// Merges a signal or report into its subject's open case, opening one (routed by the pack)
    /// when there is none. A report counts its reporter's trust once per case (a muted reporter's
    /// weighs nothing); the case takes the category and severity of its most severe input.
    /// Returns an empty plan and nil when the input was merged before.
    public func merge(_ input: CaseInput, _ state: MergeState) -> (ReviewPlan, CaseRecord?) {
        var plan = ReviewPlan()
        guard !state.alreadyMerged else { return (plan, nil) }
        let subject = input.subject
        var record: CaseRecord
        let created: Bool
        if let existing = state.openCase {
            record = existing
            created = false
        } else {
            let source: CaseSource = input.kind == .signal ? .signal : .report
            let queue = policy.configuration.route(source: source, category: input.category, severity: input.severity, rule: input.rule,
                                                   requested: input.requestedQueue)
            record = .opened(id: state.nextCaseID, kind: .review, subject: subject, source: source, queue: queue, category: input.category,
                             severity: input.severity, contentAt: input.at, policy: policy, now: now)
            created = true
        }
        var weight = 0.0
        var duplicate = false
        var detail = JSONWriter(capacity: 128)
        detail.beginObject()
        switch input.kind {
        case .signal:
            record.signals += 1
            detail.field("signal_id", input.ref)
            if let rule = input.rule { detail.field("rule", rule) }
        case .report:
            let reporterID = input.reporter ?? "unknown"
            var reporter = state.reporter ?? .new(reporterID, trust: policy.configuration.defaultReporterTrust)
            reporter.reports += 1
            plan.reporters.append(reporter)
            if !created, state.reporterOnCase {
                duplicate = true
            } else {
                weight = reporter.muted ? 0 : reporter.trust
                record.reports += 1
                record.reporterWeight += weight
            }
            detail.field("report_seq", input.ref)
            detail.field("reporter", reporterID)
            detail.field("weight", String(format: "%.2f", weight))
            if duplicate { detail.field("duplicate", "this reporter already reported the case; not counted again") }
            if reporter.muted { detail.field("muted", "the reporter is muted; the report weighs nothing") }
        }
        detail.field("category", input.category)
        detail.field("severity", input.severity)
        detail.endObject()
        if policy.rank(of: input.severity) > policy.rank(of: record.severity) {
            record.severity = input.severity
            record.category = input.category
        }
        record.contentAt = min(record.contentAt, input.at)
        record.updatedAt = now
        reprioritise(&record)
        let actor = ActorRef.system("cases")
        if created {
            plan.insertedCases.append(record)
            plan.timeline.append(TimelineDraft(caseID: record.id, at: now, actor: actor, kind: .created, from: nil, to: .open, detail: Self.json {
                $0.field("queue", record.queue)
                $0.field("source", record.source.rawValue)
            }))
            plan.audit.append(AuditDraft(at: now, actor: actor, action: "case.create", target: "case:\(record.id)", detail: Self.json {
                $0.field("subject", subject.description)
                $0.field("queue", record.queue)
            }))
        } else {
            plan.updatedCases.append(record)
        }
        plan.items.append(CaseItem(kind: input.kind, ref: input.ref, caseID: record.id, reporter: input.reporter, weight: weight,
                                   duplicate: duplicate, at: input.at))
        plan.timeline.append(TimelineDraft(caseID: record.id, at: now, actor: actor, kind: input.kind == .signal ? .signal : .report,
                                           from: nil, to: nil, detail: String(decoding: detail.bytes, as: UTF8.self)))
        return (plan, record)
    }
}
