import Foundation
import Hummingbird
import WardenCore
import WardenEngine
import WardenReview
import WardenStore

/// Home, queues and the review screen.
extension ConsoleController {
    struct QueueRow {
        var name: String
        var description: String
        var blur: Bool
        var waiting = 0
        var inReview = 0
        var onHold = 0
        var escalated = 0
        var warning = 0
        var breached = 0
        var byBand: [Int] = [0, 0, 0, 0]
        var oldestCreatedAt: Int64?
        var oldestWaiting = "—"
        var canWork = false
        var hasBreach = false
    }

    /// Every queue the person sees, in the pack's order, from the latest backlog sample.
    func queueRows(for user: UserRecord, _ context: WardenRequestContext) async throws -> [QueueRow] {
        let configuration = review.policy.configuration
        let now = components.clock.nowMillis()
        let stats = try await components.queueBoard.stats(components.store, now: now)
        let assigned = context.assignedQueues.map(Array.init)
        var rows: [String: QueueRow] = [:]
        for name in configuration.queueOrder where QueueAccess.sees(name, assigned: assigned) {
            let definition = configuration.queues[name]
            var row = QueueRow(name: name, description: definition?.description ?? "", blur: definition?.blur ?? false)
            let person = QueueAccess.Person(name: user.name, role: user.role, teams: user.teams, assignedQueues: assigned)
            row.canWork = Scope.casesReview.isSatisfied(by: user.role.scopes) && QueueAccess.refusal(person, queue: name, definition: definition) == nil
            rows[name] = row
        }
        for stat in stats {
            guard var row = rows[stat.queue] else { continue }
            switch stat.state {
            case "open": row.waiting += stat.count
            case "escalated": row.waiting += stat.count; row.escalated += stat.count
            case "in_review": row.inReview += stat.count
            case "on_hold": row.onHold += stat.count
            default: break
            }
            if (1...4).contains(stat.band) { row.byBand[stat.band - 1] += stat.count }
            row.warning += stat.warnings
            row.breached += stat.breaches
            if stat.state == "open" || stat.state == "escalated", let created = stat.oldestCreatedAt {
                row.oldestCreatedAt = min(row.oldestCreatedAt ?? created, created)
            }
            rows[stat.queue] = row
        }
        return configuration.queueOrder.compactMap { name in
            guard var row = rows[name] else { return nil }
            if let oldest = row.oldestCreatedAt { row.oldestWaiting = ConsolePage.age(now - oldest) }
            row.hasBreach = row.breached > 0
            return row
        }
    }

    struct CaseRow {
        var id: Int64
        var subject: String
        var queue: String
        var state: String
        var category: String
        var band: String
        var assignee: String
        var leaseExpiresAt: String?
        var slaStatus: String
        var dueAt: String?
        var createdAt: String
    }

    func caseRow(_ record: CaseRecord, _ context: WardenRequestContext) -> CaseRow {
        let status = CaseSLAStatus(record, policy: review.policy, now: components.clock.nowMillis())
        let subject = record.subject.description
        return CaseRow(id: record.id, subject: context.masksPersonalData ? PersonalData.mask(entity: subject) : subject, queue: record.queue,
                       state: record.state.rawValue, category: record.category, band: record.band.name, assignee: record.assignee?.description ?? "",
                       leaseExpiresAt: record.leaseExpiresAt.map(Timestamp.formatRFC3339), slaStatus: status.status.rawValue,
                       dueAt: status.dueAt.map(Timestamp.formatRFC3339), createdAt: Timestamp.formatRFC3339(record.createdAt))
    }

    // MARK: Home

    struct HomeView {
        struct Consult { var id: Int64; var caseID: Int64; var askedBy: String; var askedAt: String; var question: String }
        struct Decided { var caseID: Int64; var at: String; var time: String; var queue: String; var summary: String }
        var queues: [QueueRow]
        var held: [CaseRow]
        var consults: [Consult]
        var decisionsToday: Int
        var recentDecisions: [Decided]
        var exposure: ExposurePolicy.Standing?
    }

    @Sendable func home(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let user = try person(context)
        let now = components.clock.nowMillis()
        let canReview = Scope.casesReview.isSatisfied(by: user.role.scopes)
        let rows = Scope.casesRead.isSatisfied(by: user.role.scopes) ? try await queueRows(for: user, context) : []
        var held: [CaseRow] = []
        var consults: [HomeView.Consult] = []
        var decided: [HomeView.Decided] = []
        var decisionsToday = 0
        if canReview {
            held = try await review.cases(queue: nil, state: nil, assignee: context.actor, before: nil, limit: 100)
                .filter { $0.state == .inReview || $0.state == .onHold }.map { caseRow($0, context) }
            consults = try await review.consults(for: context.actor, answered: false, limit: 50)
                .filter { context.assignedQueues?.contains($0.queue) ?? true }
                .map { .init(id: $0.id, caseID: $0.caseID, askedBy: $0.askedBy.description, askedAt: Timestamp.formatRFC3339($0.askedAt),
                             question: context.masksPersonalData ? PersonalData.mask(text: $0.question) : $0.question) }
            let startOfDay = now - now % 86_400_000
            let today = try await review.activity(by: context.actor, kind: .decision, since: startOfDay, limit: 1000)
            decisionsToday = today.count
            decided = today.prefix(20).map { item in
                let detail = JSONValue.parse(Array(item.entry.detail.utf8))
                let at = Timestamp.formatRFC3339(item.entry.at)
                return .init(caseID: item.caseID, at: at, time: String(at.dropFirst(11).prefix(5)), queue: "",
                             summary: Self.summary(of: detail))
            }
        }
        let exposure = canReview && !review.policy.configuration.exposure.sensitiveCategories.isEmpty
            ? try await review.exposureStanding(of: context.actor) : nil
        return render("home", title: "Home", path: "/", context,
                      body: HomeView(queues: rows, held: held, consults: consults, decisionsToday: decisionsToday, recentDecisions: decided,
                                     exposure: exposure))
    }

    static func summary(of detail: JSONValue?) -> String {
        guard let detail else { return "" }
        var parts: [String] = []
        if let category = detail["category"]?.consoleString { parts.append(category) }
        if let violation = detail["violation"]?.boolValue { parts.append(violation ? "violation" : "no violation") }
        if let outcome = detail["appeal_outcome"]?.consoleString { parts.append(outcome) }
        return parts.joined(separator: " · ")
    }

    // MARK: Queues

    struct QueuesView { var bands: [String]; var queues: [QueueRow] }

    @Sendable func queues(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let user = try person(context, needs: .casesRead)
        return render("queues", title: "Queues", path: "/queues", context,
                      body: QueuesView(bands: CasePriority.Band.allCases.map(\.name), queues: try await queueRows(for: user, context)))
    }

    struct QueueView {
        struct StateOption { var name: String; var selected: Bool }
        var name: String
        var description: String
        var canWork: Bool
        var csrf: String
        var states: [StateOption]
        var stateFilter: String?
        var cases: [CaseRow]
        var nextBefore: Int64?
        var canLead: Bool
        var queueNames: [String]
        var people: [String]
    }

    @Sendable func queue(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let user = try person(context, needs: .casesRead)
        let name = context.path("queue")
        guard let definition = review.policy.configuration.queues[name] else { throw Problem.notFound("there is no queue \(name)") }
        try ReviewController.requireQueue(name, context)
        let query = request.uri.queryParameters
        let state = query["state"].flatMap { CaseState(rawValue: String($0)) }
        let before = query["before"].flatMap { Int64(String($0)) }
        // Without a state: the waiting cases in the order claim-next takes them; with one, newest first.
        var listing = CaseQuery(queue: name, state: state, before: before, limit: 100)
        listing.waitingInClaimOrder = state == nil
        let cases = try await review.cases(listing)
        let row = try await queueRows(for: user, context).first { $0.name == name }
        return render("queue", title: "Queue \(name)", path: "/queues/\(name)", context,
                      body: QueueView(name: name, description: definition.description ?? "", canWork: row?.canWork ?? false,
                                      csrf: context.session?.csrfToken ?? "",
                                      states: CaseState.allCases.map { .init(name: $0.rawValue, selected: $0 == state) }, stateFilter: state?.rawValue,
                                      cases: cases.map { caseRow($0, context) }, nextBefore: state != nil && cases.count == 100 ? cases.last?.id : nil,
                                      canLead: Scope.casesLead.isSatisfied(by: user.role.scopes),
                                      queueNames: review.policy.configuration.queueOrder.filter { $0 != name },
                                      people: Scope.casesLead.isSatisfied(by: user.role.scopes) ? try await reviewers(except: user.name) : []))
    }

    @Sendable func claimNext(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        _ = try await post(request, context, needs: .casesReview)
        let queue = context.path("queue")
        try api.requireWork(queue, context)
        guard let claimed = try await ReviewController.run({ try await review.claimNext(queue: queue, reviewer: context.actor) }) else {
            let standing = try await review.exposureStanding(of: context.actor)
            ConsolePage.leaveNotice(standing.overCap
                ? "You have reached today's cap of \(standing.cap ?? 0) sensitive cases, so claim-next gives you only other work, and \(queue) has none waiting. Take a break, or work another queue."
                : "Queue \(queue) has nothing waiting for you.", for: context)
            return ConsolePage.redirect("/")
        }
        return ConsolePage.redirect("/cases/\(claimed.id)")
    }
}
