import Foundation
import Hummingbird
import WardenCore
import WardenEngine
import WardenReview
import WardenStore

/// What a lead runs: the team (who is online, what they hold, their day, their exposure), held
/// cases to take back or hand on, bulk moves, and dead letters to redrive.
extension ConsoleController {
    struct LeadView {
        struct Reviewer { var name: String; var role: String; var online: Bool; var lastSeen: String; var holding: Int; var decisions: Int
            var sensitive: Int; var overCap: Bool }
        struct Held { var id: Int64; var assignee: String; var queue: String; var state: String; var leaseExpiresAt: String?; var idle: String; var stale: Bool }
        struct Dead { var id: Int64; var topic: String; var attempts: Int; var error: String; var createdAt: String }
        var csrf: String
        var reviewers: [Reviewer]
        var cap: Int?
        var held: [Held]
        var dead: [Dead]
        var deadCount: Int
        var hasDead: Bool
        var queueNames: [String]
        var people: [String]
    }

    /// A held case untouched for this long is flagged stale.
    static let staleMillis: Int64 = 30 * 60_000
    /// Someone whose session was used this recently is online.
    static let onlineMillis: Int64 = 15 * 60_000

    @Sendable func lead(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let user = try person(context, needs: .casesLead)
        let now = components.clock.nowMillis()
        let store = components.store
        let seen = try await store.lastSeen(now: now)
        let held = try await review.cases(CaseQuery(held: true, limit: 500))
        let startOfDay = ExposurePolicy.startOfDay(now)
        var reviewers: [LeadView.Reviewer] = []
        for person in try await store.users() where person.disabledAt == nil && Scope.casesReview.isSatisfied(by: person.role.scopes) {
            let actor = ActorRef(.user, person.name)
            let standing = try await review.exposureStanding(of: actor)
            let decisions = try await review.activity(by: actor, kind: .decision, since: startOfDay, limit: 10_000).count
            let last = seen[person.name]
            reviewers.append(.init(name: person.name, role: person.role.rawValue, online: last.map { now - $0 <= Self.onlineMillis } ?? false,
                                   lastSeen: last.map { ConsolePage.age(now - $0) + " ago" } ?? "not signed in",
                                   holding: held.filter { $0.assignee == actor }.count, decisions: decisions, sensitive: standing.sensitive,
                                   overCap: standing.overCap))
        }
        let dead = try await review.outbox(state: .dead, limit: 200)
        let view = LeadView(
            csrf: context.session?.csrfToken ?? "", reviewers: reviewers, cap: review.policy.configuration.exposure.dailyCap,
            held: held.map { record in
                .init(id: record.id, assignee: record.assignee?.description ?? "", queue: record.queue, state: record.state.rawValue,
                      leaseExpiresAt: record.leaseExpiresAt.map(Timestamp.formatRFC3339), idle: ConsolePage.age(now - record.updatedAt),
                      stale: now - record.updatedAt > Self.staleMillis)
            },
            dead: dead.map { .init(id: $0.id, topic: $0.topic, attempts: $0.attempts, error: $0.lastError ?? "", createdAt: Timestamp.formatRFC3339($0.createdAt)) },
            deadCount: dead.count, hasDead: !dead.isEmpty, queueNames: review.policy.configuration.queueOrder, people: try await self.reviewers(except: user.name))
        return render("lead", title: "Team", path: "/lead", context, body: view)
    }

    /// Applies one operation to the selected cases: back to their queue, to a named reviewer, or
    /// to another queue. Each case succeeds or fails on its own; the notice says which.
    @Sendable func bulk(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let (_, form) = try await post(request, context, needs: .casesLead)
        let ids = form.all("case").compactMap { Int64($0) }
        let back = Self.safeNext(form["back"])
        guard !ids.isEmpty else { throw ConsoleRefusal("select at least one case") }
        guard ids.count <= 500 else { throw ConsoleRefusal("select at most 500 cases at a time") }
        let reason = form.text("reason")
        guard (reason ?? "").count <= 2000 else { throw ConsoleRefusal("the reason is longer than 2,000 characters") }
        let operation = form["operation"] ?? "release"
        var reviewer: ActorRef?
        var queue: String?
        switch operation {
        case "release": break
        case "reassign": reviewer = ActorRef(.user, try form.required("reviewer", label: "the reviewer", max: 100))
        case "move":
            queue = try form.required("queue", label: "the queue", max: 100)
            guard reason != nil else { throw ConsoleRefusal("moving cases needs a reason (it is recorded on each case)") }
        default: throw ConsoleRefusal("unknown operation \(operation.prefix(20))")
        }
        var done: [Int64] = []
        var failed: [String] = []
        for id in ids {
            do {
                let record = try await ReviewController.run { try await review.caseRecord(id: id) }
                try api.requireWork(record.queue, context)
                if let queue {
                    guard review.policy.configuration.queues[queue] != nil else { throw ConsoleRefusal("there is no queue \(queue)") }
                    if record.state.isHeld {
                        _ = try await ReviewController.run { try await review.change(caseID: id, .reassign(to: nil, note: reason), actor: context.actor) }
                    }
                    _ = try await ReviewController.run { try await review.change(caseID: id, .escalate(queue: queue, reason: reason ?? ""), actor: context.actor) }
                } else {
                    _ = try await ReviewController.run { try await review.change(caseID: id, .reassign(to: reviewer, note: reason), actor: context.actor) }
                }
                done.append(id)
            } catch let problem as Problem {
                failed.append("case \(id): \(problem.detail)")
            } catch let refusal as ConsoleRefusal {
                failed.append("case \(id): \(refusal.message)")
            }
        }
        let verb = queue.map { "moved to \($0)" } ?? reviewer.map { "given to \($0.name)" } ?? "back in their queues"
        var notice = done.isEmpty ? "" : "\(done.count) case\(done.count == 1 ? "" : "s") \(verb)."
        if !failed.isEmpty { notice += " Not done: " + failed.prefix(5).joined(separator: "; ") + (failed.count > 5 ? "; and \(failed.count - 5) more" : "") }
        ConsolePage.leaveNotice(notice, for: context)
        return ConsolePage.redirect(back)
    }

    @Sendable func redrive(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let (_, form) = try await post(request, context, needs: .casesLead)
        let all = form["scope"] == "all"
        let ids = form.all("id").compactMap { Int64($0) }
        guard all || !ids.isEmpty else { throw ConsoleRefusal("select the deliveries to redrive, or redrive all") }
        let count = try await review.redrive(ids: all ? nil : ids, actor: context.actor)
        ConsolePage.leaveNotice("\(count) deliver\(count == 1 ? "y" : "ies") back in line.", for: context)
        return ConsolePage.redirect("/lead")
    }
}
