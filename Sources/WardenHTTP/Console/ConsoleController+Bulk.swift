import Foundation
import Hummingbird
import WardenCore
import WardenEngine
import WardenInvestigations
import WardenReview

/// The bulk page: act on a query's result, a cluster or a list — label, open cases or enforce —
/// with a preview (a dry run) before anything happens, the jobs with their progress, approval by
/// another lead, cancel and reverse, and what a job did to each entity. The same ``BulkActions``
/// and scopes as `/v1/bulk`.
extension ConsoleController {
    /// The new-job form's values, kept across a preview.
    struct BulkFormView {
        var sourceKind: String
        var sourceValue: String
        var column: String
        var hours: Int
        var maxDegree: Int
        var kind: String
        var label: String
        var expiresIn: String
        var queue: String
        var category: String
        var severity: String
        var action: String
        var duration: String
        var policy: String
        var rationale: String
        var note: String
        // Which options are chosen, as stored flags (templates read stored properties only).
        var isQuery = false, isSQL = false, isCluster = false, isEntities = false
        var isLabel = false, isUnlabel = false, isOpenCases = false, isEnforce = false

        /// The form with its choice flags set, for the template.
        func flagged() -> BulkFormView {
            var copy = self
            copy.isQuery = sourceKind == "query"
            copy.isSQL = sourceKind == "sql"
            copy.isCluster = sourceKind == "cluster"
            copy.isEntities = sourceKind == "entities"
            copy.isLabel = kind == "label"
            copy.isUnlabel = kind == "unlabel"
            copy.isOpenCases = kind == "open_cases"
            copy.isEnforce = kind == "enforce"
            return copy
        }

        static let empty = BulkFormView(sourceKind: "entities", sourceValue: "", column: "", hours: 24, maxDegree: ClusterOptions().maxDegree, kind: "label", label: "", expiresIn: "",
                                        queue: "", category: "", severity: "medium", action: "", duration: "", policy: "", rationale: "", note: "")

        init(sourceKind: String, sourceValue: String, column: String, hours: Int, maxDegree: Int, kind: String, label: String, expiresIn: String, queue: String,
             category: String, severity: String, action: String, duration: String, policy: String, rationale: String, note: String) {
            self.sourceKind = sourceKind
            self.sourceValue = sourceValue
            self.column = column
            self.hours = hours
            self.maxDegree = maxDegree
            self.kind = kind
            self.label = label
            self.expiresIn = expiresIn
            self.queue = queue
            self.category = category
            self.severity = severity
            self.action = action
            self.duration = duration
            self.policy = policy
            self.rationale = rationale
            self.note = note
        }

        init(_ form: ConsoleForm) {
            let value: (String) -> String = { form[$0] ?? "" }
            self.init(sourceKind: value("source_kind"), sourceValue: value("source_value"), column: value("column"),
                      hours: Int(value("hours")) ?? 24, maxDegree: Int(value("max_degree")) ?? ClusterOptions().maxDegree, kind: value("kind"), label: value("label"), expiresIn: value("expires_in"),
                      queue: value("queue"), category: value("category"), severity: value("severity").isEmpty ? "medium" : value("severity"),
                      action: value("action"), duration: value("duration"), policy: value("policy"), rationale: value("rationale"), note: value("note"))
        }

        /// The source and the operation the form asks for, or what is wrong with it.
        func request() throws -> (BulkActions.Source, BulkOperation) {
            let trimmed = sourceValue.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty else { throw ConsoleRefusal("say where the entities come from") }
            let source: BulkActions.Source
            let column = self.column.trimmingCharacters(in: .whitespaces).isEmpty ? nil : self.column.trimmingCharacters(in: .whitespaces)
            switch sourceKind {
            case "query": source = .savedQuery(name: trimmed, parameters: [:], column: column)
            case "sql": source = .sql(trimmed, parameters: [:], column: column)
            case "cluster":
                guard let entity = EntityRef(parsing: trimmed) else { throw ConsoleRefusal("a cluster is named by one of its accounts, such as user:u1") }
                guard (1...2_160).contains(hours) else { throw ConsoleRefusal("a cluster's window is 1 to 2160 hours") }
                guard (2...10_000).contains(maxDegree) else { throw ConsoleRefusal("a super-node is above 2 to 10000 accounts") }
                source = .cluster(entity: entity, hours: hours, maxDegree: maxDegree)
            case "entities":
                let list = trimmed.split(whereSeparator: { $0.isNewline || $0 == "," })
                    .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                guard list.count <= BulkLimits().cap else { throw ConsoleRefusal("a list takes at most \(BulkLimits().cap) entities") }
                source = .entities(list)
            default:
                throw ConsoleRefusal("choose where the entities come from")
            }
            let text: (String) -> String? = { value in
                let trimmed = value.trimmingCharacters(in: .whitespaces)
                return trimmed.isEmpty ? nil : trimmed
            }
            let operation: BulkOperation
            do {
                operation = try BulkOperation.parse(kind: kind, members: [
                    ("label", text(label)), ("expires_in", text(expiresIn)), ("queue", text(queue)), ("category", text(category)),
                    ("severity", text(severity)), ("action", text(action)), ("duration", text(duration)), ("policy", text(policy)),
                    ("rationale", text(rationale))])
            } catch {
                throw ConsoleRefusal(error.description)
            }
            return (source, operation)
        }
    }

    struct BulkView {
        struct Job {
            var id: Int64
            var effect: String
            var source: String
            var note: String?
            var state: String
            var total: Int
            var done: Int
            var failed: Int
            var reversed: Int
            var percent: Int
            var requestedBy: String
            var approvedBy: String
            var created: String
            var selected: Bool
            var canApprove: Bool
            var canCancel: Bool
            var canReverse: Bool
        }
        struct Item { var index: Int; var entity: String; var state: String; var caseID: Int64?; var detail: String }
        struct Preview {
            struct Row { var entity: String; var effect: String }
            var effect: String
            var entities: Int
            var invalid: Int
            var hasInvalid: Bool
            var invalidValues: String
            var duplicates: Int
            var hasDuplicates: Bool
            var needsApproval: Bool
            var approvalAbove: Int
            var reversible: Bool
            var problems: [String]
            var hasProblems: Bool
            var sample: [Row]
        }
        var form: BulkFormView
        var canWrite: Bool
        var csrf: String
        var preview: Preview?
        var refusal: String?
        var jobs: [Job]
        var hasJobs: Bool
        var selected: Job?
        var items: [Item]
        var hasItems: Bool
        struct Option { var name: String; var selected: Bool }
        var queues: [Option]
        var actions: [Option]
        var approvalAbove: Int
    }

    @Sendable func bulkPage(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        _ = try person(context, needs: .bulkRead)
        // A form's GET: `+` is a space (the query page's "act on these" sends SQL this way).
        let pairs = ConsoleForm.parse(request.uri.query ?? "")
        let query: (String) -> String? = { name in pairs.first { $0.0 == name }?.1 }
        var form = BulkFormView.empty
        // Links from the clusters and query pages fill in the source.
        if let cluster = query("cluster") {
            form.sourceKind = "cluster"
            form.sourceValue = cluster
            form.hours = query("hours").flatMap { Int($0) } ?? 24
            form.maxDegree = query("max_degree").flatMap { Int($0) } ?? ClusterOptions().maxDegree
        } else if let sql = query("sql") {
            form.sourceKind = "sql"
            form.sourceValue = sql
        } else if let saved = query("query") {
            form.sourceKind = "query"
            form.sourceValue = saved
        }
        let selected = query("job").flatMap { Int64($0) }
        return try await renderBulk(context, form: form, selected: selected, preview: nil, refusal: nil)
    }

    /// The form's preview: a dry run, nothing changed.
    @Sendable func bulkPreview(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let (_, form) = try await post(request, context, needs: .bulkWrite)
        return try await bulkForm(BulkFormView(form), context) { source, operation, values in
            let preview = try await components.bulk.preview(source, operation: operation, actor: context.actor, actorLeads: leads(context))
            return try await renderBulk(context, form: values, selected: nil, preview: preview, refusal: nil)
        }
    }

    @Sendable func bulkStart(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let (_, form) = try await post(request, context, needs: .bulkWrite)
        return try await bulkForm(BulkFormView(form), context) { source, operation, values in
            let note = values.note.trimmingCharacters(in: .whitespaces)
            let job = try await components.bulk.create(source, operation: operation, note: note.isEmpty ? nil : String(note.prefix(2_000)),
                                                       actor: context.actor, actorLeads: leads(context))
            ConsolePage.leaveNotice(job.state == .awaitingApproval
                ? "Bulk job \(job.id) over \(job.total) entities waits for another lead's approval."
                : "Bulk job \(job.id) started: \(job.operation.effect), \(job.total) entities.", for: context)
            return ConsolePage.redirect("/bulk?job=\(job.id)")
        }
    }

    /// Reads the form's request and runs `body` with it; a refusal (the form's, the pack's, the
    /// source query's) comes back as the page with the form kept and the reason shown.
    private func bulkForm(_ values: BulkFormView, _ context: WardenRequestContext,
                          _ body: (BulkActions.Source, BulkOperation, BulkFormView) async throws -> Response) async throws -> Response {
        let refusal: String
        do {
            let (source, operation) = try values.request()
            if case .cluster = source { try await EntityIndexer.catchUpIfClose(components.store) }
            return try await body(source, operation, values)
        } catch let error as ConsoleRefusal {
            refusal = error.message
        } catch let error as ReviewError {
            refusal = error.message
        } catch let error as QueryError {
            refusal = error.message
        }
        return try await renderBulk(context, form: values, selected: nil, preview: nil, refusal: refusal)
    }

    /// Approve, cancel or reverse a job from its row.
    @Sendable func bulkMove(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let move = context.path("move")
        let (_, form) = try await post(request, context, needs: move == "approve" ? .casesLead : .bulkWrite)
        let id = try context.id()
        let bulk = components.bulk
        do {
            switch move {
            case "approve":
                _ = try await bulk.approve(id: id, actor: context.actor)
                ConsolePage.leaveNotice("Bulk job \(id) approved: it runs now.", for: context)
            case "cancel":
                _ = try await bulk.cancel(id: id, actor: context.actor)
                ConsolePage.leaveNotice("Bulk job \(id) cancelled; what it did so far stays until reversed.", for: context)
            case "reverse":
                let reason = try form.required("reason", label: "a reason", max: 2_000)
                _ = try await bulk.reverse(id: id, reason: reason, actor: context.actor, actorLeads: leads(context))
                ConsolePage.leaveNotice("Bulk job \(id) is being reversed.", for: context)
            default:
                throw Problem.notFound("there is no such move")
            }
        } catch let error as ReviewError {
            throw ConsoleRefusal(error.message)
        }
        return ConsolePage.redirect("/bulk?job=\(id)")
    }

    private func leads(_ context: WardenRequestContext) -> Bool {
        Scope.casesLead.isSatisfied(by: context.scopes ?? [])
    }

    private func renderBulk(_ context: WardenRequestContext, form: BulkFormView, selected: Int64?, preview: BulkActions.Preview?,
                            refusal: String?) async throws -> Response {
        let user = try person(context, needs: .bulkRead)
        let scopes = user.role.scopes
        let canWrite = Scope.bulkWrite.isSatisfied(by: scopes)
        let isLead = Scope.casesLead.isSatisfied(by: scopes)
        let bulk = components.bulk
        var jobs = try await bulk.jobs(before: nil, limit: 30)
        if let selected, !jobs.contains(where: { $0.id == selected }), let job = try await bulk.job(id: selected) { jobs.insert(job, at: 0) }
        let rows = jobs.map { job in
            BulkView.Job(
                id: job.id, effect: job.operation.effect, source: job.source, note: job.note, state: job.state.rawValue.replacingOccurrences(of: "_", with: " "),
                total: job.total, done: job.done, failed: job.failed, reversed: job.reversed,
                percent: job.total == 0 ? 100 : min(100, job.cursor * 100 / job.total),
                requestedBy: job.requestedBy.description, approvedBy: job.approvedBy?.description ?? "", created: Timestamp.formatRFC3339(job.createdAt),
                selected: job.id == selected,
                canApprove: isLead && job.state == .awaitingApproval && job.requestedBy != context.actor,
                canCancel: canWrite && BulkCommand.cancel.next(from: job.state) != nil,
                canReverse: canWrite && job.operation.isReversible && BulkCommand.reverse.next(from: job.state) != nil
                    && (isLead || !{ if case .enforce = job.operation { true } else { false } }()))
        }
        var items: [BulkView.Item] = []
        if let selected {
            let mask: (String) -> String = { context.masksPersonalData ? PersonalData.mask(entity: $0) : $0 }
            items = try await bulk.items(job: selected, from: 0, limit: 200, state: nil).map {
                BulkView.Item(index: $0.index, entity: mask($0.entity.description), state: $0.state.rawValue, caseID: $0.caseID, detail: $0.detail ?? "")
            }
        }
        let pack = components.packs.pack
        let view = BulkView(
            form: form.flagged(), canWrite: canWrite, csrf: context.session?.csrfToken ?? "",
            preview: preview.map { preview in
                let plan = preview.plan
                return BulkView.Preview(
                    effect: plan.operation.effect, entities: plan.targets.entities.count, invalid: plan.targets.invalidCount,
                    hasInvalid: plan.targets.invalidCount > 0, invalidValues: plan.targets.invalid.prefix(5).map { "\($0.value.prefix(60))" }.joined(separator: ", "),
                    duplicates: plan.targets.duplicates, hasDuplicates: plan.targets.duplicates > 0, needsApproval: plan.needsApproval, approvalAbove: bulk.limits.approvalAbove,
                    reversible: plan.operation.isReversible, problems: plan.problems, hasProblems: !plan.problems.isEmpty,
                    sample: preview.sample.map { .init(entity: $0.entity.description, effect: $0.effect) })
            },
            refusal: refusal, jobs: rows, hasJobs: !rows.isEmpty, selected: rows.first { $0.selected }, items: items, hasItems: !items.isEmpty,
            queues: pack.review.configuration.queueOrder.map { .init(name: $0, selected: $0 == form.queue) },
            actions: pack.review.catalogue.actions.keys.sorted().map { .init(name: $0, selected: $0 == form.action) },
            approvalAbove: bulk.limits.approvalAbove)
        return render("bulk-jobs", title: "Bulk action", path: "/bulk", context, body: view, status: refusal == nil ? .ok : .unprocessableContent)
    }
}
