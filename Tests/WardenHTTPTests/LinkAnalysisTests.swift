import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import WardenCore
import WardenEngine
import WardenInvestigations
import WardenSimulation
@testable import WardenHTTP

/// Link analysis on simulated traffic: the sign-up farm and the card-testing campaign each come out
/// as one cluster, scored against the simulator's ground truth; expansion over the API.
@Suite struct LinkAnalysisTests {
    @Test func campaignsFormOneClusterEach() async throws {
        let start: Int64 = 1_795_428_000_000 - 3_600_000
        var options = SimulationOptions(start: start)
        options.rate = 6
        options.users = 3_000
        options.campaigns = [.signupFarm, .cardTesting]
        options.cycleMillis = 3_600_000
        var simulator = Simulator(options: options)
        var lines: [String] = []
        var truth: [String: Set<String>] = [:]
        while let event = simulator.next(), event.occurredAt < start + 3_600_000 {
            lines.append(String(decoding: event.json, as: UTF8.self))
            for record in event.truth where record.kind == "campaign" {
                truth[record.campaign.rawValue, default: []].formUnion(record.subjects.filter { $0.hasPrefix("user:") })
            }
        }
        let harness = try await Harness.make()
        for chunk in stride(from: 0, to: lines.count, by: 5_000) {
            let result = try await harness.components.intake.submit(Array(lines[chunk..<min(chunk + 5_000, lines.count)].joined(separator: "\n").utf8), format: .ndjson)
            #expect(result.rejected == 0)
        }
        while try await harness.store.indexEntities(limit: 10_000).indexed > 0 {}
        let found = try await harness.components.links.clusters(hours: 2, options: ClusterOptions(), limit: 50)
        let scores = ClusterFinder.score(found.clusters.map(\.cluster), against: truth)
        print("clusters on \(lines.count) simulated events: \(found.clusters.count) clusters, super-nodes \(found.superNodes.map { "\($0.pivot) (\($0.accounts))" }); "
              + scores.sorted { $0.key < $1.key }.map { "\($0.key): precision \($0.value.precision), recall \($0.value.recall), \($0.value.size) accounts" }.joined(separator: "; "))
        #expect(truth.keys.sorted() == ["card_testing", "signup_farm"])
        for (campaign, score) in scores {
            #expect(score.precision == 1 && score.recall == 1, "\(campaign): \(score)")
        }
        let farm = try #require(found.clusters.first { Set($0.cluster.accounts) == truth["signup_farm"] })
        #expect(farm.cluster.pivots.contains { $0.hasPrefix("device:farmdev") })
        #expect(farm.facts.firstSeenAt != nil && farm.facts.lastActiveAt != nil)
        let carder = try #require(found.clusters.first { Set($0.cluster.accounts) == truth["card_testing"] })
        #expect(carder.cluster.pivots.filter { $0.hasPrefix("card:") }.count == 45)

        let account = try #require(truth["signup_farm"]?.sorted().first).split(separator: ":")
        _ = try await harness.components.users?.add(name: "ann", role: .analyst, password: ConsoleTests.password, actor: "test")
        _ = try await harness.components.users?.add(name: "rev", role: .reviewer, password: ConsoleTests.password, teams: ["trust"], actor: "test")
        try await harness.test { client in
            let analyst = try await ConsoleTests.signIn(client, "ann")
            let page = try await client.execute(uri: "/clusters?hours=2", method: .get, headers: [.cookie: analyst.cookie])
            let html = String(buffer: page.body)
            #expect(page.status == .ok && html.contains("Cluster 1: 60 accounts") && html.contains("Cluster 2: 1 accounts, 47 pivots"))
            #expect(html.contains(#"aria-label="Cluster of 60 accounts""#) && html.contains("email_domain:gmail.com (235)"))
            let reviewer = try await ConsoleTests.signIn(client, "rev")
            #expect(try await client.execute(uri: "/clusters", method: .get, headers: [.cookie: reviewer.cookie]).status == .forbidden)
            let expanded = try await client.get("/v1/entities/\(account[0])/\(account[1])/expand?hops=2", token: harness.admin)
            #expect(expanded.status == .ok)
            let nodes = (expanded.json["nodes"] as? [[String: Any]]) ?? []
            #expect(nodes.contains { ($0["entity"] as? String)?.hasPrefix("device:farmdev") == true && $0["hop"] as? Int == 1 })
            #expect(nodes.filter { ($0["entity"] as? String)?.hasPrefix("user:farm") == true && $0["hop"] as? Int == 2 }.count > 10)
            let listed = try await client.get("/v1/clusters?hours=2", token: harness.admin)
            #expect(listed.status == .ok && ((listed.json["clusters"] as? [[String: Any]])?.first?["size"] as? Int) == 60)
            #expect(try await client.get("/v1/entities/user/nobody/expand", token: harness.admin).status == .notFound)
            #expect(try await client.get("/v1/clusters?max_degree=1", token: harness.admin).status == .badRequest)
        }
    }
}
