import Foundation
import Hummingbird
import WardenCore
import WardenEngine
import WardenInvestigations
import WardenReview

/// The clusters page: accounts that share IPs, devices, cards, e-mails or domains in a time window,
/// largest first, each drawn with its pivots, with what Warden knows of it (labels, cases, decisions).
extension ConsoleController {
    struct ClustersView {
        struct Row {
            var number: Int
            var size: Int
            var pivots: Int
            var accounts: String
            var firstSeen: String
            var lastActive: String
            var labels: String
            var cases: Int
            var decisions: Int
            var violations: Int
            var graph: String
            /// An account of the cluster, which names it on the bulk page.
            var member: String
        }
        var hours: Int
        var maxDegree: Int
        var clusters: [Row]
        var hasClusters: Bool
        var superNodes: String
        var summary: String
        var canBulk: Bool
    }

    @Sendable func clustersPage(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let user = try person(context, needs: .read)
        let query = RequestInput(request: request, limit: 0)
        let hours = Int(try query.integer("hours", default: 24, range: 1...2_160))
        var options = ClusterOptions()
        options.maxDegree = Int(try query.integer("max_degree", default: 50, range: 2...10_000))
        try await EntityIndexer.catchUpIfClose(components.store)
        let found = try await components.links.clusters(hours: hours, options: options, limit: 20)
        let mask: (String) -> String = { context.masksPersonalData ? PersonalData.mask(entity: $0) : $0 }
        let rows = found.clusters.enumerated().map { index, item in
            let cluster = item.cluster
            return ClustersView.Row(
                number: index + 1, size: cluster.accounts.count, pivots: cluster.pivots.count,
                accounts: cluster.accounts.prefix(12).map(mask).joined(separator: ", ") + (cluster.accounts.count > 12 ? " …" : ""),
                firstSeen: item.facts.firstSeenAt.map(Timestamp.formatRFC3339) ?? "—", lastActive: item.facts.lastActiveAt.map(Timestamp.formatRFC3339) ?? "—",
                labels: Set(item.facts.labels.values.flatMap { $0 }).sorted().joined(separator: ", "),
                cases: item.facts.cases, decisions: item.facts.decisions, violations: item.facts.violations,
                graph: SVG.clusterGraph(accounts: cluster.accounts.map(mask), pivots: cluster.pivots.map(mask),
                                        links: cluster.links.map { (mask($0.account), mask($0.pivot)) }),
                member: cluster.accounts.first.map { $0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0 } ?? "")
        }
        let view = ClustersView(
            hours: hours, maxDegree: options.maxDegree, clusters: rows, hasClusters: !rows.isEmpty,
            superNodes: found.superNodes.prefix(20).map { "\(mask($0.pivot)) (\($0.accounts))" }.joined(separator: ", "),
            summary: "\(found.memberships) account links since \(Timestamp.formatRFC3339(found.since))\(found.truncated ? " (the first 500,000)" : "")",
            canBulk: Scope.bulkWrite.isSatisfied(by: user.role.scopes) && !context.masksPersonalData)
        return render("clusters", title: "Clusters", path: "/clusters", context, body: view)
    }
}
