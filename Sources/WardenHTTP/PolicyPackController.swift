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

    @Sendable func reload(_ request: Request, _ context: WardenRequestContext) async throws -> ReloadResponse {
        switch try await manager.reload(actor: context.actor.description) {
        case .activated(let pack):
            return ReloadResponse(outcome: "activated", version: pack.version, rules: pack.rules.rules.count)
        case .unchanged(let pack):
            return ReloadResponse(outcome: "unchanged", version: pack.version, rules: pack.rules.rules.count)
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

    @Sendable func ruleHistory(_ request: Request, _ context: WardenRequestContext) async throws -> RuleHistory {
        let versions = try await history.ruleVersions()
        let changes = try await history.packChanges(limit: 50)
        return RuleHistory(
            versions: versions.map {
                RuleHistory.Version(rule: $0.rule, version: $0.version, mode: $0.mode, firstActiveAt: Timestamp.formatRFC3339($0.firstActiveAt),
                                    packVersion: $0.packVersion, source: $0.source)
            },
            changes: changes.map {
                RuleHistory.Change(at: Timestamp.formatRFC3339($0.at), actor: $0.actor, packVersion: $0.packVersion, outcome: $0.outcome, detail: $0.detail)
            })
    }
}
