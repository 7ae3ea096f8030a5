import Foundation
public import WardenCore
public import WardenInvestigations
public import WardenStore

/// Link analysis over the entity graph: clusters of accounts that share pivots within a time window,
/// each with what Warden knows of it, and the neighbourhood of one entity hop by hop.
public final class LinkAnalysis: Sendable {
    public let store: any LinkStore
    public let clock: any WallClock

    public init(store: any LinkStore, clock: any WallClock) {
        self.store = store
        self.clock = clock
    }

    /// At most this many account–pivot links are read for one clustering.
    public static let maximumMemberships = 500_000

    public struct Cluster: Sendable {
        public var cluster: EntityCluster
        public var facts: AccountFacts
    }

    public struct Clusters: Sendable {
        public var clusters: [Cluster]
        public var superNodes: [(pivot: String, accounts: Int)]
        /// Links read, and whether the read stopped at its limit.
        public var memberships: Int
        public var truncated: Bool
        public var since: Int64
    }

    /// Clusters among links first seen in the last `hours` hours, the `limit` largest with their
    /// facts (or without, when only the members are wanted).
    public func clusters(hours: Int, options: ClusterOptions, limit: Int, facts: Bool = true) async throws -> Clusters {
        let since = clock.nowMillis() - Int64(hours) * 3_600_000
        let afterSeq = (try await store.firstSeq(receivedSince: since)).map { $0 - 1 }
        guard let afterSeq else { return Clusters(clusters: [], superNodes: [], memberships: 0, truncated: false, since: since) }
        let memberships = try await store.memberships(accountType: options.accountType, pivotTypes: options.pivotTypes, afterSeq: afterSeq,
                                                      limit: Self.maximumMemberships + 1)
        let report = ClusterFinder.clusters(Array(memberships.prefix(Self.maximumMemberships)), options: options)
        var clusters: [Cluster] = []
        for cluster in report.clusters.prefix(limit) {
            clusters.append(Cluster(cluster: cluster, facts: facts ? try await store.accountFacts(cluster.accounts)
                                    : AccountFacts(firstSeenAt: nil, lastActiveAt: nil, labels: [:], cases: 0, decisions: 0, violations: 0)))
        }
        return Clusters(clusters: clusters, superNodes: report.superNodes, memberships: min(memberships.count, Self.maximumMemberships),
                        truncated: memberships.count > Self.maximumMemberships, since: since)
    }

    /// The entities within `hops` hops of `entity`.
    public func expand(_ entity: EntityRef, hops: Int, maxDegree: Int, maxNodes: Int) async throws -> Expansion {
        let store = self.store
        return try await Expansion.walk(from: entity.description, maxHops: hops, maxDegree: maxDegree, maxNodes: maxNodes) { frontier in
            try await store.neighbours(of: frontier, limit: maxDegree + 1)
        }
    }
}
