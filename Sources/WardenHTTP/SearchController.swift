import Foundation
import Hummingbird
import WardenCore
import WardenEngine
import WardenReview
import WardenStore

struct SearchResponse: ResponseEncodable {
    struct Event: Encodable {
        var seq: Int64
        var id: String
        var type: String
        var occurredAt: String
        var entities: [String]
        var snippet: String
    }
    struct Case: Encodable {
        var id: Int64
        var source: String
        var queue: String
        var subject: String
        var createdAt: String
        var snippet: String
    }
    var query: String
    var events: [Event]
    var cases: [Case]
    /// Events the search index has not reached yet (they are not searched).
    var eventsBehind: Int64
}

/// `GET /v1/search`: full-text search over events' text fields, report texts, case comments and
/// notes, and decision rationales.
struct SearchController {
    let store: any SearchStore
    let fields: @Sendable () -> [[String]]

    enum Scope: String, CaseIterable { case all, events, cases }

    func addRoutes(to routes: RouteTable) {
        routes.add(.get, "/v1/search", scope: .read) { request, context in
            let input = RequestInput(request: request, limit: 0)
            guard let text = try input.string("q", maxLength: 500), !text.isEmpty else {
                throw Problem.badRequest("invalid-parameter", "query parameter q is required: the words to find")
            }
            let searched = try input.choice("in", Scope.self) ?? .all
            let query = SearchQuery(text: text, type: try input.string("type", maxLength: 100), entity: try input.entity("entity"),
                                    since: try input.time("since"), until: try input.time("until"), queue: try input.string("queue", maxLength: 200),
                                    limit: Int(try input.integer("limit", default: 50, range: 1...500)))
            return try await results(query, in: searched, mask: context.masksPersonalData)
        }
    }

    /// Runs a search (the API's and the MCP server's).
    func results(_ query: SearchQuery, in searched: Scope, mask: Bool) async throws -> SearchResponse {
            // Read your writes: a short lag is caught up before searching.
            var status = try await store.searchIndexStatus()
            if status.lag > 0, status.lag <= 5_000 { status = try await SearchIndexer.catchUp(store, fields: fields()) }
            let m: (String) -> String = { mask ? PersonalData.mask(entity: $0) : $0 }
            // A type narrows to events (cases have none), a queue to cases (events have none).
            let events = searched == .cases || query.queue != nil ? [] : try await store.searchEvents(query)
            let cases = searched == .events || query.type != nil ? [] : try await store.searchCases(query)
            return SearchResponse(
                query: query.match ?? "",
                events: events.map { hit in
                    SearchResponse.Event(seq: hit.seq, id: hit.id, type: hit.type, occurredAt: Timestamp.formatRFC3339(hit.occurredAt),
                                         entities: hit.entities.map { m($0.description) }, snippet: mask ? PersonalData.mask(text: hit.snippet) : hit.snippet)
                },
                cases: cases.map { hit in
                    SearchResponse.Case(id: hit.caseID, source: hit.source, queue: hit.queue, subject: m(hit.subject),
                                        createdAt: Timestamp.formatRFC3339(hit.createdAt), snippet: mask ? PersonalData.mask(text: hit.snippet) : hit.snippet)
                },
                eventsBehind: status.lag)
    }
}
