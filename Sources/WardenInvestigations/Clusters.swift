/// Clusters of accounts that share what should not be shared: the connected components of the graph
/// between accounts (`user:…`) and pivots (IPs, devices, cards, e-mails, domains, phones), leaving out
/// super-nodes — pivots so many accounts share that they say nothing (a mobile carrier's NAT, public
/// Wi-Fi, a webmail domain).
public struct ClusterOptions: Sendable, Equatable {
    /// The entity type of accounts.
    public var accountType: String
    /// The entity types that link accounts.
    public var pivotTypes: Set<String>
    /// A pivot shared by more accounts than this is a super-node and links nothing.
    public var maxDegree: Int
    /// Clusters with fewer accounts are left out…
    public var minAccounts: Int
    /// …unless one account alone holds this many pivots of one type (forty cards behind one account).
    public var fanOut: Int

    public static let defaultPivotTypes: Set<String> = ["ip", "device", "card", "email", "email_domain", "domain", "phone"]

    public init(accountType: String = "user", pivotTypes: Set<String> = ClusterOptions.defaultPivotTypes, maxDegree: Int = 50, minAccounts: Int = 2,
                fanOut: Int = 10) {
        self.accountType = accountType
        self.pivotTypes = pivotTypes
        self.maxDegree = maxDegree
        self.minAccounts = minAccounts
        self.fanOut = fanOut
    }
}

/// One account–pivot link (entity references as `type:id`), with when it was first seen.
public struct Membership: Sendable, Equatable {
    public var account: String
    public var pivot: String
    public var firstSeq: Int64

    public init(account: String, pivot: String, firstSeq: Int64) {
        self.account = account
        self.pivot = pivot
        self.firstSeq = firstSeq
    }
}

public struct EntityCluster: Sendable, Equatable {
    /// Accounts, sorted.
    public var accounts: [String]
    /// The pivots its accounts use, sorted.
    public var pivots: [String]
    /// Account–pivot links inside the cluster, for drawing.
    public var links: [Membership]
    /// For each pair of linked accounts, how many pivots they share (the link's weight), heaviest first.
    public var strongest: [(a: String, b: String, shared: Int)]
    public var firstSeq: Int64

    public static func == (x: EntityCluster, y: EntityCluster) -> Bool {
        x.accounts == y.accounts && x.pivots == y.pivots && x.links == y.links && x.firstSeq == y.firstSeq
            && x.strongest.elementsEqual(y.strongest) { $0.a == $1.a && $0.b == $1.b && $0.shared == $1.shared }
    }
}

public struct ClusterReport: Sendable {
    /// Clusters, most accounts first.
    public var clusters: [EntityCluster]
    /// Pivots left out as super-nodes, with how many accounts share them, most first.
    public var superNodes: [(pivot: String, accounts: Int)]
}

public enum ClusterFinder {
    /// The connected components of accounts and the pivots they use (super-nodes left out), kept
    /// when they hold at least `minAccounts` accounts or one account fans out over `fanOut` pivots of
    /// one type.
    public static func clusters(_ memberships: [Membership], options: ClusterOptions = ClusterOptions()) -> ClusterReport {
        var accountsOf: [String: Set<String>] = [:]
        for membership in memberships { accountsOf[membership.pivot, default: []].insert(membership.account) }
        let superNodes = accountsOf.filter { $0.value.count > options.maxDegree }.map { (pivot: $0.key, accounts: $0.value.count) }
            .sorted { ($0.accounts, $1.pivot) > ($1.accounts, $0.pivot) }
        let excluded = Set(superNodes.map(\.pivot))
        var sets = DisjointSets()
        var kept: [Membership] = []
        for membership in memberships where !excluded.contains(membership.pivot) {
            sets.union("a\u{0}" + membership.account, "p\u{0}" + membership.pivot)
            kept.append(membership)
        }
        var groups: [String: [Membership]] = [:]
        for membership in kept { groups[sets.find("a\u{0}" + membership.account), default: []].append(membership) }
        var clusters: [EntityCluster] = []
        for (_, links) in groups {
            let accounts = Set(links.map(\.account))
            let fansOut = accounts.count == 1 && Dictionary(grouping: links, by: { $0.pivot.prefix { $0 != ":" } }).values.contains { $0.count >= options.fanOut }
            guard accounts.count >= options.minAccounts || fansOut else { continue }
            var sharedBy: [Pair: Int] = [:]
            for (_, group) in Dictionary(grouping: links, by: \.pivot) where group.count >= 2 {
                let sorted = Set(group.map(\.account)).sorted()
                for (index, a) in sorted.enumerated() { for b in sorted[(index + 1)...] { sharedBy[Pair(a: a, b: b), default: 0] += 1 } }
            }
            let strongest = sharedBy.map { (a: $0.key.a, b: $0.key.b, shared: $0.value) }.sorted { ($0.shared, $1.a, $1.b) > ($1.shared, $0.a, $0.b) }
            let ordered = links.sorted { ($0.pivot, $0.account) < ($1.pivot, $1.account) }
            clusters.append(EntityCluster(accounts: accounts.sorted(), pivots: Set(links.map(\.pivot)).sorted(), links: ordered,
                                          strongest: Array(strongest.prefix(20)), firstSeq: links.map(\.firstSeq).min() ?? 0))
        }
        clusters.sort { ($0.accounts.count, $0.pivots.count, $1.firstSeq) > ($1.accounts.count, $1.pivots.count, $0.firstSeq) }
        return ClusterReport(clusters: clusters, superNodes: superNodes)
    }

    /// How well clusters find known groups (a campaign's accounts): for each group, the cluster
    /// holding most of its accounts, with precision (its accounts in the group) and recall (the
    /// group's accounts in it).
    public static func score(_ clusters: [EntityCluster], against groups: [String: Set<String>]) -> [String: (precision: Double, recall: Double, size: Int)] {
        var scores: [String: (precision: Double, recall: Double, size: Int)] = [:]
        for (name, group) in groups where !group.isEmpty {
            let best = clusters.max { Set($0.accounts).intersection(group).count < Set($1.accounts).intersection(group).count }
            let hit = best.map { Set($0.accounts).intersection(group).count } ?? 0
            guard let best, hit > 0 else {
                scores[name] = (0, 0, 0)
                continue
            }
            scores[name] = (Double(hit) / Double(best.accounts.count), Double(hit) / Double(group.count), best.accounts.count)
        }
        return scores
    }

    private struct Pair: Hashable { var a: String; var b: String }
}

/// Union–find with path halving and union by size.
struct DisjointSets {
    private var parent: [String: String] = [:]
    private var size: [String: Int] = [:]

    var elements: Dictionary<String, String>.Keys { parent.keys }

    mutating func find(_ x: String) -> String {
        if parent[x] == nil {
            parent[x] = x
            size[x] = 1
        }
        var x = x
        while let up = parent[x], up != x {
            let grand = parent[up]!
            parent[x] = grand
            x = grand
        }
        return x
    }

    mutating func union(_ a: String, _ b: String) {
        var ra = find(a), rb = find(b)
        guard ra != rb else { return }
        if size[ra]! < size[rb]! { swap(&ra, &rb) }
        parent[rb] = ra
        size[ra]! += size[rb]!
    }
}

/// The neighbourhood of an entity, hop by hop: which entities each hop reached, with super-nodes
/// (more neighbours than the limit) kept as nodes but not expanded through.
public struct Expansion: Sendable, Equatable {
    public struct Edge: Sendable, Equatable, Hashable {
        public var from: String
        public var to: String
        public init(from: String, to: String) {
            self.from = from
            self.to = to
        }
    }

    public var start: String
    /// Entities reached, with the hop that first reached them (0: the start).
    public var hops: [String: Int]
    public var edges: [Edge]
    /// Entities not expanded through: more neighbours than the degree limit.
    public var superNodes: [String]
    /// True when the node limit stopped the walk.
    public var truncated: Bool

    /// Walks `maxHops` hops from `start`; `neighbours` gives each frontier's neighbours (the store
    /// reads them a hop at a time, at most `maxDegree + 1` each, so a super-node is known by count).
    public static func walk(from start: String, maxHops: Int, maxDegree: Int, maxNodes: Int,
                            neighbours: ([String]) async throws -> [String: [String]]) async rethrows -> Expansion {
        var expansion = Expansion(start: start, hops: [start: 0], edges: [], superNodes: [], truncated: false)
        var frontier = [start]
        var seenEdges = Set<Edge>()
        for hop in 1...max(maxHops, 1) where !frontier.isEmpty && !expansion.truncated {
            let found = try await neighbours(frontier)
            var next: [String] = []
            for node in frontier {
                let around = found[node] ?? []
                if around.count > maxDegree, node != start {
                    expansion.superNodes.append(node)
                    continue
                }
                for neighbour in around.prefix(maxDegree) {
                    if expansion.hops[neighbour] == nil {
                        guard expansion.hops.count < maxNodes else {
                            expansion.truncated = true
                            break
                        }
                        expansion.hops[neighbour] = hop
                        next.append(neighbour)
                    }
                    let edge = Edge(from: min(node, neighbour), to: max(node, neighbour))
                    if seenEdges.insert(edge).inserted { expansion.edges.append(edge) }
                }
            }
            frontier = hop < maxHops ? next : []
        }
        expansion.superNodes.sort()
        return expansion
    }
}
