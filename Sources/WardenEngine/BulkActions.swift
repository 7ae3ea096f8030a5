import Foundation
import Synchronization
public import Logging
public import ServiceLifecycle
public import WardenCore
public import WardenInvestigations
public import WardenReview
public import WardenStore

/// Bulk action on what an investigation found: label entities, open cases about them, or enforce
/// an action on them, from a query's result, a cluster or a list. A job is planned (a dry run
/// shows exactly what it will do), stored with its entities, approved by a lead above a size,
/// then run in chunks by ``BulkRunner`` with its progress saved after each; everything is audited.
///
/// Every step goes through a path that already exists: labels and cases are `warden.bulk` events
/// in the log, which detection applies as it applies rules' effects (so they replay exactly);
/// enforcement decides a case about each entity like a reviewer would (so it has its decision,
/// statement of reasons, webhooks and strikes), and reversing the job reverses those actions
/// through the same path as `POST /v1/actions/{id}/reverse`.
public final class BulkActions: Sendable {
    /// Where a job's entities come from.
    public enum Source: Sendable, Equatable {
        /// A saved query's result; `column` names the column of `type:id` values (default: the
        /// column named `entity`, else the first).
        case savedQuery(name: String, parameters: [String: QueryValue], column: String?)
        /// An SQL query's result over the investigation views.
        case sql(String, parameters: [String: QueryValue], column: String?)
        /// The accounts of the cluster that holds `entity` among links of the last `hours` hours,
        /// pivots shared by more than `maxDegree` accounts left out (as the clusters page finds them).
        case cluster(entity: EntityRef, hours: Int, maxDegree: Int)
        /// The entities given.
        case entities([String])

        var description: String {
            switch self {
            case .savedQuery(let name, _, let column): "saved query \(name)" + (column.map { ", column \($0)" } ?? "")
            case .sql(let sql, _, let column): "SQL \(sql.prefix(200))" + (column.map { ", column \($0)" } ?? "")
            case .cluster(let entity, let hours, _): "cluster of \(entity) over \(hours)h"
            case .entities(let list): "a list of \(list.count) entities"
            }
        }
    }

    /// One entity of a preview and what the job would do to it.
    public struct PreviewItem: Sendable, Equatable {
        public var entity: EntityRef
        public var effect: String
    }

    /// What a dry run answers: the plan and what happens to the first entities.
    public struct Preview: Sendable {
        public var plan: BulkPlan
        public var source: String
        public var sample: [PreviewItem]
    }

    public let store: any BulkStore
    let review: ReviewService
    let intake: Intake
    let investigations: InvestigationService
    let links: LinkAnalysis
    let clock: any WallClock
    public let limits: BulkLimits
    /// Entities handled per saved step (and per intake submission).
    let chunk: Int
    /// Enforcement chunks whose case steps this process has appended (appended again, as
    /// duplicates, only after a restart) while it waits for their cases.
    /// (With the steps intake refused, which never get a case.)
    private let appendedChunks = Mutex<[String: [Int: String]]>([:])
    /// Who decides enforcement cases (the job's requester and approver are in the rationale and the audit).
    public static let actor = ActorRef.system("bulk")

    public init(store: any BulkStore, review: ReviewService, intake: Intake, investigations: InvestigationService, links: LinkAnalysis,
                clock: any WallClock, limits: BulkLimits = BulkLimits(), chunk: Int = 500) {
        self.store = store
        self.review = review
        self.intake = intake
        self.investigations = investigations
        self.links = links
        self.clock = clock
        self.limits = limits
        self.chunk = chunk
    }

    // MARK: Planning

    /// Resolves the source and plans the job without changing anything (the query it runs is audited).
    /// `actorLeads` says whether the requester is a lead (holds `cases:lead`): enforcement asked
    /// for by anyone else waits for a lead's approval.
    public func preview(_ source: Source, operation: BulkOperation, actor: ActorRef, actorLeads: Bool, sampleSize: Int = 50) async throws -> Preview {
        let values = try await resolve(source, actor: actor)
        let pack = review.pack
        let targets = BulkTargets(values: values, isEntityType: pack.entityTypes.contains)
        let plan = BulkPlan.make(operation, targets: targets, limits: limits, operationProblems: operationProblems(operation, pack: pack),
                                 requesterLeads: actorLeads)
        var sample: [PreviewItem] = []
        for entity in targets.entities.prefix(sampleSize) {
            sample.append(PreviewItem(entity: entity, effect: try await effect(of: operation, on: entity)))
        }
        return Preview(plan: plan, source: source.description, sample: sample)
    }

    /// Plans and stores a job: queued to run, or waiting for a lead when it is over the approval size.
    public func create(_ source: Source, operation: BulkOperation, note: String?, actor: ActorRef, actorLeads: Bool) async throws -> BulkJob {
        let preview = try await preview(source, operation: operation, actor: actor, actorLeads: actorLeads, sampleSize: 0)
        guard preview.plan.problems.isEmpty else { throw ReviewError(.invalid, preview.plan.problems.joined(separator: "; ")) }
        let now = clock.nowMillis()
        let job = BulkJob(operation: operation, source: preview.source, note: note, state: preview.plan.needsApproval ? .awaitingApproval : .queued,
                          requestedBy: actor, createdAt: now, total: preview.plan.targets.entities.count)
        return try await store.createBulkJob(job, entities: preview.plan.targets.entities, audit: AuditDraft(
            at: now, actor: actor, action: "bulk.create", target: "bulk", detail: JSONWriter.object { writer in
                writer.key("operation")
                operation.write(into: &writer)
                writer.field("source", preview.source)
                writer.field("entities", Int64(job.total))
                writer.field("state", job.state.rawValue)
                if let note { writer.field("note", note) }
            }))
    }

    /// A lead approves a job over the approval size; the approver cannot be who asked for it.
    public func approve(id: Int64, actor: ActorRef) async throws -> BulkJob {
        var job = try await existing(id)
        guard job.requestedBy != actor else {
            throw ReviewError(.forbidden, "\(actor) asked for bulk job \(id); another lead approves it")
        }
        job.approvedBy = actor
        return try await move(job, .approve, actor: actor, detail: [:])
    }

    /// Stops a job that has not finished; steps already taken stay (reverse them from the stopped job).
    public func cancel(id: Int64, actor: ActorRef) async throws -> BulkJob {
        var job = try await existing(id)
        job.finishedAt = clock.nowMillis()
        return try await move(job, .cancel, actor: actor, detail: ["done": "\(job.done)"])
    }

    /// Undoes a finished (or cancelled) job: labels come off, actions are reversed, one by one.
    /// Reversing enforcement takes a lead, as reversing one action does.
    public func reverse(id: Int64, reason: String, actor: ActorRef, actorLeads: Bool) async throws -> BulkJob {
        var job = try await existing(id)
        if case .enforce = job.operation, !actorLeads {
            throw ReviewError(.forbidden, "reversing enforcement takes a lead (the cases:lead scope), as reversing one action does")
        }
        guard job.operation.isReversible else {
            throw ReviewError(.conflict, "a \(job.operation.kind) job is not reversed: "
                + (job.operation.kind == "open_cases" ? "opening a case changes nothing for a user; reviewers decide the cases" : "label the entities again instead"))
        }
        job.reversedBy = actor
        job.reversalReason = reason
        job.cursor = 0
        job.finishedAt = nil
        return try await move(job, .reverse, actor: actor, detail: ["reason": reason])
    }

    public func job(id: Int64) async throws -> BulkJob? { try await store.bulkJob(id: id) }

    public func jobs(before: Int64?, limit: Int) async throws -> [BulkJob] { try await store.bulkJobs(before: before, limit: limit) }

    public func items(job: Int64, from index: Int, limit: Int, state: BulkItem.State?) async throws -> [BulkItem] {
        try await store.bulkItems(job: job, from: index, limit: limit, state: state)
    }

    private func existing(_ id: Int64) async throws -> BulkJob {
        guard let job = try await store.bulkJob(id: id) else { throw ReviewError(.notFound, "there is no bulk job \(id)") }
        return job
    }

    private func move(_ job: BulkJob, _ command: BulkCommand, actor: ActorRef, detail: [String: String]) async throws -> BulkJob {
        guard let next = command.next(from: job.state) else {
            throw ReviewError(.conflict, "bulk job \(job.id) is \(job.state.rawValue); it cannot \(command.rawValue) from there")
        }
        var moved = job
        moved.state = next
        let audit = AuditDraft(at: clock.nowMillis(), actor: actor, action: "bulk.\(command.rawValue)", target: "bulk:\(job.id)",
                               detail: JSONWriter.object { writer in
                                   writer.field("from", job.state.rawValue)
                                   writer.field("to", next.rawValue)
                                   for (key, value) in detail.sorted(by: { $0.key < $1.key }) { writer.field(key, value) }
                               })
        guard try await store.updateBulkJob(moved, expecting: job.state, audit: audit) else {
            throw ReviewError(.conflict, "bulk job \(job.id) changed while this was asked; read it again")
        }
        return moved
    }

    /// The values of the source's entity column (or its entities).
    private func resolve(_ source: Source, actor: ActorRef) async throws -> [String?] {
        let queryLimits = QueryLimits(rows: limits.cap + 1, millis: QueryLimits.maximumMillis)
        switch source {
        case .entities(let list):
            return list
        case .cluster(let entity, let hours, let maxDegree):
            let options = ClusterOptions(accountType: entity.type, maxDegree: maxDegree)
            let found = try await links.clusters(hours: hours, options: options, limit: Int.max, facts: false)
            guard let cluster = found.clusters.first(where: { $0.cluster.accounts.contains(entity.description) }) else {
                throw ReviewError(.notFound, "\(entity) is in no cluster of the last \(hours)h")
            }
            return cluster.cluster.accounts
        case .savedQuery(let name, let parameters, let column):
            let (_, result) = try await investigations.run(saved: name, parameters: parameters, limits: queryLimits, actor: actor)
            return try Self.column(column, of: result)
        case .sql(let sql, let parameters, let column):
            return try Self.column(column, of: try await investigations.run(sql, parameters: parameters, limits: queryLimits, actor: actor))
        }
    }

    static func column(_ name: String?, of result: QueryResult) throws -> [String?] {
        guard !result.columns.isEmpty else { throw ReviewError(.invalid, "the query returns no columns") }
        let index: Int
        if let name {
            guard let found = result.columns.firstIndex(of: name) else {
                throw ReviewError(.invalid, "the query has no column \(name); its columns: \(result.columns.joined(separator: ", "))")
            }
            index = found
        } else {
            index = result.columns.firstIndex(of: "entity") ?? 0
        }
        return result.rows.map { row in
            switch row[index] {
            case .text(let text): text
            case .integer(let value): String(value)
            default: nil
            }
        }
    }

    /// What the pack finds wrong with the operation: an unknown queue, category, severity or
    /// action, or a decision the queue would refuse.
    func operationProblems(_ operation: BulkOperation, pack: PolicyPack) -> [String] {
        var problems = BulkPlan.fieldProblems(operation)
        let configuration = pack.review.configuration
        func queue(_ name: String) {
            if configuration.queues[name] == nil {
                problems.append("there is no queue \(name); queues: \(configuration.queueOrder.joined(separator: ", "))")
            }
        }
        func severity(_ name: String) {
            if !review.policy.severities.contains(name) {
                problems.append("severity \(name) is not one of \(review.policy.severities.joined(separator: ", "))")
            }
        }
        switch operation {
        case .label, .unlabel:
            break
        case .openCases(let name, let category, let level, _):
            queue(name)
            severity(level)
            if !pack.taxonomy.categoryIDs.contains(category) { problems.append("category \"\(category)\" is not in the taxonomy") }
        case .enforce(_, _, _, _, let name, let level, _):
            queue(name)
            severity(level)
            if let draft = decision(for: operation, job: nil) {
                problems += ReviewService.problems(of: draft, queue: name, kind: .review, pack: pack)
            }
        }
        return problems
    }

    /// The decision an enforcement job makes on each case.
    func decision(for operation: BulkOperation, job: BulkJob?) -> DecisionDraft? {
        guard case .enforce(let action, let duration, let category, let policy, _, _, let rationale) = operation else { return nil }
        var said = rationale
        if let job {
            said += " (bulk job \(job.id), asked by \(job.requestedBy)" + (job.approvedBy.map { ", approved by \($0)" } ?? "") + ")"
        }
        return DecisionDraft(category: category, violation: true, actions: [RequestedAction(name: action, duration: duration)],
                             policy: policy, rationale: said)
    }

    /// What the job would do to `entity` now, as the preview says it.
    func effect(of operation: BulkOperation, on entity: EntityRef) async throws -> String {
        switch operation {
        case .label, .unlabel:
            return operation.effect
        case .openCases(let queue, _, _, _), .enforce(_, _, _, _, let queue, _, _):
            let open = try await review.cases(CaseQuery(subject: entity, limit: 5)).first { $0.state.isOpen && $0.kind == .review }
            guard let open else { return operation.effect }
            if case .openCases = operation { return "join open case \(open.id) in \(open.queue)" }
            if let holder = open.assignee { return "skip: open case \(open.id) is held by \(holder)" }
            return operation.effect.replacingOccurrences(of: "decided on a case in \(queue)", with: "decided on open case \(open.id) in \(open.queue)")
        }
    }

    // MARK: Running

    /// Takes one step of the oldest job with work: a chunk of its entities. True when it did something.
    @discardableResult
    public func step() async throws -> Bool {
        guard let job = try await store.activeBulkJobs().first else { return false }
        switch job.state {
        case .queued:
            return try await advance(job, .start, audit: "bulk.start") { $0.field("entities", Int64(job.total)) }
        case .running:
            return try await run(job)
        case .reversing:
            return try await undo(job)
        default:
            return false
        }
    }

    /// The runner moves a job on (start, finish), audited as `audit` by `system:bulk`; a job
    /// cancelled meanwhile stays cancelled.
    private func advance(_ job: BulkJob, _ command: BulkCommand, audit action: String,
                         _ detail: (inout JSONWriter) -> Void) async throws -> Bool {
        guard let next = command.next(from: job.state) else { return false }
        var moved = job
        moved.state = next
        let now = clock.nowMillis()
        if command == .start { moved.startedAt = now } else { moved.finishedAt = now }
        _ = try await store.updateBulkJob(moved, expecting: job.state, audit: AuditDraft(
            at: now, actor: Self.actor, action: action, target: "bulk:\(job.id)", detail: JSONWriter.object(detail)))
        return true
    }

    private func run(_ job: BulkJob) async throws -> Bool {
        let items = try await store.bulkItems(job: job.id, from: job.cursor, limit: chunk, state: nil)
        guard !items.isEmpty else {
            return try await advance(job, .finish, audit: "bulk.finish") { writer in
                writer.field("done", Int64(job.done))
                writer.field("failed", Int64(job.failed))
            }
        }
        let startedAt = job.startedAt ?? clock.nowMillis()
        var results = items
        switch job.operation {
        case .label(let name, let expiresAfter):
            let refused = try await append(job, items, occurredAt: startedAt) { _ in .label(name: name, expiresAt: expiresAfter.map { startedAt + $0 }) }
            Self.settle(&results, refused: refused)
        case .unlabel(let name):
            let refused = try await append(job, items, occurredAt: startedAt) { _ in .unlabel(name: name) }
            Self.settle(&results, refused: refused)
        case .openCases(let queue, let category, let severity, let reason):
            let refused = try await append(job, items, occurredAt: startedAt) { _ in .openCase(queue: queue, category: category, severity: severity, reason: reason) }
            Self.settle(&results, refused: refused)
        case .enforce(_, _, let category, _, let queue, let severity, let rationale):
            // The cases first (through the log, as a rule's signals would open them), then each
            // decided once detection and the case builder have opened them all.
            let chunkKey = "\(job.id):\(job.cursor)"
            var cases = try await store.bulkCases(job: job.id)
            let waiting = { (cases: [EntityRef: Int64], refused: [Int: String]) in
                items.allSatisfy { cases[$0.entity] != nil || refused[$0.index] != nil }
            }
            var refused = appendedChunks.withLock { $0[chunkKey] } ?? [:]
            if !waiting(cases, refused) {
                if appendedChunks.withLock({ $0[chunkKey] }) == nil {
                    refused = try await append(job, items, occurredAt: startedAt) { _ in
                        .openCase(queue: queue, category: category, severity: severity, reason: rationale)
                    }
                    appendedChunks.withLock { $0[chunkKey] = refused }
                }
                cases = try await store.bulkCases(job: job.id)
                guard waiting(cases, refused) else { return false }
            }
            appendedChunks.withLock { $0[chunkKey] = nil }
            for index in results.indices {
                if let message = refused[results[index].index] {
                    results[index].state = .failed
                    results[index].detail = message
                } else {
                    results[index] = try await enforce(job, results[index], caseID: cases[results[index].entity])
                }
            }
        }
        var progressed = job
        progressed.cursor = job.cursor + items.count
        progressed.done += results.count(where: { $0.state == .done })
        progressed.failed += results.count(where: { $0.state == .failed })
        _ = try await store.recordBulkItems(results, job: progressed, expecting: .running)
        return true
    }

    /// Appends the chunk's steps to the log (a retried chunk's steps are duplicates); returns the
    /// items whose step intake refused, with why (their items fail; the others go on).
    private func append(_ job: BulkJob, _ items: [BulkItem], occurredAt: Int64,
                        _ operation: (BulkItem) -> BulkInstruction.Operation) async throws -> [Int: String] {
        let steps = items.map { item in
            (id: job.stepID(item.index), instruction: BulkInstruction(job: job.id, entity: item.entity, operation: operation(item)))
        }
        let result = try await intake.submit(bulk: steps, occurredAt: occurredAt)
        var refused: [Int: String] = [:]
        for (item, line) in zip(items, result.results) where line.status == .rejected || line.status == .conflict {
            refused[item.index] = "the step was refused: \(line.error?.message ?? line.status.rawValue)"
        }
        return refused
    }

    /// Items whose step is in the log are done; those intake refused failed.
    static func settle(_ results: inout [BulkItem], refused: [Int: String]) {
        for index in results.indices {
            if let message = refused[results[index].index] {
                results[index].state = .failed
                results[index].detail = message
            } else {
                results[index].state = .done
            }
        }
    }

    /// Claims and decides one entity's case; an item already decided (a retried chunk) keeps its decision.
    private func enforce(_ job: BulkJob, _ item: BulkItem, caseID: Int64?) async throws -> BulkItem {
        var result = item
        guard let caseID else {
            result.state = .failed
            result.detail = "no case was opened"
            return result
        }
        result.caseID = caseID
        guard let draft = decision(for: job.operation, job: job) else { return result }
        // A chunk retried after a crash finds the decisions it made before it could record them.
        let startedAt = job.startedAt ?? job.createdAt
        if let earlier = try await review.store.decisions(caseID: caseID).first(where: { $0.decidedBy == Self.actor && $0.at >= startedAt }) {
            result.state = .done
            result.decisionID = earlier.id
            result.actionIDs = earlier.actions.map(\.id)
            return result
        }
        let record = try await review.caseRecord(id: caseID)
        if let holder = record.assignee, holder != Self.actor {
            result.state = .failed
            result.detail = "case \(caseID) is held by \(holder)"
            return result
        }
        guard record.state.isOpen else {
            result.state = .failed
            result.detail = "case \(caseID) is \(record.state.rawValue)"
            return result
        }
        do {
            let claimed = record.assignee == Self.actor ? record
                : try await review.store.claim(caseID: caseID, reviewer: Self.actor, policy: review.policy, now: clock.nowMillis())
            let decision = try await review.decide(caseID: caseID, draft, actor: Self.actor, read: claimed)
            result.state = .done
            result.decisionID = decision.id
            result.actionIDs = decision.actions.map(\.id)
        } catch let error as ReviewError {
            result.state = .failed
            result.detail = error.message
        }
        return result
    }

    /// One chunk of a reversal: labels come off through the log, actions are reversed through the
    /// review path (an action reversed already, by an appeal or by hand, is left as it is).
    private func undo(_ job: BulkJob) async throws -> Bool {
        let items = try await store.bulkItems(job: job.id, from: job.cursor, limit: chunk, state: nil)
        guard !items.isEmpty else {
            return try await advance(job, .finish, audit: "bulk.reversed") { $0.field("reversed", Int64(job.reversed)) }
        }
        var results = items
        let reason = "bulk job \(job.id) reversed by \(job.reversedBy?.description ?? "?"): \(job.reversalReason ?? "")"
        switch job.operation {
        case .label(let name, _):
            let done = items.filter { $0.state == .done }
            if !done.isEmpty {
                let steps = done.map { item in
                    (id: job.stepID(item.index, reversal: true), instruction: BulkInstruction(job: job.id, entity: item.entity, operation: .unlabel(name: name)))
                }
                let result = try await intake.submit(bulk: steps, occurredAt: job.startedAt ?? job.createdAt)
                if let refused = result.results.first(where: { $0.status == .rejected || $0.status == .conflict }) {
                    throw ReviewError(.conflict, "bulk job \(job.id): reversal step \(refused.id ?? "") was refused: \(refused.error?.message ?? "")")
                }
            }
            for index in results.indices where results[index].state == .done { results[index].state = .reversed }
        case .enforce:
            for index in results.indices where results[index].state == .done {
                var failures: [String] = []
                for action in results[index].actionIDs {
                    do {
                        _ = try await review.reverse(actionID: action, reason: reason, actor: job.reversedBy ?? Self.actor)
                    } catch let error as ReviewError where error.kind == .conflict {
                        // Already reversed (an appeal or a lead got there first): nothing to undo.
                        _ = error
                    } catch let error as ReviewError {
                        failures.append("action \(action): \(error.message)")
                    }
                }
                if failures.isEmpty { results[index].state = .reversed } else { results[index].detail = failures.joined(separator: "; ") }
            }
        case .unlabel, .openCases:
            break
        }
        var progressed = job
        progressed.cursor = job.cursor + items.count
        progressed.reversed += results.count(where: { $0.state == .reversed }) - items.count(where: { $0.state == .reversed })
        _ = try await store.recordBulkItems(results, job: progressed, expecting: .reversing)
        return true
    }
}

/// Runs bulk jobs in the background, a chunk at a time, resuming where the last saved chunk left
/// off after a restart.
public struct BulkRunner: Service {
    let actions: BulkActions
    let logger: Logger

    public init(actions: BulkActions, logger: Logger) {
        self.actions = actions
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    if try await actions.step() == false { try await Task.sleep(for: .milliseconds(250)) }
                } catch is CancellationError {
                    return
                } catch {
                    logger.error("bulk job step failed; retrying", metadata: ["error": "\(error)"])
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        }
    }
}
