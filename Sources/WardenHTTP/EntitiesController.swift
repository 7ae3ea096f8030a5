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
        let ref = EntityRef(type: try context.parameters.require("type"), id: try context.parameters.require("id"))
        let recent = try EventsController.integer(request, "events", default: 20, range: 0...500)
        let links = try EventsController.integer(request, "links", default: 50, range: 0...1000)
        // Read your writes: when the graph is only a little behind the log, bring it up to date first.
        let status = try await store.entityIndexStatus()
        if status.lag > 0, status.lag <= Self.catchUpLimit { try await EntityIndexer.catchUp(store) }
        guard let detail = try await store.entity(ref, recentLimit: Int(recent), linkLimit: Int(links)) else {
            throw Problem.notFound("no event has named \(ref)")
        }
        var writer = JSONWriter(capacity: 1024)
        writer.beginObject()
        Encode.entity(detail.ref, into: &writer)
        writer.field("first_seen_at", Timestamp.formatRFC3339(detail.firstSeenAt))
        writer.field("event_count", Int64(detail.eventCount))
        writer.field("indexed_through_seq", detail.indexedThroughSeq)
        writer.key("recent_events")
        writer.beginArray()
        for event in detail.recentEvents { Encode.storedEvent(event, into: &writer) }
        writer.endArray()
        writer.key("labels")
        writer.beginArray()
        for label in try await detections.labels(of: ref, at: clock.nowMillis()) {
            writer.beginObject()
            writer.field("name", label.name)
            writer.field("source", label.source)
            writer.field("created_at", Timestamp.formatRFC3339(label.createdAt))
            if let expiresAt = label.expiresAt { writer.field("expires_at", Timestamp.formatRFC3339(expiresAt)) }
            writer.endObject()
        }
        writer.endArray()
        writer.key("links")
        writer.beginArray()
        for link in detail.links {
            writer.beginObject()
            Encode.entity(link.entity, into: &writer)
            writer.field("first_seq", link.firstSeq)
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
        return .json(writer.bytes)
    }
}
