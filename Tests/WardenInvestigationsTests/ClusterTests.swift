import Testing
@testable import WardenInvestigations

@Suite struct ClusterTests {
    func links(_ pairs: [(String, String)]) -> [Membership] {
        pairs.enumerated().map { Membership(account: $0.element.0, pivot: $0.element.1, firstSeq: Int64($0.offset + 1)) }
    }

    @Test func accountsSharingPivotsFormOneClusterAndSuperNodesLinkNothing() {
        var pairs: [(String, String)] = [("user:a", "ip:1"), ("user:b", "ip:1"), ("user:b", "device:x"), ("user:c", "device:x"),
                                         ("user:d", "ip:2"), ("user:e", "ip:3")]
        // A webmail domain everyone uses: three accounts over a limit of two.
        pairs += [("user:a", "email_domain:mail"), ("user:d", "email_domain:mail"), ("user:e", "email_domain:mail")]
        let report = ClusterFinder.clusters(links(pairs), options: ClusterOptions(maxDegree: 2))
        #expect(report.clusters.map(\.accounts) == [["user:a", "user:b", "user:c"]])
        #expect(report.clusters[0].pivots == ["device:x", "ip:1"])
        #expect(report.superNodes.map(\.pivot) == ["email_domain:mail"] && report.superNodes[0].accounts == 3)
        // With a higher limit the domain joins everyone.
        #expect(ClusterFinder.clusters(links(pairs), options: ClusterOptions(maxDegree: 3)).clusters.map(\.accounts.count) == [5])
    }

    @Test func oneAccountFanningOutOverManyCardsIsACluster() {
        let cards = (0..<12).map { ("user:carder", "card:c\($0)") } + [("user:carder", "ip:9"), ("user:u1", "ip:7")]
        let report = ClusterFinder.clusters(links(cards), options: ClusterOptions(fanOut: 10))
        #expect(report.clusters.map(\.accounts) == [["user:carder"]])
        #expect(report.clusters[0].pivots.count == 13)
        #expect(ClusterFinder.clusters(links(cards), options: ClusterOptions(fanOut: 13)).clusters.isEmpty)
    }

    @Test func theStrongestPairsShareTheMostPivots() {
        let report = ClusterFinder.clusters(links([("user:a", "ip:1"), ("user:b", "ip:1"), ("user:a", "device:x"), ("user:b", "device:x"), ("user:c", "ip:1")]))
        #expect(report.clusters[0].strongest.first.map { [$0.a, $0.b, String($0.shared)] } == ["user:a", "user:b", "2"])
        #expect(report.clusters[0].firstSeq == 1)
    }

    @Test func scoresAgainstKnownGroups() {
        let clusters = ClusterFinder.clusters(links([("user:a", "ip:1"), ("user:b", "ip:1"), ("user:x", "ip:1"), ("user:c", "ip:2"), ("user:d", "ip:2")])).clusters
        let scores = ClusterFinder.score(clusters, against: ["farm": ["user:a", "user:b", "user:z"], "none": ["user:q"]])
        #expect(scores["farm"]?.precision == 2.0 / 3 && scores["farm"]?.recall == 2.0 / 3 && scores["farm"]?.size == 3)
        #expect(scores["none"]?.recall == 0)
    }

    @Test func expansionWalksHopsAndStopsAtSuperNodes() async {
        let graph: [String: [String]] = ["user:a": ["ip:1", "device:d"], "ip:1": ["user:a", "user:b"], "device:d": ["user:a"],
                                         "user:b": ["ip:1", "ip:hub"], "ip:hub": ["user:b", "user:1", "user:2", "user:3"]]
        let two = await Expansion.walk(from: "user:a", maxHops: 2, maxDegree: 3, maxNodes: 100) { frontier in
            Dictionary(uniqueKeysWithValues: frontier.map { ($0, graph[$0] ?? []) })
        }
        #expect(two.hops == ["user:a": 0, "ip:1": 1, "device:d": 1, "user:b": 2])
        let three = await Expansion.walk(from: "user:a", maxHops: 3, maxDegree: 3, maxNodes: 100) { frontier in
            Dictionary(uniqueKeysWithValues: frontier.map { ($0, graph[$0] ?? []) })
        }
        #expect(three.hops["ip:hub"] == 3 && three.hops["user:1"] == nil)
        #expect(three.superNodes.isEmpty)  // ip:hub is reached at the last hop and never expanded
        let four = await Expansion.walk(from: "user:a", maxHops: 4, maxDegree: 3, maxNodes: 100) { frontier in
            Dictionary(uniqueKeysWithValues: frontier.map { ($0, graph[$0] ?? []) })
        }
        #expect(four.superNodes == ["ip:hub"] && four.hops["user:1"] == nil)  // four neighbours over a limit of three: not walked through
        let capped = await Expansion.walk(from: "user:a", maxHops: 3, maxDegree: 3, maxNodes: 3) { frontier in
            Dictionary(uniqueKeysWithValues: frontier.map { ($0, graph[$0] ?? []) })
        }
        #expect(capped.truncated && capped.hops.count == 3)
        #expect(capped.edges.allSatisfy { capped.hops[$0.from] != nil && capped.hops[$0.to] != nil })
    }
}
