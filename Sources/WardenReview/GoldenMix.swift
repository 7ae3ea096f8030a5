public import WardenCore

/// A golden item as the review path knows it: which one, and its right answer (`none` or a
/// taxonomy category, the answer scale of quality's sessions).
public struct GoldenKey: Sendable, Equatable {
    public var id: Int64
    public var answer: String

    public init(id: Int64, answer: String) {
        self.id = id
        self.answer = answer
    }

    /// The answer a decision amounts to on that scale.
    public static func answer(of draft: DecisionDraft) -> String { draft.violation ? draft.category : "none" }
}

/// What mixing a golden item into a live queue needs, as the store found it: the golden item, the
/// past case it was confirmed from (its subject, what opened it and what it gathered), that case's
/// signal and report entries, and the identifier the new case gets.
public struct GoldenMixState: Sendable, Equatable {
    public var golden: GoldenKey
    public var source: CaseRecord
    public var sourceEntries: [TimelineEntry]
    public var nextCaseID: Int64

    public init(golden: GoldenKey, source: CaseRecord, sourceEntries: [TimelineEntry], nextCaseID: Int64) {
        self.golden = golden
        self.source = source
        self.sourceEntries = sourceEntries
        self.nextCaseID = nextCaseID
    }
}

/// A golden item mixed into a live queue as a case, and (once decided) how its reviewer answered.
public struct GoldenCaseRow: Sendable, Equatable {
    public var caseID: Int64
    public var goldenID: Int64
    /// Whom it was mixed for.
    public var reviewer: ActorRef
    public var queue: String
    public var at: Int64
}

/// The answer a decision on a mixed golden case gave, scored against the item's key.
public struct GoldenCheckRow: Sendable, Equatable {
    public var caseID: Int64
    public var decisionID: Int64
    public var decidedBy: ActorRef
    public var answer: String
    public var expected: String
    public var correct: Bool
    public var at: Int64
}

extension ReviewPlanner {
    /// Mixes a golden item into `queue` for `reviewer`, unseen: a new review case about the source
    /// case's subject, opened by what opened it, with what it gathered (its signal and report
    /// entries, its counts, category and severity), claimed by the reviewer straight away. Nothing
    /// in the case or its timeline says it is golden; the audit log does (`golden.mix`), for leads.
    /// Deciding it enforces nothing and scores the answer (``decide(_:_:actor:context:)``).
    public func mixGolden(_ state: GoldenMixState, queue: String, reviewer: ActorRef) throws(ReviewError) -> (ReviewPlan, CaseRecord) {
        let source = state.source
        guard source.kind == .review else { throw ReviewError(.invalid, "golden item \(state.golden.id) was confirmed from an appeal, not a review case") }
        var plan = ReviewPlan()
        var record = CaseRecord.opened(id: state.nextCaseID, kind: .review, subject: source.subject, source: source.source, queue: queue,
                                       category: source.category, severity: source.severity, contentAt: source.contentAt, policy: policy, now: now)
        record.signals = source.signals
        record.reports = source.reports
        record.reporterWeight = source.reporterWeight
        reprioritise(&record)
        let system = ActorRef.system("cases")
        plan.insertedCases.append(record)
        plan.timeline.append(TimelineDraft(caseID: record.id, at: now, actor: system, kind: .created, from: nil, to: .open, detail: Self.json {
            $0.field("queue", record.queue)
            $0.field("source", record.source.rawValue)
        }))
        for entry in state.sourceEntries where entry.kind == .signal || entry.kind == .report {
            plan.timeline.append(TimelineDraft(caseID: record.id, at: now, actor: system, kind: entry.kind, from: nil, to: nil, detail: entry.detail))
        }
        plan.audit.append(AuditDraft(at: now, actor: system, action: "golden.mix", target: "case:\(record.id)", detail: Self.json {
            $0.field("golden_item", state.golden.id)
            $0.field("source_case", source.id)
            $0.field("reviewer", reviewer.description)
            $0.field("queue", queue)
        }))
        plan.goldenCases.append(GoldenCaseRow(caseID: record.id, goldenID: state.golden.id, reviewer: reviewer, queue: queue, at: now))
        try move(&record, .claim, actor: reviewer, detail: "{}", plan: &plan)
        plan.update(record)
        return (plan, record)
    }
}
