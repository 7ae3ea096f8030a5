import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import WardenCore
import WardenEngine
import WardenStore
@testable import WardenHTTP

/// Derived tables: a saved query materialised on a schedule, read like a view and fed to rules as a
/// list, so what an investigator finds becomes detection without code.
@Suite struct DerivedTableTests {
    func payment(_ id: String, user: String, card: String, at time: Int64) -> String {
        #"{"id":"\#(id)","type":"payment.attempted","occurred_at":"\#(Timestamp.formatRFC3339(time))","actor":{"type":"user","id":"\#(user)"},"entities":{"card":"\#(card)","ip":"192.0.2.9"},"data":{"amount":1.0,"status":"declined"}}"#
    }

    @Test
    func aDerivedTableRefreshedOnScheduleFeedsARuleThatFiresOnTheNextMatchingEvent() async throws {
        // `ago()` in SQL reads the machine's time: the server's clock starts there.
        let clock = MovableClock(Int64(Date().timeIntervalSince1970 * 1000))
        let harness = try await Harness.make(clock: clock)
        let start = clock.nowMillis()
        try await harness.test { client in
            // The pack's saved queries exist, and repeat-offenders is materialised (empty so far).
            let derived = try await client.get("/v1/derived", token: harness.admin)
            let table = try #require((derived.json["tables"] as? [[String: Any]])?.first { $0["query"] as? String == "repeat-offenders" })
            #expect(table["view"] as? String == "derived_repeat_offenders" && table["rows"] as? Int == 0 && table["every"] as? String == "15m")
            #expect(table["fresh"] as? Bool == true && table["scheduled_by"] as? String == "system:pack")

            // A card tester trips the card-testing rule three times (5th, 6th and 7th card).
            let testing = (0..<7).map { payment("ct\($0)", user: "carder", card: "card\($0)", at: start - 60_000 + Int64($0) * 1000) }
            _ = try await client.post("/v1/events", token: harness.writer, contentType: "application/x-ndjson", body: testing.joined(separator: "\n"))
            _ = try await harness.detection.processNext()
            #expect(try await harness.store.signals(before: nil, limit: 10, subject: nil, rule: "card_testing_cards").count == 3)

            // Before the table's next refresh the list is empty: a payment by the tester is not flagged by it.
            _ = try await client.post("/v1/events", token: harness.writer, contentType: "application/x-ndjson", body: payment("before", user: "carder", card: "card0", at: start))
            _ = try await harness.detection.processNext()
            #expect(try await harness.store.signals(before: nil, limit: 10, subject: nil, rule: "repeat_offender_payment").isEmpty)

            // Nothing is due until the period passes; then the scheduler refreshes it.
            #expect(try await harness.components.derived.refreshDue() == 0)
            clock.advance(15 * 60_000)
            #expect(try await harness.components.derived.refreshDue() == 1)
            let refreshed = try await client.get("/v1/derived", token: harness.admin)
            let after = try #require((refreshed.json["tables"] as? [[String: Any]])?.first { $0["query"] as? String == "repeat-offenders" })
            #expect(after["rows"] as? Int == 1 && after["columns"] as? [String] == ["user_id", "signals", "last_signal_at"], "\(after)")

            // The next payment by the tester fires the rule that reads the list.
            _ = try await client.post("/v1/events", token: harness.writer, contentType: "application/x-ndjson",
                                      body: payment("after", user: "carder", card: "card0", at: clock.nowMillis()))
            _ = try await harness.detection.processNext()
            let fired = try await harness.store.signals(before: nil, limit: 10, subject: nil, rule: "repeat_offender_payment")
            #expect(fired.map(\.subject?.id) == ["carder"])

            // The table reads like a view; the rows under it do not.
            let view = try await client.post("/v1/query", token: harness.admin, body: #"{"sql":"SELECT user_id, signals FROM derived_repeat_offenders"}"#)
            // Four card-testing signals: the payment before the refresh reused a card, and seven distinct cards within the hour still trip the rule.
            #expect(view.json["rows"] as? [[AnyHashable]] == [["carder", 4]], "\(view.json)")
            let raw = try await client.post("/v1/query", token: harness.admin, body: #"{"sql":"SELECT data FROM derived_row"}"#)
            #expect(raw.status == .unprocessableContent && (raw.json["type"] as? String)?.hasSuffix("query-refused") == true, "\(raw.json)")

            let refreshes = try await harness.store.auditEntries(after: 0, limit: 1000).filter { $0.action == "derived.refresh" && $0.target == "query:repeat-offenders" }
            #expect(refreshes.map(\.actor) == ["system:pack", "system:derived"])
        }
    }

    @Test
    func incrementalTablesAppendAfterTheirCursorAndBadSchedulesAreRefused() async throws {
        let harness = try await Harness.make()
        let analyst = try await harness.token("analyst", [.queryRead, .queryWrite])
        try await harness.test { client in
            _ = try await client.post("/v1/events", token: harness.writer, contentType: "application/x-ndjson",
                                      body: (1...3).map { eventJSON("i\($0)") }.joined(separator: "\n"))
            _ = try await client.post("/v1/queries", token: analyst.secret, body: #"{"name":"new-events","sql":"SELECT seq, id FROM events WHERE seq > :cursor ORDER BY seq"}"#)
            _ = try await client.post("/v1/queries", token: analyst.secret, body: #"{"name":"by-type","sql":"SELECT type, count(*) AS n FROM events GROUP BY type"}"#)

            func schedule(_ name: String, _ body: String) async throws -> TestResponse {
                try await client.execute(uri: "/v1/queries/\(name)/schedule", method: .put,
                                         headers: [.authorization: "Bearer \(analyst.secret)", .contentType: "application/json"], body: ByteBuffer(string: body))
            }
            for (name, body, detail) in [
                ("new-events", #"{"every":"1h"}"#, "a scheduled query runs with no one to give its parameters"),
                ("new-events", #"{"every":"1h","mode":"incremental"}"#, "an incremental refresh needs cursor_column"),
                ("by-type", #"{"every":"1h","mode":"incremental","cursor_column":"n"}"#, "an incremental query reads new rows after :cursor"),
                ("by-type", #"{"every":"30s"}"#, "a derived table refreshes every 1m to 30d"),
            ] {
                let refused = try await schedule(name, body)
                #expect(refused.status == .unprocessableContent, "\(body)")
                #expect((refused.json["detail"] as? String)?.hasPrefix(detail) == true, "\(refused.json)")
            }
            #expect(try await schedule("missing", #"{"every":"1h"}"#).status == .notFound)
            #expect(try await harness.store.derivedTable(query: "new-events") == nil)

            let first = try await schedule("new-events", #"{"every":"1h","mode":"incremental","cursor_column":"seq"}"#)
            #expect(first.json["rows"] as? Int == 3 && first.json["mode"] as? String == "incremental", "\(first.json)")
            _ = try await client.post("/v1/events", token: harness.writer, contentType: "application/x-ndjson",
                                      body: (4...5).map { eventJSON("i\($0)") }.joined(separator: "\n"))
            let second = try await client.post("/v1/queries/new-events/refresh", token: analyst.secret, body: "")
            #expect(second.json["rows"] as? Int == 5)
            let third = try await client.post("/v1/queries/new-events/refresh", token: analyst.secret, body: "")
            #expect(third.json["rows"] as? Int == 5, "nothing new after the cursor")
            let ids = try await client.post("/v1/query", token: analyst.secret, body: #"{"sql":"SELECT id FROM derived_new_events"}"#)
            #expect((ids.json["rows"] as? [[String]])?.map(\.first) == ["i1", "i2", "i3", "i4", "i5"])

            // A query that stops compiling records why, and the rows stay.
            _ = try await client.execute(uri: "/v1/queries/new-events", method: .put, headers: [.authorization: "Bearer \(analyst.secret)", .contentType: "application/json"],
                                         body: ByteBuffer(string: #"{"sql":"SELECT seq, id FROM events WHERE seq > :cursor AND id = :id"}"#))
            let failed = try await client.post("/v1/queries/new-events/refresh", token: analyst.secret, body: "")
            #expect((failed.json["error"] as? String)?.contains(":id") == true && failed.json["rows"] as? Int == 5 && failed.json["fresh"] as? Bool == false, "\(failed.json)")

            let dropped = try await client.execute(uri: "/v1/queries/new-events/schedule", method: .delete, headers: [.authorization: "Bearer \(analyst.secret)"])
            #expect(dropped.status == .noContent)
            let gone = try await client.post("/v1/query", token: analyst.secret, body: #"{"sql":"SELECT id FROM derived_new_events"}"#)
            #expect(gone.status == .unprocessableContent)
        }
    }
}
