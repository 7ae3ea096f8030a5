import Foundation
import Hummingbird
import WardenCore
import WardenEngine
import WardenReview
import WardenStore

/// Search over cases, and the entity page with its linked-entity graph.
extension ConsoleController {
    struct SearchView {
        struct Option { var name: String; var selected: Bool }
        struct Category { var id: String; var selected: Bool }
        struct Result { var id: Int64; var subject: String; var subjectType: String; var subjectID: String; var queue: String; var state: String
            var category: String; var band: String; var createdAt: String }
        var q: String
        var from: String
        var to: String
        var queues: [Option]
        var states: [Option]
        var categories: [Category]
        var searched: Bool
        var results: [Result]
        var count: Int
        var one: Bool
        var more: Bool
        var entityLinks: Bool
        struct EventRow { var seq: Int64; var id: String; var type: String; var occurredAt: String; var actor: String; var snippet: String }
        /// Events whose text has the words (people with the read scope).
        var eventsSearched: Bool
        var events: [EventRow]
        var eventCount: Int
        var oneEvent: Bool
        /// Events not indexed yet (nil when none).
        var eventsBehind: Int64?
    }

    static let searchLimit = 100

    @Sendable func search(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let user = try person(context, needs: .casesRead)
        let query = request.uri.queryParameters
        func parameter(_ name: String, max: Int) throws -> String? {
            guard let value = query[Substring(name)].map({ String($0) })?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
            guard value.count <= max else { throw ConsoleRefusal("the \(name) filter is longer than \(max) characters") }
            return value
        }
        let text = try parameter("q", max: 200)
        let configuration = review.policy.configuration
        let assigned = context.assignedQueues
        var queue = try parameter("queue", max: 100)
        if let name = queue, configuration.queues[name] == nil { queue = nil }
        if let queue { try ReviewController.requireQueue(queue, context) }
        let state = try parameter("state", max: 20).flatMap(CaseState.init(rawValue:))
        let categories = components.packs.pack.taxonomy.categories.map(\.id)
        let category = try parameter("category", max: 100).flatMap { categories.contains($0) ? $0 : nil }
        func day(_ name: String) throws -> (text: String, millis: Int64)? {
            guard let value = try parameter(name, max: 10) else { return nil }
            guard let millis = Timestamp.parseRFC3339(value + "T00:00:00Z") else { throw ConsoleRefusal("\(name) must be a date such as 2026-11-30") }
            return (value, millis)
        }
        let from = try day("from"), to = try day("to")
        let searched = text != nil || queue != nil || state != nil || category != nil || from != nil || to != nil
        var results: [CaseRecord] = []
        if searched {
            let found = try await review.cases(CaseQuery(queue: queue, state: state, category: category, text: text, createdFrom: from?.millis,
                                                         createdBefore: to.map { $0.millis + 86_400_000 }, limit: Self.searchLimit * (assigned == nil ? 1 : 3)))
            results = Array(found.filter { assigned?.contains($0.queue) ?? true }.prefix(Self.searchLimit))
        }
        let mask = context.masksPersonalData
        var events: [EventHit] = []
        var behind: Int64 = 0
        let eventsSearched = text != nil && Scope.read.isSatisfied(by: user.role.scopes)
        if eventsSearched, let text {
            let store = components.store
            var status = try await store.searchIndexStatus()
            if status.lag > 0, status.lag <= 5_000 { status = try await SearchIndexer.catchUp(store, fields: components.packs.pack.searchFields) }
            behind = status.lag
            events = try await store.searchEvents(SearchQuery(text: text, since: from?.millis, until: to.map { $0.millis + 86_400_000 }, limit: 50))
        }
        let view = SearchView(
            q: text ?? "", from: from?.text ?? "", to: to?.text ?? "",
            queues: configuration.queueOrder.filter { assigned?.contains($0) ?? true }.map { .init(name: $0, selected: $0 == queue) },
            states: CaseState.allCases.map { .init(name: $0.rawValue, selected: $0 == state) },
            categories: categories.map { .init(id: $0, selected: $0 == category) }, searched: searched,
            results: results.map { record in
                .init(id: record.id, subject: mask ? PersonalData.mask(entity: record.subject.description) : record.subject.description,
                      subjectType: record.subject.type, subjectID: record.subject.id, queue: record.queue, state: record.state.rawValue,
                      category: record.category, band: record.band.name, createdAt: Timestamp.formatRFC3339(record.createdAt))
            },
            count: results.count, one: results.count == 1, more: results.count == Self.searchLimit,
            entityLinks: Scope.read.isSatisfied(by: user.role.scopes),
            eventsSearched: eventsSearched,
            events: events.map { hit in
                let actor = hit.entities.first.map(\.description) ?? ""
                return .init(seq: hit.seq, id: hit.id, type: hit.type, occurredAt: Timestamp.formatRFC3339(hit.occurredAt),
                             actor: mask ? PersonalData.mask(entity: actor) : actor, snippet: mask ? PersonalData.mask(text: hit.snippet) : hit.snippet)
            },
            eventCount: events.count, oneEvent: events.count == 1, eventsBehind: behind > 0 ? behind : nil)
        return render("search", title: "Search", path: "/search", context, body: view)
    }

    struct EntityView {
        struct Label { var name: String; var expires: String? }
        struct StrikeView { var policy: String; var decisionID: Int64; var at: String; var expiresAt: String }
        struct CaseRow { var id: Int64; var queue: String; var state: String; var category: String; var decision: String; var createdAt: String }
        var ref: String
        var found: Bool
        var firstSeen: String
        var eventCount: Int
        var lagging: Bool
        var lag: Int64
        var linkCount: Int
        var graph: String
        var labels: [Label]
        var strikes: [StrikeView]
        var cases: [CaseRow]
        var events: [EventView]
    }

    /// An entity: its events, labels, strikes, cases with their decisions, and the entities linked
    /// to it drawn as a graph. Needs the read scope, as `GET /v1/entities/{type}/{id}` does.
    @Sendable func entity(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        _ = try person(context, needs: .read)
        let ref = EntityRef(type: context.path("type"), id: context.path("id"))
        guard ref.type.count <= 100, ref.id.count <= 300 else { throw Problem.notFound("no such entity") }
        let store = components.store
        let now = components.clock.nowMillis()
        let status = try await store.entityIndexStatus()
        if status.lag > 0, status.lag <= EntitiesController.catchUpLimit { try await EntityIndexer.catchUp(store) }
        let detail = try await store.entity(ref, recentLimit: 50, linkLimit: 24)
        let labels = try await store.labels(of: ref, at: now)
        let strikes = try await review.liveStrikes(of: ref)
        let cases = try await review.cases(CaseQuery(subject: ref, limit: 50))
        var rows: [EntityView.CaseRow] = []
        for record in cases {
            let decision = try await store.decisions(caseID: record.id).last
            rows.append(.init(id: record.id, queue: record.queue, state: record.state.rawValue, category: record.category,
                              decision: decision.map { ($0.violation ? "violation" : "no violation") + ($0.actions.isEmpty ? "" : " · " + $0.actions.map(\.action).joined(separator: ", ")) } ?? "",
                              createdAt: Timestamp.formatRFC3339(record.createdAt)))
        }
        guard detail != nil || !cases.isEmpty || !labels.isEmpty else { throw Problem.notFound("nothing names \(ref): no event, case or label") }
        let links = detail?.links ?? []
        let graph = SVG.linkGraph(center: (ref.description, ref.type), links: links.map { link in
            (link.entity.description, link.entity.type, "/entities/\(Self.pathEscape(link.entity.type))/\(Self.pathEscape(link.entity.id))")
        })
        let view = EntityView(
            ref: ref.description, found: detail != nil, firstSeen: detail.map { Timestamp.formatRFC3339($0.firstSeenAt) } ?? "",
            eventCount: detail?.eventCount ?? 0, lagging: status.lag > EntitiesController.catchUpLimit, lag: status.lag, linkCount: links.count, graph: graph,
            labels: labels.map { .init(name: $0.name, expires: $0.expiresAt.map(Timestamp.formatRFC3339)) },
            strikes: strikes.map { .init(policy: $0.policy, decisionID: $0.decisionID, at: Timestamp.formatRFC3339($0.at), expiresAt: Timestamp.formatRFC3339($0.expiresAt)) },
            cases: rows,
            events: (detail?.recentEvents ?? []).map { EventView($0, masked: context.masksPersonalData) })
        return render("entity", title: ref.description, path: "/entities", context, body: view)
    }

    static func pathEscape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/?#"))) ?? text
    }
}
