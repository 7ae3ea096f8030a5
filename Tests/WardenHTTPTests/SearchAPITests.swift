import Foundation
import HummingbirdTesting
import Testing
import WardenCore
import WardenEngine
import WardenStore
@testable import WardenHTTP

/// Full-text search: events' text fields named by the pack, kept by a consumer following the log,
/// and cases' report texts, with filters.
@Suite struct SearchAPITests {
    func message(_ id: String, actor: String, text: String, second: Int, type: String = "message.sent", field: String = "text") -> String {
        let time = Timestamp.formatRFC3339(1_795_428_000_000 - 3_600_000 + Int64(second) * 1000)
        return #"{"id":"\#(id)","type":"\#(type)","occurred_at":"\#(time)","actor":{"type":"user","id":"\#(actor)"},"entities":{"ip":"198.51.100.\#(second)"},"data":{"\#(field)":"\#(text)"}}"#
    }

    @Test func eventsAndCasesAreFoundByTheirWordsWithFilters() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            let lines = [
                message("s1", actor: "ann", text: "Claim your FREE crypto prize now", second: 1),
                message("s2", actor: "bob", text: "the crypto meetup is on Friday", second: 2),
                message("s3", actor: "ann", text: "Crypto doubling: send 1 BTC get 2", second: 3),
                message("s4", actor: "cat", text: "Crypto wallets for sale", second: 4, type: "listing.created", field: "title"),
                message("s5", actor: "dan", text: "crypto is not indexed here", second: 5, field: "unindexed"),
            ]
            _ = try await client.post("/v1/events", token: harness.writer, contentType: "application/x-ndjson", body: lines.joined(separator: "\n"))
            let report = #"{"id":"rep_9","reporter":{"type":"user","id":"u9"},"subject":{"type":"user","id":"ann"},"reason":"harassment.bullying","text":"keeps sending crypto scams"}"#
            #expect(try await client.post("/v1/reports", token: harness.admin, body: report).status == .ok)
            try await harness.buildCases()

            // The index catches up as it is searched (a short lag), newest first; pack fields only.
            let all = try await client.get("/v1/search?q=crypto", token: harness.reader)
            #expect(all.status == .ok, "\(String(buffer: all.body))")
            let events = try #require(all.json["events"] as? [[String: Any]])
            #expect(events.compactMap { $0["id"] as? String } == ["rep_9", "s4", "s3", "s2", "s1"], "\(all.json)")
            #expect(events.first { $0["id"] as? String == "s3" }?["snippet"] as? String == "[Crypto] doubling: send 1 BTC get 2")
            let cases = try #require(all.json["cases"] as? [[String: Any]])
            #expect(cases.contains { $0["source"] as? String == "report" && $0["subject"] as? String == "user:ann" }, "\(cases)")
            #expect(all.json["events_behind"] as? Int == 0)

            // Every word must occur; the last may be a prefix; case and accents do not matter.
            let both = try await client.get("/v1/search?q=crypto%20priz&in=events", token: harness.reader)
            #expect((both.json["events"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["s1"])
            #expect((both.json["cases"] as? [[String: Any]])?.isEmpty == true)
            let byActor = try await client.get("/v1/search?q=crypto&entity=user:ann&in=events", token: harness.reader)
            // Ann's messages, and the report that names her.
            #expect((byActor.json["events"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["rep_9", "s3", "s1"])
            let byType = try await client.get("/v1/search?q=crypto&type=listing.created", token: harness.reader)
            #expect((byType.json["events"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["s4"])
            #expect((byType.json["cases"] as? [[String: Any]])?.isEmpty == true, "a type narrows to events")
            let since = Timestamp.formatRFC3339(1_795_428_000_000 - 3_600_000 + 3_000)
            let recent = try await client.get("/v1/search?q=crypto&in=events&since=\(since)", token: harness.reader)
            #expect((recent.json["events"] as? [[String: Any]])?.compactMap { $0["id"] as? String }.contains("s1") == false)
            // Operators are words: nothing a person types is FTS syntax.
            let odd = try await client.get("/v1/search?q=crypto%20OR%20NOT%20%22", token: harness.reader)
            #expect(odd.status == .ok)
            let none = try await client.get("/v1/search?q=%21%21", token: harness.reader)
            #expect(none.status == .ok && (none.json["events"] as? [[String: Any]])?.isEmpty == true)
            #expect(try await client.get("/v1/search", token: harness.reader).status == .badRequest)
            #expect(try await client.get("/v1/search?q=crypto&entity=nocolon", token: harness.reader).status == .badRequest)
            let reviewer = try await harness.token("reviewer", [.casesRead, .casesReview])
            #expect(try await client.get("/v1/search?q=crypto", token: reviewer.secret).status == .forbidden)
        }
        // The consumer's lag is reported with the others.
        #expect(try await harness.store.consumerLags().contains { $0.consumer == "search" && $0.items == 0 })
    }
}
