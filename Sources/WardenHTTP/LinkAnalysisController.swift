import Foundation
import Hummingbird
import WardenCore
import WardenEngine
import WardenInvestigations
import WardenReview
import WardenStore

struct ClusterListResponse: ResponseEncodable {
    struct Cluster: Encodable {
        struct Pair: Encodable { var a: String; var b: String; var shared: Int }
        var accounts: [String]
        var size: Int
        var pivots: [String]
        var links: [[String]]
        var strongest: [Pair]
        var firstSeenAt: String?
        var lastActiveAt: String?
        var labels: [String: [String]]
        var cases: Int
        var decisions: Int
        var violations: Int
    }
    struct SuperNode: Encodable { var entity: String; var accounts: Int }
    var since: String
    var memberships: Int
    var truncated: Bool
    var clusters: [Cluster]
    var superNodes: [SuperNode]

    init(_ result: LinkAnalysis.Clusters, mask: Bool) {
        let m: (String) -> String = { mask ? PersonalData.mask(entity: $0) : $0 }
        since = Timestamp.formatRFC3339(result.since)
        memberships = result.memberships
        truncated = result.truncated
        clusters = result.clusters.map { item in
            Cluster(accounts: item.cluster.accounts.map(m), size: item.cluster.accounts.count, pivots: item.cluster.pivots.map(m),
                    links: item.cluster.links.map { [m($0.account), m($0.pivot)] },
                    strongest: item.cluster.strongest.map { Cluster.Pair(a: m($0.a), b: m($0.b), shared: $0.shared) },
                    firstSeenAt: item.facts.firstSeenAt.map(Timestamp.formatRFC3339), lastActiveAt: item.facts.lastActiveAt.map(Timestamp.formatRFC3339),
                    labels: Dictionary(uniqueKeysWithValues: item.facts.labels.map { (m($0.key), $0.value) }), cases: item.facts.cases,
                    decisions: item.facts.decisions, violations: item.facts.violations)
        }
        superNodes = result.superNodes.map { SuperNode(entity: m($0.pivot), accounts: $0.accounts) }
    }
}

struct ExpansionResponse: ResponseEncodable {
    struct Node: Encodable { var entity: String; var hop: Int; var superNode: Bool }
    struct Edge: Encodable { var from: String; var to: String }
    var start: String
    var nodes: [Node]
    var edges: [Edge]
    var truncated: Bool

    init(_ expansion: Expansion, mask: Bool) {
        let m: (String) -> String = { mask ? PersonalData.mask(entity: $0) : $0 }
        let superNodes = Set(expansion.superNodes)
        start = m(expansion.start)
        nodes = expansion.hops.sorted { ($0.value, $0.key) < ($1.value, $1.key) }.map { Node(entity: m($0.key), hop: $0.value, superNode: superNodes.contains($0.key)) }
        edges = expansion.edges.map { Edge(from: m($0.from), to: m($0.to)) }
        truncated = expansion.truncated
    }
}

/// `GET /v1/clusters` and `GET /v1/entities/{type}/{id}/expand`: link analysis over the entity graph.
struct LinkAnalysisController {
    let links: LinkAnalysis
    let store: any EventStore

    func addRoutes(to routes: RouteTable) {
        routes.add(.get, "/v1/clusters", scope: .read) { request, context in
            let query = RequestInput(request: request, limit: 0)
            var options = ClusterOptions()
            options.maxDegree = Int(try query.integer("max_degree", default: 50, range: 2...10_000))
            options.minAccounts = Int(try query.integer("min_accounts", default: 2, range: 1...10_000))
            options.fanOut = Int(try query.integer("fan_out", default: 10, range: 2...10_000))
            if let types = try query.string("types", maxLength: 500) {
                options.pivotTypes = Set(types.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
                guard !options.pivotTypes.isEmpty else { throw Problem.badRequest("invalid-parameter", "query parameter types must name entity types, such as ip,device") }
            }
            if let account = try query.string("account_type", maxLength: 40) { options.accountType = account }
            let hours = Int(try query.integer("hours", default: 24, range: 1...2_160))
            let limit = Int(try query.integer("limit", default: 20, range: 1...200))
            try await EntityIndexer.catchUpIfClose(store)
            return ClusterListResponse(try await links.clusters(hours: hours, options: options, limit: limit), mask: context.masksPersonalData)
        }
        routes.add(.get, "/v1/entities/{type}/{id}/expand", scope: .read) { request, context in
            let ref = EntityRef(type: context.path("type"), id: context.path("id"))
            let query = RequestInput(request: request, limit: 0)
            let hops = Int(try query.integer("hops", default: 2, range: 1...3))
            let maxDegree = Int(try query.integer("max_degree", default: 50, range: 1...1_000))
            let limit = Int(try query.integer("limit", default: 300, range: 1...5_000))
            try await EntityIndexer.catchUpIfClose(store)
            let expansion = try await links.expand(ref, hops: hops, maxDegree: maxDegree, maxNodes: limit)
            let known = try await store.entity(ref, recentLimit: 0, linkLimit: 0) != nil
            guard known else {
                throw Problem.notFound("no event has named \(ref)")
            }
            return ExpansionResponse(expansion, mask: context.masksPersonalData)
        }
    }
}

extension EntityIndexer {
    /// Read your writes: when the graph is only a little behind the log, brings it up to date.
    static func catchUpIfClose(_ store: any EventStore) async throws {
        let status = try await store.entityIndexStatus()
        if status.lag > 0, status.lag <= EntitiesController.catchUpLimit { try await catchUp(store) }
    }
}
