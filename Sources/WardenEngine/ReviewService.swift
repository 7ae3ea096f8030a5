import Foundation
public import Logging
public import Metrics
public import ServiceLifecycle
import Synchronization
public import WardenCore
public import WardenReview
public import WardenStore

/// Review operations over the store, with the pack in force: checks what a request asks for
/// against the pack (queues, actions, required fields) before the store applies it in one
/// transaction. Who the actor is and whether they may act is decided by the HTTP layer.
public final class ReviewService: Sendable {
    /// The store.
    public let store: any ReviewStore
    private let packs: PackManager
    /// The clock.
    public let clock: any WallClock
    private let leaseMillis: Int64
    private let metrics: any MetricsFactory
    /// Draws in 0..<1 for mixing golden items into claims (whether, and which); tests fix it.
    private let goldenDraw: @Sendable () -> Double

    /// A service over `store`, following the pack `packs` holds.
    public init(store: any ReviewStore, packs: PackManager, clock: any WallClock = SystemWallClock(), leaseMillis: Int64 = 300_000,
                metrics: any MetricsFactory = MetricsSystem.factory, goldenDraw: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }) {
        self.store = store
        self.packs = packs
        self.clock = clock
        self.leaseMillis = leaseMillis
        self.metrics = metrics
        self.goldenDraw = goldenDraw
    }

    /// The pack in force.
    public var pack: PolicyPack { packs.pack }

    /// Routing, priority and SLA as the pack in force defines them.
    public var policy: ReviewPolicy {
        let pack = packs.pack
        return ReviewPolicy(configuration: pack.review.configuration, severities: pack.taxonomy.severities, leaseMillis: leaseMillis)
    }

    /// What recording a decision needs from the pack (worked out once per pack version).
    public var decisionContext: DecisionContext {
        let pack = packs.pack
        if let cached = decisionContexts.withLock({ $0 }), cached.version == pack.version { return cached.context }
        let context = Self.decisionContext(pack)
        decisionContexts.withLock { $0 = (pack.version, context) }
        return context
    }
    private let decisionContexts = Mutex<(version: String, context: DecisionContext)?>(nil)

    private static func decisionContext(_ pack: PolicyPack) -> DecisionContext {
        // A category without its own DSA mapping inherits its nearest parent's.
        let categories = pack.taxonomy.categories
        func inherited<Value>(_ value: (Taxonomy.Category) -> Value?) -> [String: Value] {
            let own = Dictionary(categories.compactMap { category in value(category).map { (category.id, $0) } }, uniquingKeysWith: { first, _ in first })
            var result: [String: Value] = [:]
            for category in categories {
                var id = Substring(category.id)
                while true {
                    if let found = own[String(id)] { result[category.id] = found; break }
                    guard let dot = id.lastIndex(of: ".") else { break }
                    id = id[..<dot]
                }
            }
            return result
        }
        return DecisionContext(catalogue: pack.review.catalogue, dsaCategories: inherited(\.dsaCategory), dsaKeywords: inherited(\.dsaKeywords),
                               renderMacro: { draft, record in
                                   draft.macro.flatMap { message(macro: $0, caseID: record.id, record: record, draft: draft, pack: pack) }
                               })
    }

    // MARK: Reads

    /// A case, as stored.
    public func caseRecord(id: Int64) async throws -> CaseRecord {
        guard let record = try await store.caseRecord(id: id) else { throw ReviewError(.notFound, "there is no case \(id)") }
        return record
    }

    /// A case opened in full (its timeline and decisions). Opening a case shows reported content: a
    /// read of sensitive content, so it is audited with who read it.
    public func open(caseID: Int64, actor: ActorRef) async throws -> (record: CaseRecord, timeline: [TimelineEntry], decisions: [DecisionRecord]) {
        let record = try await caseRecord(id: caseID)
        let timeline = try await store.timeline(caseID: caseID)
        let decisions = try await store.decisions(caseID: caseID)
        try await store.audit(actor: actor, action: "case.read", target: "case:\(caseID)", detail: "{}", now: clock.nowMillis())
        return (record, timeline, decisions)
    }

    /// Counts of open cases by queue and state, with those past due.
    public func queueCounts() async throws -> [QueueCount] {
        try await store.queueCounts(now: clock.nowMillis())
    }

    /// Cases, newest first, filtered.
    public func cases(queue: String?, state: CaseState?, assignee: ActorRef?, before: Int64?, limit: Int) async throws -> [CaseRecord] {
        try await store.cases(queue: queue, state: state, assignee: assignee, before: before, limit: limit)
    }

    /// Cases matching a query (search, a subject's cases), newest first.
    public func cases(_ query: CaseQuery) async throws -> [CaseRecord] {
        try await store.cases(query)
    }

    /// The live strikes against a subject.
    public func liveStrikes(of subject: EntityRef) async throws -> [Strike] {
        try await store.liveStrikeList(subject: subject, now: clock.nowMillis())
    }

    /// Consults asked of `reviewer`, newest first.
    public func consults(for reviewer: ActorRef, answered: Bool?, limit: Int) async throws -> [ConsultRecord] {
        try await store.consults(for: reviewer, answered: answered, limit: limit)
    }

    /// One consult.
    public func consult(id: Int64) async throws -> ConsultRecord? {
        try await store.consult(id: id)
    }

    /// Webhook deliveries, newest first.
    public func outbox(state: OutboxItem.State?, limit: Int) async throws -> [OutboxItem] {
        try await store.outbox(state: state, limit: limit)
    }

    /// Puts dead deliveries (all, or the given ones) back in line; returns how many.
    public func redrive(ids: [Int64]?, actor: ActorRef) async throws -> Int {
        try await store.redrive(ids: ids, actor: actor, now: clock.nowMillis())
    }

    /// Audit entries after `seq`, in order.
    public func auditEntries(after seq: Int64, limit: Int) async throws -> [AuditEntry] {
        try await store.auditEntries(after: seq, limit: limit)
    }

    /// Records that `actor` exported the statements of reasons of [from, to), before the export streams.
    public func auditStatementExport(from: Int64, to: Int64, actor: ActorRef) async throws {
        var detail = JSONWriter(capacity: 96)
        detail.beginObject()
        detail.field("from", Timestamp.formatRFC3339(from))
        detail.field("to", to == Int64.max ? "end" : Timestamp.formatRFC3339(to))
        detail.endObject()
        try await store.audit(actor: actor, action: "export.statements_of_reasons", target: "statements",
                              detail: String(decoding: detail.bytes, as: UTF8.self), now: clock.nowMillis())
    }

    // MARK: Changes

    public func claimNext(queue: String, reviewer: ActorRef) async throws -> CaseRecord? {
        let policy = self.policy
        guard let definition = policy.configuration.queues[queue] else {
            throw ReviewError(.notFound, "there is no queue \"\(queue)\"; queues: \(policy.configuration.queueOrder.joined(separator: ", "))")
        }
        try await checkCertification(queue, reviewer: reviewer)
        try await checkExposure(definition, reviewer: reviewer)
        if let mixed = try await mixGolden(queue: queue, reviewer: reviewer, policy: policy) { return mixed }
        // The store applies the daily exposure cap inside the claim's transaction.
        return try await store.claimNext(queue: queue, reviewer: reviewer, policy: policy, now: clock.nowMillis())
    }

    /// At the queue's `golden_mix` rate (quality.yaml), a person's claim-next is a golden item mixed
    /// into the queue instead: the copy of a past case whose right answer is known, which looks and
    /// is worked like any case; deciding it enforces nothing and scores the answer. Not while the
    /// reviewer is over the exposure cap (a golden copy is not checked against it), and only for people.
    private func mixGolden(queue: String, reviewer: ActorRef, policy: ReviewPolicy) async throws -> CaseRecord? {
        guard reviewer.kind == .user, let rate = pack.quality.goldenMix[queue], goldenDraw() < rate,
              let mixing = store as? any GoldenMixing, try await !exposureStanding(of: reviewer).overCap else { return nil }
        return try await mixing.mixGolden(queue: queue, reviewer: reviewer, pick: goldenDraw(), policy: policy, now: clock.nowMillis())
    }

    /// Where a reviewer stands against the daily exposure policy.
    public func exposureStanding(of reviewer: ActorRef) async throws -> ExposurePolicy.Standing {
        let exposure = policy.configuration.exposure
        guard !exposure.sensitiveCategories.isEmpty else { return exposure.standing(claimedToday: [:]) }
        let today = ExposurePolicy.startOfDay(clock.nowMillis())
        return exposure.standing(claimedToday: try await store.claimsByCategory(by: reviewer, onDay: today))
    }

    public func claim(caseID: Int64, reviewer: ActorRef) async throws -> CaseRecord {
        let policy = self.policy
        if let record = try await store.caseRecord(id: caseID), let definition = policy.configuration.queues[record.queue] {
            try await checkCertification(record.queue, reviewer: reviewer)
            try await checkExposure(definition, reviewer: reviewer)
            let exposure = policy.configuration.exposure
            if exposure.isSensitive(record.category) {
                let standing = try await exposureStanding(of: reviewer)
                if standing.overCap {
                    throw ReviewError(.limited, "\(reviewer) has claimed \(standing.sensitive) sensitive cases today, the daily exposure cap; "
                        + "case \(caseID) is \(record.category): take other work")
                }
            }
        }
        return try await store.claim(caseID: caseID, reviewer: reviewer, policy: policy, now: clock.nowMillis())
    }

    /// A queue whose certification is `required` (quality.yaml) gives its work only to people
    /// certified for it; a store that cannot say refuses everyone (fail closed).
    private func checkCertification(_ queue: String, reviewer: ActorRef) async throws {
        guard pack.quality.requiresCertification(queue) else { return }
        let certified = if let lookup = store as? any CertificationLookup, reviewer.kind == .user {
            try await lookup.isCertified(user: reviewer.description, queue: queue)
        } else {
            false
        }
        guard certified else {
            throw ReviewError(.forbidden, "\(reviewer) is not certified for queue \(queue), which requires it: pass its training first "
                + "(Training in the console, or POST /v1/quality/training)")
        }
    }

    /// Wellness: a queue's `max_cases_per_hour` caps how many of its cases one reviewer takes in any hour.
    private func checkExposure(_ queue: QueueDefinition, reviewer: ActorRef) async throws {
        guard let limit = queue.maxCasesPerHour else { return }
        let taken = try await store.claims(by: reviewer, queue: queue.name, since: clock.nowMillis() - 3_600_000)
        if taken >= limit {
            throw ReviewError(.limited, "\(reviewer) has taken \(taken) cases from \(queue.name) in the last hour, its exposure limit; "
                + "take a break or work another queue")
        }
    }

    public func change(caseID: Int64, _ change: CaseChange, actor: ActorRef) async throws -> CaseRecord {
        try await store.change(caseID: caseID, change, actor: actor, policy: policy, now: clock.nowMillis())
    }

    /// Where a decision-tree walk stands for `answers`.
    public func walk(tree name: String, answers: [String]) throws -> (path: [String], position: DecisionTree.Position) {
        guard let tree = pack.review.trees[name] else {
            throw ReviewError(.notFound, "there is no decision tree \(name); trees: \(pack.review.trees.keys.sorted().joined(separator: ", "))")
        }
        do {
            return try tree.walk(answers)
        } catch {
            throw ReviewError(.invalid, error.description)
        }
    }

    /// Checks a decision against the pack and the case's queue, walks its tree, then records it; the
    /// planner completes it inside the decision's transaction (the ladder's step from the live
    /// strikes, the macro's message). With `tree`, the walk's outcome supplies category, violation,
    /// actions, policy and macro; the path is recorded. `read` is the case as the caller already read
    /// it (the store re-checks state and holder inside the decision's transaction), to spare a read.
    public func decide(caseID: Int64, _ submitted: DecisionDraft, tree: (name: String, answers: [String])? = nil, actor: ActorRef,
                       read: CaseRecord? = nil) async throws -> DecisionRecord {
        let found: CaseRecord?
        if let read, read.id == caseID { found = read } else { found = try await store.caseRecord(id: caseID) }
        guard let record = found else { throw ReviewError(.notFound, "there is no case \(caseID)") }
        let pack = self.pack
        var draft = submitted
        var problems: [String] = []
        if let tree {
            let walked = try walk(tree: tree.name, answers: tree.answers)
            guard case .outcome(let outcome) = walked.position else {
                throw ReviewError(.invalid, "the walk of \(tree.name) is not finished: answer \"\(walked.position.questionText ?? "")\"")
            }
            draft.category = outcome.category
            draft.violation = outcome.violation
            draft.actions = outcome.actions.compactMap { ReviewPack.parseAction($0, catalogue: pack.review.catalogue).action }
                .map { RequestedAction(name: $0.name, duration: $0.duration) }
            draft.policy = draft.policy ?? outcome.policy
            draft.macro = draft.macro ?? outcome.macro
            var path = JSONWriter(capacity: 256)
            path.beginArray()
            path.string("tree: \(tree.name)")
            for step in walked.path { path.string(step) }
            path.string("outcome: \(outcome.id)")
            path.endArray()
            draft.treePath = String(decoding: path.bytes, as: UTF8.self)
        }
        problems += Self.problems(of: draft, queue: record.queue, kind: record.kind, pack: pack)
        guard problems.isEmpty else { throw ReviewError(.invalid, problems.joined(separator: "; ")) }

        // No actions named on a violation: the planner takes the category's ladder step from the
        // strikes live in the decision's own transaction, then renders the macro.
        draft.packVersion = pack.version
        let decision = try await store.decide(caseID: caseID, draft, actor: actor, context: decisionContext, policy: policy, now: clock.nowMillis())
        let outcome = draft.appealOutcome?.rawValue ?? (draft.violation ? "violation" : "no_violation")
        Counter(label: WardenMetric.decisions.rawValue, dimensions: [("queue", record.queue), ("outcome", outcome)], factory: metrics).increment()
        return decision
    }

    /// What is wrong with `draft` as a decision on a case of `kind` in queue `queueName` under
    /// `pack`: the category, the queue's requirements, the actions and their durations. Deciding
    /// checks it, and so does a bulk job's plan before it enforces anything.
    public static func problems(of draft: DecisionDraft, queue queueName: String, kind: CaseKind, pack: PolicyPack) -> [String] {
        var problems: [String] = []
        let queue = pack.review.configuration.queues[queueName]
        if !pack.taxonomy.categoryIDs.contains(draft.category) {
            problems.append("category \"\(draft.category)\" is not in the taxonomy")
        }
        if queue?.requiresPolicy == true, (draft.policy ?? "").isEmpty {
            problems.append("queue \(queueName) requires a policy: name the policy the decision applies")
        }
        if queue?.requiresRationale == true, (draft.rationale ?? "").trimmingCharacters(in: .whitespaces).isEmpty {
            problems.append("queue \(queueName) requires a rationale: say why, in words")
        }
        if draft.illegal, (draft.legalGround ?? "").isEmpty {
            problems.append("illegal content needs legal_ground: the law the content breaks")
        }
        if let macro = draft.macro, pack.review.macros[macro] == nil {
            problems.append("there is no macro \(macro); macros: \(pack.review.macros.keys.sorted().joined(separator: ", "))")
        }
        if kind == .appeal {
            if draft.appealOutcome == nil { problems.append("an appeal's decision needs outcome: upheld or overturned") }
            if !draft.actions.isEmpty { problems.append("an appeal's decision takes no actions; an overturn reverses the original ones") }
        } else if draft.appealOutcome != nil {
            problems.append("outcome is only for appeal cases")
        }
        for action in draft.actions {
            guard let definition = pack.review.catalogue.actions[action.name] else {
                problems.append("\"\(action.name)\" is not an action; the catalogue has \(pack.review.catalogue.actions.keys.sorted().joined(separator: ", "))")
                continue
            }
            if let allowed = queue?.allowedActions, !allowed.contains(action.name) {
                problems.append("\(action.name) is not allowed in queue \(queueName) (allowed: \(allowed.joined(separator: ", ")))")
            }
            if definition.needsDuration, action.duration == nil { problems.append("\(action.name) needs a duration, such as \"24h\"") }
            if !definition.needsDuration, action.duration != nil { problems.append("\(action.name) takes no duration") }
        }
        if !draft.violation, draft.actions.contains(where: { pack.review.catalogue.actions[$0.name]?.restriction != nil }) {
            problems.append("a decision of no violation cannot restrict anything; set violation: true or drop the restricting actions")
        }
        return problems
    }

    /// The message a macro renders for a decision on `record` (nil when there is no such macro).
    static func message(macro name: String, caseID: Int64, record: CaseRecord, draft: DecisionDraft, pack: PolicyPack) -> OutgoingMessage? {
        guard let macro = pack.review.macros[name] else { return nil }
        let categoryName = pack.taxonomy.categories.first { $0.id == draft.category }?.name ?? draft.category
        let variables: [String: Any] = [
            "subject": record.subject.description, "case_id": String(caseID), "category": draft.category, "category_name": categoryName,
            "policy": draft.policy ?? "", "rationale": draft.rationale ?? "", "queue": record.queue,
            "outcome": draft.appealOutcome?.rawValue ?? "",
            "actions": draft.actions.map { ["name": $0.name.replacingOccurrences(of: "_", with: " "), "duration": $0.duration.map(DurationText.format) ?? ""] },
        ]
        let kind: OutgoingMessage.Kind = switch macro.kind {
        case .userNotice: .userNotice
        case .reporterReply: .reporterReply
        case .internalNote: .internalNote
        }
        return OutgoingMessage(kind: kind, macro: name, text: macro.render(variables))
    }

    /// What a macro would say for a decision on the case, before it is made (the console's preview).
    public func previewMacro(_ name: String, caseID: Int64, draft: DecisionDraft) async throws -> OutgoingMessage {
        let record = try await caseRecord(id: caseID)
        guard let message = Self.message(macro: name, caseID: caseID, record: record, draft: draft, pack: pack) else {
            throw ReviewError(.notFound, "there is no macro \(name); macros: \(pack.review.macros.keys.sorted().joined(separator: ", "))")
        }
        return message
    }

    /// The action the category's enforcement ladder would take against the case's subject now, or
    /// nil when the category has no ladder.
    public func ladderSuggestion(for record: CaseRecord, category: String) async throws -> RequestedAction? {
        guard let ladder = pack.review.catalogue.ladder(for: category) else { return nil }
        let live = try await store.liveStrikes(subject: record.subject.description, policy: ladder.category, now: clock.nowMillis())
        let step = ladder.step(afterStrikes: live)
        return RequestedAction(name: step.action, duration: step.duration)
    }

    /// What `actor` did of `kind` since `since`, newest first, with each entry's case.
    public func activity(by actor: ActorRef, kind: TimelineEntry.Kind, since: Int64, limit: Int) async throws -> [(caseID: Int64, entry: TimelineEntry)] {
        try await store.activity(by: actor, kind: kind, since: since, limit: limit)
    }

    /// Records that `actor` revealed blurred content of a case (wellness: reveals are audited).
    public func recordReveal(caseID: Int64, item: String, actor: ActorRef) async throws {
        var detail = JSONWriter(capacity: 64)
        detail.beginObject()
        detail.field("item", item)
        detail.endObject()
        try await store.audit(actor: actor, action: "case.reveal", target: "case:\(caseID)", detail: String(decoding: detail.bytes, as: UTF8.self),
                              now: clock.nowMillis())
    }

    public func reverse(actionID: Int64, reason: String, actor: ActorRef) async throws -> ActionRecord {
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw ReviewError(.invalid, "a reversal needs a reason") }
        return try await store.reverse(actionID: actionID, reason: reason, actor: actor, context: decisionContext, policy: policy, now: clock.nowMillis())
    }

    /// The consulted reviewer answers a consult (only they can, once).
    public func answerConsult(id: Int64, answer: String, actor: ActorRef) async throws -> ConsultRecord {
        try await store.answerConsult(id: id, answer: answer, actor: actor, policy: policy, now: clock.nowMillis())
    }

    /// Mutes or unmutes a reporter.
    public func setReporter(_ reporter: String, muted: Bool, actor: ActorRef) async throws {
        try await store.setReporter(reporter, muted: muted, actor: actor, policy: policy, now: clock.nowMillis())
    }

    public func openAppeal(caseID: Int64, appellant: EntityRef, statement: String?, actor: ActorRef) async throws -> CaseRecord {
        try await store.openAppeal(caseID: caseID, appellant: appellant, statement: statement, actor: actor, policy: policy, now: clock.nowMillis())
    }
}

extension DecisionTree.Position {
    /// The question's text, while the walk is not finished.
    public var questionText: String? {
        if case .question(let question) = self { return question.text }
        return nil
    }
}
