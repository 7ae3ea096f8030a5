import Hummingbird
import WardenCore
import WardenEngine
import WardenStore

/// `GET /v1/entities/{type}/{id}`: an entity with its recent events and linked entities.
struct EntitiesController {
    let store: any EventStore
    let detections: any DetectionStore
    let clock: any WallClock
    /// The most events a read will index itself before answering from a lagging graph.
    static let catchUpLimit: Int64 = 20_000

    func addRoutes(to routes: RouteTable) {
        routes.add(.get, "/v1/entities/{type}/{id}", scope: .read, show)
    }

    @Sendable func show(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let ref = EntityRef(type: context.path("type"), id: context.path("id"))
        let query = RequestInput(request: request, limit: 0)
        let recent = try query.integer("events", default: 20, range: 0...500)
        let links = try query.integer("links", default: 50, range: 0...1000)
        return .json(try await detail(ref, recent: Int(recent), links: Int(links)))
    }

    /// The entity as JSON (the API's and the MCP server's answer).
    func detail(_ ref: EntityRef, recent: Int, links: Int) async throws -> [UInt8] {
        // Read your writes: when the graph is only a little behind the log, bring it up to date first.
        let status = try await store.entityIndexStatus()
        if status.lag > 0, status.lag <= Self.catchUpLimit { try await EntityIndexer.catchUp(store) }
        guard let detail = try await store.entity(ref, recentLimit: recent, linkLimit: links) else {
            throw Problem.notFound("no event has named \(ref)")
        }
        return Encode.entity(detail, labels: try await detections.labels(of: ref, at: clock.nowMillis()))
    }
}
