import Testing
import WardenSimulation
@testable import WardenEngine

@Suite struct DemoTrafficTests {
    /// A newcomer watching `warden serve --demo` sees every simulated campaign begin within the
    /// first ten minutes, the first within the first minute.
    @Test func everyCampaignStartsWithinTenMinutes() {
        let start: Int64 = 1_795_428_000_000
        var simulator = Simulator(options: DemoTraffic.options(start: start, rate: 5, seed: 7))
        var firstSeen: [Campaign: Int64] = [:]
        while let event = simulator.next(), event.occurredAt < start + 10 * 60_000 {
            for truth in event.truth where truth.kind == "campaign" { firstSeen[truth.campaign] = firstSeen[truth.campaign] ?? event.occurredAt }
        }
        #expect(Set(firstSeen.keys) == Set(Campaign.allCases))
        #expect((firstSeen.values.min() ?? .max) - start < 60_000)
    }
}
