public import WardenCore

/// One kind of error a QA reviewer can find in a decision (the pack's `quality.yaml` lists them).
public struct ErrorType: Sendable, Equatable, Codable {
    public var id: String
    public var name: String
    public var description: String

    public init(id: String, name: String, description: String) {
        self.id = id
        self.name = name
        self.description = description
    }

    /// The taxonomy a pack without `quality.yaml` has.
    public static let standard: [ErrorType] = [
        ErrorType(id: "missed_violation", name: "Missed violation", description: "The content broke a policy and the decision said it did not."),
        ErrorType(id: "false_positive", name: "False positive", description: "The decision found a violation where there was none."),
        ErrorType(id: "wrong_policy", name: "Wrong policy", description: "A violation, but under another policy area than the one applied."),
        ErrorType(id: "wrong_action", name: "Wrong action", description: "The right finding with an action the enforcement ladder or the policy does not give."),
        ErrorType(id: "missing_evidence", name: "Missing evidence", description: "The rationale or evidence recorded does not support the decision."),
        ErrorType(id: "should_have_escalated", name: "Should have escalated", description: "The case needed a specialist tier or an incident."),
    ]
}

/// Why a QA operation was refused.
public struct QualityError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable { case notFound, invalid, conflict, forbidden }
    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

/// Where a sampled decision is in its QA review.
///
/// `waiting` → (claim) `inReview` → (verdict) `agreed`, or `disagreed` → (dispute) `disputed` →
/// (ruling) `ruled`. A release puts an item in review back to `waiting`. `agreed`, `disagreed` and
/// `ruled` count in accuracy; `disputed` counts as the QA verdict says until ruled.
public enum QAState: String, Sendable, Codable, CaseIterable {
    case waiting
    case inReview = "in_review"
    case agreed
    case disagreed
    case disputed
    case ruled
}

/// What a QA reviewer decided, blind to the original decision.
public struct QAVerdict: Sendable, Equatable {
    public var violation: Bool
    /// The policy area (category) violated; required when `violation`.
    public var category: String?
    /// Error type ids found (from the taxonomy); a disagreeing verdict names at least one.
    public var errors: [String]
    public var notes: String?

    public init(violation: Bool, category: String?, errors: [String], notes: String?) {
        self.violation = violation
        self.category = category
        self.errors = errors
        self.notes = notes
    }
}

/// How a lead ruled on a dispute: which answer stands.
public enum QARuling: String, Sendable, Codable, CaseIterable {
    /// The QA verdict stands: the original decision was wrong.
    case qa
    /// The original decision stands: it was right after all.
    case original
}

/// A decision drawn by a QA audit, with the original decision's facts (kept from when it was drawn)
/// and everything its QA review added.
public struct QAItem: Sendable, Equatable {
    public var id: Int64
    public var auditID: Int64
    public var decisionID: Int64
    public var caseID: Int64
    public var decider: String
    public var queue: String
    /// The original decision's category and finding.
    public var category: String
    public var violation: Bool
    public var decidedAt: Int64
    public var stratum: String?
    public var state: QAState = .waiting
    public var reviewer: String?
    public var claimedAt: Int64?
    public var verdict: QAVerdict?
    public var verdictAt: Int64?
    public var disputedBy: String?
    public var disputeReason: String?
    public var disputedAt: Int64?
    public var ruling: QARuling?
    public var ruledBy: String?
    public var rulingNotes: String?
    public var ruledAt: Int64?

    public init(id: Int64, auditID: Int64, decisionID: Int64, caseID: Int64, decider: String, queue: String, category: String, violation: Bool,
                decidedAt: Int64, stratum: String?) {
        self.id = id
        self.auditID = auditID
        self.decisionID = decisionID
        self.caseID = caseID
        self.decider = decider
        self.queue = queue
        self.category = category
        self.violation = violation
        self.decidedAt = decidedAt
        self.stratum = stratum
    }

    /// Whether the QA verdict agrees with the original decision: the same finding and, for a
    /// violation, the same policy area.
    public static func agrees(_ verdict: QAVerdict, violation: Bool, category: String) -> Bool {
        verdict.violation == violation && (!violation || verdict.category == category)
    }

    /// Whether the original decision counts as correct, once reviewed: a ruling decides; otherwise
    /// the QA verdict does (a pending dispute counts as the verdict says until ruled). Nil before
    /// the verdict.
    public var correct: Bool? {
        if let ruling { return ruling == .original }
        guard let verdict else { return nil }
        return Self.agrees(verdict, violation: violation, category: category)
    }

    /// The right answer once reviewed, on the answer scale of sessions (`none` or a category): the
    /// original decision's when a ruling kept it, otherwise the QA verdict's. Nil before the verdict.
    public var settledAnswer: String? {
        if ruling == .original { return SessionAnswer.of(violation: violation, category: category) }
        guard let verdict else { return nil }
        return SessionAnswer.of(violation: verdict.violation, category: verdict.category)
    }

    /// Whether the original decision (and who made it) may be shown: not while the item waits or is
    /// in review (the re-review is blind); after the verdict, to everyone who may see the item.
    public var revealsOriginal: Bool { verdict != nil }
}

/// A command on a QA item.
public enum QACommand: Sendable, Equatable {
    case claim
    case release
    case verdict(QAVerdict)
    case dispute(reason: String)
    case rule(QARuling, notes: String?)
}

/// The QA review's rules, pure: which command applies in which state, by whom, and what it changes.
public enum QAPlanner {
    /// Applies `command` by `actor` at `now`. `isLead` says whether the actor may run audits and rule
    /// (the `quality:write` scope); `taxonomy` and `categories` check a verdict's error ids and policy.
    public static func apply(_ command: QACommand, to item: QAItem, actor: ActorRef, isLead: Bool, taxonomy: [ErrorType],
                             categories: Set<String>, now: Int64) throws(QualityError) -> (QAItem, AuditDraft) {
        var item = item
        let who = actor.description
        let action: String
        var detail = "{}"
        switch command {
        case .claim:
            guard item.state == .waiting else { throw QualityError(.conflict, "QA item \(item.id) is \(item.state.rawValue), not waiting") }
            guard item.decider != who else { throw QualityError(.forbidden, "QA item \(item.id) re-reviews your own decision; someone else reviews it") }
            item.state = .inReview
            item.reviewer = who
            item.claimedAt = now
            action = "qa.claim"
        case .release:
            guard item.state == .inReview else { throw QualityError(.conflict, "QA item \(item.id) is \(item.state.rawValue), not in review") }
            guard item.reviewer == who || isLead else { throw QualityError(.forbidden, "QA item \(item.id) is held by \(item.reviewer ?? "nobody"); only they or a lead release it") }
            item.state = .waiting
            item.reviewer = nil
            item.claimedAt = nil
            action = "qa.release"
        case .verdict(let verdict):
            guard item.state == .inReview else { throw QualityError(.conflict, "QA item \(item.id) is \(item.state.rawValue); claim it before giving a verdict") }
            guard item.reviewer == who else { throw QualityError(.forbidden, "QA item \(item.id) is held by \(item.reviewer ?? "nobody")") }
            try check(verdict, taxonomy: taxonomy, categories: categories)
            let agrees = QAItem.agrees(verdict, violation: item.violation, category: item.category)
            guard agrees || !verdict.errors.isEmpty else {
                throw QualityError(.invalid, "the verdict differs from the original decision: name at least one error type (\(taxonomy.map(\.id).joined(separator: ", ")))")
            }
            item.verdict = verdict
            item.verdictAt = now
            item.state = agrees ? .agreed : .disagreed
            action = "qa.verdict"
            detail = JSONWriter.object {
                $0.key("agrees"); $0.bool(agrees)
                $0.key("violation"); $0.bool(verdict.violation)
                if let category = verdict.category { $0.field("category", category) }
                $0.key("errors"); $0.beginArray(); for error in verdict.errors { $0.string(error) }; $0.endArray()
            }
        case .dispute(let reason):
            guard item.state == .disagreed else {
                throw QualityError(.conflict, "QA item \(item.id) is \(item.state.rawValue); only a QA verdict that disagreed can be disputed")
            }
            guard item.decider == who || isLead else { throw QualityError(.forbidden, "only \(item.decider), who made the decision, or a lead disputes QA item \(item.id)") }
            item.state = .disputed
            item.disputedBy = who
            item.disputeReason = reason
            item.disputedAt = now
            action = "qa.dispute"
            detail = JSONWriter.object { $0.field("reason", reason) }
        case .rule(let ruling, let notes):
            guard item.state == .disputed else { throw QualityError(.conflict, "QA item \(item.id) is \(item.state.rawValue); only a disputed item is ruled on") }
            guard isLead else { throw QualityError(.forbidden, "a lead rules on disputes") }
            guard who != item.reviewer, who != item.decider else {
                throw QualityError(.forbidden, "the ruling on QA item \(item.id) comes from a lead who neither decided nor re-reviewed it")
            }
            item.state = .ruled
            item.ruling = ruling
            item.ruledBy = who
            item.rulingNotes = notes
            item.ruledAt = now
            action = "qa.rule"
            detail = JSONWriter.object {
                $0.field("stands", ruling.rawValue)
                if let notes { $0.field("notes", notes) }
            }
        }
        return (item, AuditDraft(at: now, actor: actor, action: action, target: "qa_item:\(item.id)", detail: detail))
    }

    static func check(_ verdict: QAVerdict, taxonomy: [ErrorType], categories: Set<String>) throws(QualityError) {
        if verdict.violation {
            guard let category = verdict.category else { throw QualityError(.invalid, "a verdict that finds a violation names its category") }
            guard categories.contains(category) else {
                throw QualityError(.invalid, "category \(category) is not in the pack's taxonomy (\(categories.sorted().joined(separator: ", ")))")
            }
        } else if verdict.category != nil {
            throw QualityError(.invalid, "a verdict of no violation names no category")
        }
        let known = Set(taxonomy.map(\.id))
        for error in verdict.errors where !known.contains(error) {
            throw QualityError(.invalid, "error type \(error) is not in the error taxonomy (\(taxonomy.map(\.id).joined(separator: ", ")))")
        }
        if Set(verdict.errors).count != verdict.errors.count { throw QualityError(.invalid, "an error type is named twice") }
    }
}

/// A QA audit: a sampling plan drawn once, its sample waiting in the QA queue.
public struct QAAudit: Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var plan: SamplingPlan
    /// The window the plan drew from (decision times, `from ..< to`).
    public var from: Int64
    public var to: Int64
    /// How many decisions the plan covered, and how many it drew.
    public var population: Int
    public var sampleSize: Int
    public var strata: [SampleDraw.Stratum]
    public var createdBy: String
    public var createdAt: Int64

    public init(id: Int64, name: String, plan: SamplingPlan, from: Int64, to: Int64, population: Int, sampleSize: Int,
                strata: [SampleDraw.Stratum], createdBy: String, createdAt: Int64) {
        self.id = id
        self.name = name
        self.plan = plan
        self.from = from
        self.to = to
        self.population = population
        self.sampleSize = sampleSize
        self.strata = strata
        self.createdBy = createdBy
        self.createdAt = createdAt
    }

    /// The most decisions one audit may draw (its items are written in one transaction, and a QA
    /// team works through them): a plan that draws more is refused.
    public static let maximumItems = 50_000

    /// The audit and its items from a draw; item ids start at `firstItemID`. Refuses a draw larger
    /// than ``maximumItems``.
    public static func make(id: Int64, name: String, plan: SamplingPlan, from: Int64, to: Int64, draw: SampleDraw, firstItemID: Int64,
                            actor: ActorRef, now: Int64) throws(QualityError) -> (QAAudit, [QAItem], AuditDraft) {
        guard draw.picks.count <= maximumItems else {
            throw QualityError(.invalid, "the plan draws \(draw.picks.count) of \(draw.population) decisions; an audit holds at most \(maximumItems): use a wider margin, a lower rate or size, or narrower filters")
        }
        let audit = QAAudit(id: id, name: name, plan: plan, from: from, to: to, population: draw.population, sampleSize: draw.picks.count,
                            strata: draw.strata, createdBy: actor.description, createdAt: now)
        let items = draw.picks.enumerated().map { offset, fact in
            QAItem(id: firstItemID + Int64(offset), auditID: id, decisionID: fact.decisionID, caseID: fact.caseID, decider: fact.decider,
                   queue: fact.queue, category: fact.category, violation: fact.violation, decidedAt: fact.at,
                   stratum: plan.stratifyBy == nil ? nil : draw.strataOf[fact.decisionID])
        }
        let entry = AuditDraft(at: now, actor: actor, action: "qa.audit", target: "qa_audit:\(id)", detail: JSONWriter.object {
            $0.field("name", name)
            $0.field("population", Int64(draw.population))
            $0.field("sampled", Int64(draw.picks.count))
        })
        return (audit, items, entry)
    }
}

/// What a decision finally says, as a label for classifiers and for measuring models against people.
///
/// An appeal that overturned the decision reverses it (the platform's last word to the user).
/// Otherwise, a QA verdict that found the decision wrong replaces it with the QA reviewer's finding,
/// unless a ruling kept the original. Otherwise the decision stands.
public enum FinalFinding {
    public static func of(violation: Bool, category: String, overturned: Bool, qaVerdict: QAVerdict?, ruling: QARuling?)
        -> (violation: Bool, category: String, correctedByQA: Bool) {
        if overturned { return (!violation, category, false) }
        if let verdict = qaVerdict, ruling != .original, !QAItem.agrees(verdict, violation: violation, category: category) {
            return (verdict.violation, verdict.category ?? category, true)
        }
        return (violation, category, false)
    }
}
