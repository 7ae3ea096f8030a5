import Foundation
import Hummingbird
import WardenCore
import WardenEngine
import WardenInvestigations
import WardenReview
import WardenStore

/// What a bulk job does, as the API reads and shows it.
struct BulkOperationBody: Codable, Sendable {
    var kind: String
    var label: String?
    var expiresIn: String?
    var queue: String?
    var category: String?
    var severity: String?
    var reason: String?
    var action: String?
    var duration: String?
    var policy: String?
    var rationale: String?
    enum CodingKeys: String, CodingKey, CaseIterable {
        case kind, label, expiresIn = "expires_in", queue, category, severity, reason, action, duration, policy, rationale
    }

    init(_ operation: BulkOperation) {
        var writer = JSONWriter(capacity: 128)
        operation.write(into: &writer)
        // The engine's one spelling of an operation, read back into the response's members.
        let value = JSONValue.parse(writer.bytes)
        func text(_ key: String) -> String? { if case .string(let text)? = value?[key] { text } else { nil } }
        kind = operation.kind
        label = text("label")
        expiresIn = text("expires_in")
        queue = text("queue")
        category = text("category")
        severity = text("severity")
        reason = text("reason")
        action = text("action")
        duration = text("duration")
        policy = text("policy")
        rationale = text("rationale")
    }

    func operation() throws(Problem) -> BulkOperation {
        do {
            return try BulkOperation.parse(kind: kind, members: [
                ("label", label), ("expires_in", expiresIn), ("queue", queue), ("category", category), ("severity", severity),
                ("reason", reason), ("action", action), ("duration", duration), ("policy", policy), ("rationale", rationale)])
        } catch {
            // Messages start with the field they are about (`operation.label must be…`).
            let first = error.description.split(separator: " ").first.map(String.init) ?? "operation"
            let field = first.hasPrefix("operation") ? first : "operation"
            throw RequestInput.invalid(field, error.description.hasPrefix(field + " ") ? String(error.description.dropFirst(field.count + 1)) : error.description)
        }
    }
}

/// Where a bulk job's entities come from: exactly one of a saved query, SQL, a cluster or a list.
struct BulkSourceBody: Decodable, Sendable {
    var query: String?
    var sql: String?
    var parameters: [String: ParameterValue]?
    var column: String?
    var cluster: String?
    var hours: Int?
    var maxDegree: Int?
    var entities: [String]?
    enum CodingKeys: String, CodingKey, CaseIterable { case query, sql, parameters, column, cluster, hours, maxDegree = "max_degree", entities }

    func source() throws(Problem) -> BulkActions.Source {
        let given = [query != nil, sql != nil, cluster != nil, entities != nil].count(where: { $0 })
        guard given == 1 else { throw RequestInput.invalid("source", "give exactly one of query, sql, cluster or entities") }
        try Bounds.text(query, "source.query", max: 64, nonBlank: true)
        try Bounds.text(sql, "source.sql", max: SavedQuery.maximumSQL, nonBlank: true)
        try Bounds.text(column, "source.column", max: 200, nonBlank: true)
        if (parameters?.count ?? 0) > 100 { throw RequestInput.invalid("source.parameters", "has \(parameters?.count ?? 0) members; the limit is 100") }
        let values = (parameters ?? [:]).mapValues(\.value)
        if let hours, !(1...2_160).contains(hours) { throw RequestInput.invalid("source.hours", "is \(hours); give 1 to 2160") }
        if let maxDegree, !(2...10_000).contains(maxDegree) { throw RequestInput.invalid("source.max_degree", "is \(maxDegree); give 2 to 10000") }
        if cluster == nil, hours != nil || maxDegree != nil {
            throw RequestInput.invalid(hours != nil ? "source.hours" : "source.max_degree", "goes with cluster")
        }
        if query == nil, sql == nil, parameters != nil || column != nil {
            throw RequestInput.invalid(parameters != nil ? "source.parameters" : "source.column", "goes with query or sql")
        }
        if let query { return .savedQuery(name: query, parameters: values, column: column) }
        if let sql { return .sql(sql, parameters: values, column: column) }
        if let cluster {
            guard cluster.schemaLength <= 300, let entity = EntityRef(parsing: cluster) else {
                throw RequestInput.invalid("source.cluster", "must be an entity such as user:u1, the cluster's member")
            }
            return .cluster(entity: entity, hours: hours ?? 24, maxDegree: maxDegree ?? ClusterOptions().maxDegree)
        }
        let list = entities ?? []
        try Bounds.texts(list, "source.entities", max: 300, maxItems: BulkLimits().cap)
        return .entities(list)
    }
}

/// A bulk job as asked for: the same body previews it (a dry run) and creates it.
struct BulkJobBody: RequestBody {
    var source: BulkSourceBody
    var operation: BulkOperationBody
    var note: String?
    enum CodingKeys: String, CodingKey, CaseIterable { case source, operation, note }
    static var nestedMembers: [String: [String]] {
        ["source": BulkSourceBody.CodingKeys.allCases.map(\.stringValue), "operation": BulkOperationBody.CodingKeys.allCases.map(\.stringValue)]
    }
    func validate() throws(Problem) { try Bounds.text(note, "note", max: 2_000) }
}

struct BulkReverseBody: RequestBody {
    var reason: String
    enum CodingKeys: String, CodingKey, CaseIterable { case reason }
    func validate() throws(Problem) { try Bounds.text(reason, "reason", max: 2_000, nonBlank: true) }
}

struct BulkPreviewResponse: ResponseEncodable {
    struct Invalid: Encodable { var index: Int; var value: String }
    struct Item: Encodable { var entity: String; var effect: String }
    var source: String
    var operation: BulkOperationBody
    var effect: String
    var entities: Int
    var invalid: Int
    var invalidValues: [Invalid]
    var duplicates: Int
    var needsApproval: Bool
    var approvalAbove: Int
    var cap: Int
    var reversible: Bool
    var problems: [String]
    var sample: [Item]

    init(_ preview: BulkActions.Preview, limits: BulkLimits) {
        let plan = preview.plan
        source = preview.source
        operation = BulkOperationBody(plan.operation)
        effect = plan.operation.effect
        entities = plan.targets.entities.count
        invalid = plan.targets.invalidCount
        invalidValues = plan.targets.invalid.map { Invalid(index: $0.index, value: String($0.value.prefix(300))) }
        duplicates = plan.targets.duplicates
        needsApproval = plan.needsApproval
        approvalAbove = limits.approvalAbove
        cap = limits.cap
        reversible = plan.operation.isReversible
        problems = plan.problems
        sample = preview.sample.map { Item(entity: $0.entity.description, effect: $0.effect) }
    }
}

struct BulkJobResponse: ResponseEncodable {
    var id: Int64
    var operation: BulkOperationBody
    var effect: String
    var source: String
    var note: String?
    var state: String
    var requestedBy: String
    var approvedBy: String?
    var createdAt: String
    var startedAt: String?
    var finishedAt: String?
    var total: Int
    var done: Int
    var failed: Int
    var reversed: Int
    var progress: Double
    var reversible: Bool
    var reversedBy: String?
    var reversalReason: String?

    init(_ job: BulkJob) {
        id = job.id
        operation = BulkOperationBody(job.operation)
        effect = job.operation.effect
        source = job.source
        note = job.note
        state = job.state.rawValue
        requestedBy = job.requestedBy.description
        approvedBy = job.approvedBy?.description
        createdAt = Timestamp.formatRFC3339(job.createdAt)
        startedAt = job.startedAt.map(Timestamp.formatRFC3339)
        finishedAt = job.finishedAt.map(Timestamp.formatRFC3339)
        total = job.total
        done = job.done
        failed = job.failed
        reversed = job.reversed
        progress = job.total == 0 ? 1 : min(1, Double(job.cursor) / Double(job.total))
        reversible = job.operation.isReversible
        reversedBy = job.reversedBy?.description
        reversalReason = job.reversalReason
    }
}

struct BulkJobList: ResponseEncodable {
    var jobs: [BulkJobResponse]
    var next: Int64?
}

struct BulkItemPage: ResponseEncodable {
    struct Item: Encodable {
        var index: Int
        var entity: String
        var state: String
        var caseId: Int64?
        var decisionId: Int64?
        var actionIds: [Int64]
        var detail: String?
    }
    var items: [Item]
    var next: Int?
}

/// `/v1/bulk`: bulk jobs on what an investigation found — preview (a dry run), create, approve,
/// cancel, reverse, and their progress item by item.
struct BulkController {
    let bulk: BulkActions
    let store: any EventStore
    let maxBodyBytes: Int

    func addRoutes(to routes: RouteTable) {
        routes.add(.post, "/v1/bulk/preview", scope: .bulkWrite) { request, context in
            let body = try await input(request).body(BulkJobBody.self)
            let source = try body.source.source()
            let operation = try body.operation.operation()
            if case .cluster = source { try await EntityIndexer.catchUpIfClose(store) }
            let preview = try await Self.run { try await bulk.preview(source, operation: operation, actor: context.actor, actorLeads: Self.leads(context)) }
            return BulkPreviewResponse(preview, limits: bulk.limits)
        }
        routes.add(.post, "/v1/bulk", scope: .bulkWrite, status: .created) { request, context in
            let body = try await input(request).body(BulkJobBody.self)
            let source = try body.source.source()
            let operation = try body.operation.operation()
            if case .cluster = source { try await EntityIndexer.catchUpIfClose(store) }
            return BulkJobResponse(try await Self.run { try await bulk.create(source, operation: operation, note: body.note, actor: context.actor, actorLeads: Self.leads(context)) })
        }
        routes.add(.get, "/v1/bulk", scope: .bulkRead) { request, _ in
            let query = RequestInput(request: request, limit: 0)
            let before = try query.integer("before", range: 1...Int64.max)
            let limit = Int(try query.integer("limit", default: 50, range: 1...200))
            let jobs = try await bulk.jobs(before: before, limit: limit + 1)
            return BulkJobList(jobs: jobs.prefix(limit).map(BulkJobResponse.init), next: jobs.count > limit ? jobs[limit - 1].id : nil)
        }
        routes.add(.get, "/v1/bulk/{id}", scope: .bulkRead) { _, context in
            let id = try context.id()
            guard let job = try await bulk.job(id: id) else { throw Problem.notFound("there is no bulk job \(id)") }
            return BulkJobResponse(job)
        }
        routes.add(.get, "/v1/bulk/{id}/items", scope: .bulkRead) { request, context in
            let id = try context.id()
            let query = RequestInput(request: request, limit: 0)
            let from = Int(try query.integer("from", default: 0, range: 0...Int64(BulkLimits().cap)))
            let limit = Int(try query.integer("limit", default: 100, range: 1...1_000))
            let state = try query.choice("state", BulkItem.State.self)
            guard try await bulk.job(id: id) != nil else { throw Problem.notFound("there is no bulk job \(id)") }
            let items = try await bulk.items(job: id, from: from, limit: limit + 1, state: state)
            return BulkItemPage(items: items.prefix(limit).map {
                BulkItemPage.Item(index: $0.index, entity: $0.entity.description, state: $0.state.rawValue, caseId: $0.caseID,
                                  decisionId: $0.decisionID, actionIds: $0.actionIDs, detail: $0.detail)
            }, next: items.count > limit ? items[limit].index : nil)
        }
        routes.add(.post, "/v1/bulk/{id}/approve", scope: .casesLead) { _, context in
            let id = try context.id()
            return BulkJobResponse(try await Self.run { try await bulk.approve(id: id, actor: context.actor) })
        }
        routes.add(.post, "/v1/bulk/{id}/cancel", scope: .bulkWrite) { _, context in
            let id = try context.id()
            return BulkJobResponse(try await Self.run { try await bulk.cancel(id: id, actor: context.actor) })
        }
        routes.add(.post, "/v1/bulk/{id}/reverse", scope: .bulkWrite) { request, context in
            let id = try context.id()
            let body = try await input(request).body(BulkReverseBody.self)
            return BulkJobResponse(try await Self.run { try await bulk.reverse(id: id, reason: body.reason, actor: context.actor, actorLeads: Self.leads(context)) })
        }
    }

    func input(_ request: Request) -> RequestInput { RequestInput(request: request, limit: maxBodyBytes) }

    /// Whether the caller holds `cases:lead` (may enforce without approval and reverse enforcement).
    static func leads(_ context: WardenRequestContext) -> Bool { Scope.casesLead.isSatisfied(by: context.scopes ?? []) }

    /// Runs a bulk operation, turning its refusals (and its source query's) into problem documents.
    static func run<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await InvestigationsController.run(body)
        } catch let error as ReviewError {
            switch error.kind {
            case .notFound: throw Problem.notFound(error.message)
            case .conflict: throw Problem(.conflict, "bulk-conflict", title: "Conflict", detail: error.message)
            case .invalid: throw Problem(.unprocessableContent, "invalid-bulk-job", title: "The bulk job cannot run as asked", detail: error.message)
            case .forbidden: throw Problem(.forbidden, "forbidden", title: "Not allowed", detail: error.message)
            case .limited: throw Problem(.tooManyRequests, "limited", title: "Limited", detail: error.message)
            }
        }
    }
}
