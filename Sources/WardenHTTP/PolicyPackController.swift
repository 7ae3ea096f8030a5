import Hummingbird
import WardenCore
import WardenEngine
import WardenStore

/// Changing the pack in force, and its history.
struct PolicyPackController {
    let manager: PackManager
    let history: any RuleHistoryStore

    func addRoutes(to routes: RouteTable) {
        routes.add(.post, "/v1/policy-pack/reload", scope: .admin, reload)
        routes.add(.get, "/v1/rules/history", scope: .read, ruleHistory)
    }

    @Sendable func reload(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let outcome = try await manager.reload(actor: context.actor)
        switch outcome {
        case .activated(let pack), .unchanged(let pack):
            var writer = JSONWriter(capacity: 256)
            writer.beginObject()
            if case .activated = outcome { writer.field("outcome", "activated") } else { writer.field("outcome", "unchanged") }
            writer.field("version", pack.version)
            writer.field("rules", Int64(pack.rules.rules.count))
            writer.endObject()
            return .json(writer.bytes)
        case .rejected(let problems):
            var problem = Problem(.unprocessableContent, "pack-rejected", title: "Policy pack rejected",
                                  detail: "the pack on disk does not check or its tests fail; the running pack stays in force")
            var writer = JSONWriter()
            writer.beginArray()
            for line in problems { writer.string(line) }
            writer.endArray()
            problem.extensions.append(("problems", writer.bytes))
            throw problem
        }
    }

    @Sendable func ruleHistory(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let versions = try await history.ruleVersions()
        let changes = try await history.packChanges(limit: 50)
        var writer = JSONWriter(capacity: 2048)
        writer.beginObject()
        writer.key("versions")
        writer.beginArray()
        for version in versions {
            writer.beginObject()
            writer.field("rule", version.rule)
            writer.field("version", version.version)
            writer.field("mode", version.mode)
            writer.field("first_active_at", Timestamp.formatRFC3339(version.firstActiveAt))
            writer.field("pack_version", version.packVersion)
            writer.field("source", version.source)
            writer.endObject()
        }
        writer.endArray()
        writer.key("changes")
        writer.beginArray()
        for change in changes {
            writer.beginObject()
            writer.field("at", Timestamp.formatRFC3339(change.at))
            writer.field("actor", change.actor)
            if let version = change.packVersion { writer.field("pack_version", version) }
            writer.field("outcome", change.outcome)
            writer.field("detail", change.detail)
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
        return .json(writer.bytes)
    }
}
