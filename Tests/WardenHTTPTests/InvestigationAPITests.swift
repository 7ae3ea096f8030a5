import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import WardenCore
import WardenEngine
import WardenStore
@testable import WardenHTTP

/// The SQL console's API: queries over the views in three formats with a chart, refusals that say
/// what and change nothing, time limits, saved queries with parameters, and an audit of every run.
@Suite struct InvestigationAPITests {
    func seeded() async throws -> Harness {
        let harness = try await Harness.make()
        try await harness.test { client in
            let lines = (1...6).map { eventJSON("q\($0)", text: $0 % 2 == 0 ? "cheap pills" : "hello", actor: "u\($0 % 3)") }
            let response = try await client.post("/v1/events", token: harness.writer, contentType: "application/x-ndjson", body: lines.joined(separator: "\n"))
            #expect(response.status == .ok || response.status == .accepted)
        }
        _ = try await harness.store.indexEntities(limit: 100)
        return harness
    }

    @Test
    func queriesAnswerInJSONCSVAndNDJSONWithAChart() async throws {
        let harness = try await seeded()
        try await harness.test { client in
            let json = try await client.post("/v1/query", token: harness.admin, body: """
                {"sql":"SELECT hour(received_at) AS hour, data ->> '$.text' AS text, count(*) AS n FROM events GROUP BY 1, 2 ORDER BY 2"}
                """)
            #expect(json.status == .ok, "\(String(buffer: json.body))")
            #expect(json.json["columns"] as? [String] == ["hour", "text", "n"])
            let rows = try #require(json.json["rows"] as? [[Any]])
            #expect(rows.map { $0[1] as? String } == ["cheap pills", "hello"] && rows.map { $0[2] as? Int } == [3, 3])
            #expect(json.json["truncated"] as? Bool == false && json.json["row_count"] as? Int == 2)
            let chart = try #require(json.json["chart"] as? [String: Any])
            #expect(chart["time_column"] as? String == "hour" && chart["value_column"] as? String == "n")
            #expect((chart["points"] as? [[String: Any]])?.first?["value"] as? Double == 6)

            let csv = try await client.post("/v1/query", token: harness.admin, body: #"{"sql":"SELECT seq, actor FROM events ORDER BY seq","limit":2,"format":"csv"}"#)
            #expect(csv.headers[.contentType] == "text/csv; charset=utf-8")
            #expect(String(buffer: csv.body) == "seq,actor\r\n1,user:u1\r\n2,user:u2\r\n")
            let ndjson = try await client.post("/v1/query", token: harness.admin, body: #"{"sql":"SELECT seq FROM events WHERE seq > :after","parameters":{"after":4},"format":"ndjson"}"#)
            #expect(ndjson.headers[.contentType] == "application/x-ndjson")
            #expect(String(buffer: ndjson.body) == "{\"seq\":5}\n{\"seq\":6}\n")
            let truncated = try await client.post("/v1/query", token: harness.admin, body: #"{"sql":"SELECT seq FROM events","limit":4}"#)
            #expect(truncated.json["truncated"] as? Bool == true && truncated.json["row_count"] as? Int == 4)

            let views = try await client.get("/v1/query/views", token: harness.admin)
            #expect((views.json["views"] as? [[String: Any]])?.compactMap { $0["name"] as? String }.contains("mentions") == true)
        }
    }

    @Test
    func refusalsSayWhatAndChangeNothing() async throws {
        let harness = try await seeded()
        try await harness.test { client in
            let before = try await harness.store.statistics()
            for (body, type, detail) in [
                (#"{"sql":"DELETE FROM event"}"#, "query-refused", "a query only reads: delete is not allowed"),
                (#"{"sql":"SELECT * FROM api_token"}"#, "query-refused", "a query reads only the investigation views"),
                // (PostgreSQL has neither statement; its store refuses every statement that is not a query.)
                (#"{"sql":"ATTACH DATABASE 'x' AS x"}"#, "query-refused",
                 Harness.onSQLite ? "a query may not ATTACH a database" : "a query only reads: attach is not allowed"),
                (#"{"sql":"PRAGMA writable_schema = 1"}"#, "query-refused",
                 Harness.onSQLite ? "a query may not run PRAGMA writable_schema" : "a query only reads: pragma is not allowed"),
                (#"{"sql":"SELECT 1 WHERE :x"}"#, "invalid-query", "parameter :x has no value; give it in parameters"),
                (#"{"sql":"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n","timeout_ms":100}"#, "query-timeout",
                 "the query ran past its time limit of 100 ms and was stopped"),
                (#"{"sql":"SELECT 1","limit":0}"#, "invalid-body", "limit: limit is 0; give 1 to 100000 rows"),
                (#"{"sql":"SELECT 1","rows":5}"#, "invalid-body", "rows: is not a member of this request"),
            ] {
                let response = try await client.post("/v1/query", token: harness.admin, body: body)
                #expect(response.status == .unprocessableContent, "\(body)")
                #expect((response.json["type"] as? String)?.hasSuffix(type) == true, "\(body): \(response.json)")
                #expect((response.json["detail"] as? String)?.hasPrefix(detail) == true, "\(body): \(response.json)")
            }
            #expect(try await harness.store.statistics() == before)
            let runs = try await harness.store.auditEntries(after: 0, limit: 100).filter { $0.action == "query.run" }
            #expect(runs.count == 6, "refused, invalid and stopped runs are audited; malformed requests never run")
            #expect(runs.map { $0.detail.contains(#""outcome":"refused""#) }.filter { $0 }.count == 4)
            #expect(runs.last?.detail.contains(#""outcome":"timeout""#) == true)

            // Reviewers and vendor reviewers have no query scope.
            let reviewer = try await harness.token("reviewer", [.casesRead, .casesReview])
            #expect(try await client.post("/v1/query", token: reviewer.secret, body: #"{"sql":"SELECT 1"}"#).status == .forbidden)
            #expect(try await client.get("/v1/queries", token: reviewer.secret).status == .forbidden)
        }
    }

    @Test
    func savedQueriesWithParametersAreSharedRunAndAudited() async throws {
        let harness = try await seeded()
        let analyst = try await harness.token("analyst", [.queryRead, .queryWrite])
        let auditor = try await harness.token("auditor", [.queryRead])
        try await harness.test { client in
            let created = try await client.post("/v1/queries", token: analyst.secret, body: """
                {"name":"texts-by-actor","description":"What an account wrote","sql":"SELECT seq, data ->> '$.text' AS text FROM events WHERE actor = :actor ORDER BY seq"}
                """)
            #expect(created.status == .created, "\(String(buffer: created.body))")
            #expect(created.json["parameters"] as? [String] == ["actor"])
            #expect(try await client.post("/v1/queries", token: analyst.secret, body: #"{"name":"texts-by-actor","sql":"SELECT 1"}"#).status == .conflict)
            let writes = try await client.post("/v1/queries", token: analyst.secret, body: #"{"name":"oops","sql":"DELETE FROM event"}"#)
            #expect(writes.status == .unprocessableContent && (writes.json["detail"] as? String)?.contains("delete is not allowed") == true)
            #expect(try await client.post("/v1/queries", token: analyst.secret, body: #"{"name":"Bad Name","sql":"SELECT 1"}"#).status == .unprocessableContent)
            #expect(try await client.post("/v1/queries", token: auditor.secret, body: #"{"name":"mine","sql":"SELECT 1"}"#).status == .forbidden)

            let run = try await client.post("/v1/queries/texts-by-actor/run", token: auditor.secret, body: #"{"parameters":{"actor":"user:u2"}}"#)
            #expect(run.status == .ok)
            #expect((run.json["rows"] as? [[Any]])?.map { $0[1] as? String } == ["cheap pills", "hello"])
            let missing = try await client.post("/v1/queries/texts-by-actor/run", token: auditor.secret, body: "")
            #expect(missing.status == .unprocessableContent && missing.json["detail"] as? String == "parameter :actor has no value; give it in parameters")

            var put = try await client.execute(uri: "/v1/queries/texts-by-actor", method: .put,
                                               headers: [.authorization: "Bearer \(analyst.secret)", .contentType: "application/json"],
                                               body: ByteBuffer(string: #"{"sql":"SELECT count(*) AS n FROM events WHERE actor = :actor"}"#))
            #expect(put.status == .ok)
            #expect(put.json["description"] as? String == "What an account wrote")
            put = try await client.execute(uri: "/v1/queries/nothing", method: .put,
                                           headers: [.authorization: "Bearer \(analyst.secret)", .contentType: "application/json"],
                                           body: ByteBuffer(string: #"{"sql":"SELECT 1"}"#))
            #expect(put.status == .notFound)
            let list = try await client.get("/v1/queries", token: auditor.secret)
            #expect((list.json["queries"] as? [[String: Any]])?.first { $0["name"] as? String == "texts-by-actor" }?["sql"] as? String
                    == "SELECT count(*) AS n FROM events WHERE actor = :actor")

            let delete = try await client.execute(uri: "/v1/queries/texts-by-actor", method: .delete, headers: [.authorization: "Bearer \(analyst.secret)"])
            #expect(delete.status == .noContent)
            #expect(try await client.get("/v1/queries/texts-by-actor", token: auditor.secret).status == .notFound)

            // (The pack's saved queries were saved at start, as system:pack.)
            let audit = try await harness.store.auditEntries(after: 0, limit: 100).filter { $0.action.hasPrefix("query.") && $0.actor != "system:pack" }
            #expect(audit.map(\.action) == ["query.save", "query.run", "query.run", "query.save", "query.delete"])
            #expect(audit[1].actor == auditor.actor && audit[1].target == "query:texts-by-actor" && audit[1].detail.contains(#""saved":"texts-by-actor""#))
        }
    }
}
