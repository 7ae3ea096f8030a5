import Foundation
import HummingbirdTesting
import Testing
import WardenCore
@testable import WardenHTTP

@Suite struct IntakeAPITests {
    @Test func oneJSONEventIsAcceptedThenADuplicate() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            let first = try await client.post("/v1/events", token: harness.writer, body: eventJSON("evt_1"))
            #expect(first.status == .ok)
            #expect(first.results.first?["status"] as? String == "accepted")
            #expect(first.results.first?["seq"] as? Int == 1)
            let again = try await client.post("/v1/events", token: harness.writer, body: eventJSON("evt_1"))
            #expect(again.status == .ok)
            #expect(again.json["duplicates"] as? Int == 1)
            let conflict = try await client.post("/v1/events", token: harness.writer, body: eventJSON("evt_1", text: "other"))
            #expect(conflict.status == .conflict)
            #expect(conflict.headers[.contentType] == "application/problem+json")
            let stored = try await client.get("/v1/events/evt_1", token: harness.reader)
            #expect(stored.status == .ok)
            #expect((stored.json["event"] as? [String: Any])?["id"] as? String == "evt_1")
        }
    }

    @Test func ndjsonBatchesAnswerEveryLine() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            let body = [eventJSON("a"), "", #"{"id":"b","type":"x","occurred_at":"nope"}"#, eventJSON("c"), #"{"id":"d","#].joined(separator: "\n")
            let response = try await client.post("/v1/events", token: harness.writer, contentType: "application/x-ndjson", body: body)
            #expect(response.status.code == 207)
            let results = response.results
            #expect(results.map { $0["line"] as? Int } == [1, 3, 4, 5])
            #expect(results.map { $0["status"] as? String } == ["accepted", "rejected", "accepted", "rejected"])
            let timeError = results[1]["error"] as? [String: Any]
            #expect(timeError?["field"] as? String == "occurred_at")
            let syntax = results[3]["error"] as? [String: Any]
            #expect(syntax?["code"] as? String == "syntax")
            #expect(syntax?["line"] as? Int == 5)
            #expect(syntax?["column"] as? Int == 11)
            #expect(try await harness.store.statistics().eventCount == 2)
        }
    }

    @Test func badInputGetsItsDocumentedErrorAndChangesNothing() async throws {
        let harness = try await Harness.make(maxBodyBytes: 64 * 1024)
        try await harness.test { client in
            _ = try await client.post("/v1/events", token: harness.writer, body: eventJSON("seed"))
            let cases: [(String, String?, [UInt8], Int)] = [
                ("truncated JSON", "application/json", Array(#"{"id":"x","type":"#.utf8), 400),
                ("wrong types", "application/json", Array(#"{"id":1,"type":"x","occurred_at":"2026-11-23T10:00:00Z"}"#.utf8), 422),
                ("huge id", "application/json", Array("{\"id\":\"\(String(repeating: "x", count: 5000))\",\"type\":\"x\",\"occurred_at\":\"2026-11-23T10:00:00Z\"}".utf8), 422),
                ("bad timestamp", "application/json", Array(#"{"id":"x","type":"x","occurred_at":"2026-02-30T10:00:00Z"}"#.utf8), 422),
                ("unknown entity type", "application/json", Array(#"{"id":"x","type":"x","occurred_at":"2026-11-23T10:00:00Z","entities":{"planet":"mars"}}"#.utf8), 422),
                ("empty body", "application/json", [], 400),
                ("whitespace only", "application/x-ndjson", Array("\n \n".utf8), 400),
                ("binary garbage", "application/x-ndjson", (0..<512).map { UInt8(truncatingIfNeeded: $0 &* 97 &+ 13) }, 400),
                ("oversized body", "application/x-ndjson", Array(repeating: UInt8(ascii: "a"), count: 100 * 1024), 413),
                ("wrong media type", "text/plain", Array(eventJSON("y").utf8), 415),
                ("no media type", nil, Array(eventJSON("y").utf8), 415),
                ("an array", "application/json", Array("[\(eventJSON("z"))]".utf8), 400),
            ]
            for (name, contentType, bytes, status) in cases {
                let response = try await client.post("/v1/events", token: harness.writer, contentType: contentType, bytes: bytes)
                #expect(Int(response.status.code) == status, "\(name)")
                #expect(response.headers[.contentType] == "application/problem+json", "\(name)")
                #expect(response.json["detail"] as? String != nil, "\(name)")
            }
            #expect(try await harness.store.statistics().eventCount == 1)
        }
    }

    @Test func malformedJSONNamesLineAndColumn() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            let response = try await client.post("/v1/events", token: harness.writer, body: "{\n  \"id\": \"x\",\n  \"type\": nope\n}")
            #expect(response.status == .badRequest)
            #expect(response.json["line"] as? Int == 3)
            #expect(response.json["column"] as? Int == 11)
        }
    }

    @Test func reportsAreStoredAsReportEvents() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            let report = #"{"id":"rep_1","reporter":{"type":"user","id":"u9"},"subject":{"type":"user","id":"u1"},"reason":"harassment.bullying","text":"mean"}"#
            let response = try await client.post("/v1/reports", token: harness.admin, body: report)
            #expect(response.status == .ok)
            let stored = try await harness.store.event(id: "rep_1")
            #expect(stored?.type == "report")
            let again = try await client.post("/v1/reports", token: harness.admin, body: report)
            #expect(again.json["duplicates"] as? Int == 1)
            let badReason = try await client.post("/v1/reports", token: harness.admin, body: report.replacingOccurrences(of: "harassment.bullying", with: "rudeness"))
            #expect(badReason.status == .unprocessableContent)
            #expect(badReason.json["field"] as? String == "reason")
            let missing = try await client.post("/v1/reports", token: harness.admin, body: #"{"reporter":{"type":"user","id":"u9"},"reason":"spam"}"#)
            #expect(missing.status == .unprocessableContent)
            let noReporter = try await client.post("/v1/reports", token: harness.admin, body: #"{"subject":{"type":"user","id":"u9"},"reason":"spam"}"#)
            #expect(noReporter.status == .unprocessableContent)
            #expect(noReporter.json["detail"] as? String == "reporter: is required")
            let broken = try await client.post("/v1/reports", token: harness.admin, body: "{")
            #expect(broken.status == .badRequest)
            let wrongType = try await client.post("/v1/reports", token: harness.admin, body: #"{"reporter":{"type":"user","id":7},"reason":"spam","content_id":"c1"}"#)
            #expect(wrongType.json["field"] as? String == "reporter.id")
            let byWriter = try await client.post("/v1/reports", token: harness.writer, body: report)
            #expect(byWriter.status == .forbidden)
        }
    }

    @Test func entitiesShowRecentEventsAndLinks() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            let batch = [eventJSON("a", actor: "u1"), eventJSON("b", actor: "u2")].joined(separator: "\n")
            _ = try await client.post("/v1/events", token: harness.writer, contentType: "application/x-ndjson", body: batch)
            let ip = try await client.get("/v1/entities/ip/203.0.113.7", token: harness.reader)
            #expect(ip.status == .ok)
            #expect(ip.json["event_count"] as? Int == 2)
            #expect(ip.json["indexed_through_seq"] as? Int == 2)
            let links = (ip.json["links"] as? [[String: Any]] ?? []).compactMap { $0["entity"] as? String }
            #expect(Set(links) == ["user:u1", "user:u2", "device:d9"])
            #expect(try await client.get("/v1/entities/ip/192.0.2.1", token: harness.reader).status == .notFound)
            let page = try await client.get("/v1/events?after=1&limit=1", token: harness.reader)
            #expect((page.json["events"] as? [[String: Any]])?.count == 1)
            #expect(try await client.get("/v1/events?limit=0", token: harness.reader).status == .badRequest)
        }
    }

    @Test func concurrentSubmissionsAreAllDurableWithDenseSequence() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for submission in 0..<24 {
                    group.addTask {
                        let body = (0..<50).map { eventJSON("c\(submission)-\($0)", actor: "u\($0)") }.joined(separator: "\n")
                        let response = try await client.post("/v1/events", token: harness.writer, contentType: "application/x-ndjson", body: body)
                        #expect(response.json["accepted"] as? Int == 50)
                    }
                }
                try await group.waitForAll()
            }
            let events = try await harness.store.events(after: 0, limit: 2000, type: nil)
            #expect(events.map(\.seq) == Array(1...1200))
            #expect(Set(events.map(\.id)).count == 1200)
        }
    }
}
