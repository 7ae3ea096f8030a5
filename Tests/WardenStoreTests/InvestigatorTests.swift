import Foundation
import GRDB
import Testing
import WardenCore
import WardenInvestigations
@testable import WardenStore

/// The SQL console's connections: the views say what the catalogue says, queries read them and
/// nothing else, change nothing, stop at their deadline and return at most their rows.
@Suite struct InvestigatorTests {
    func seeded(_ body: (SQLiteStore) async throws -> Void) async throws {
        try await withStore { store, _ in
            _ = try await store.append([try event("e1", actor: "u1", ip: "203.0.113.7", text: "cheap pills"),
                                        try event("e2", actor: "u2", ip: "203.0.113.7", text: "hello"),
                                        try event("e3", actor: "u3", ip: "198.51.100.1", text: "win now")], receivedAt: 1_795_428_000_000)
            _ = try await store.indexEntities(limit: 100)
            try await body(store)
        }
    }

    func run(_ store: SQLiteStore, _ sql: String, _ parameters: [String: QueryValue] = [:], rows: Int = 1_000, millis: Int64 = 10_000) async throws -> QueryResult {
        try await store.runQuery(sql, parameters: parameters, limits: QueryLimits(rows: rows, millis: millis))
    }

    @Test func everyViewHasExactlyTheCataloguedColumns() async throws {
        try await seeded { (store: SQLiteStore) async throws in
            for view in InvestigationViews.all {
                let result = try await run(store, "SELECT * FROM \(view.name) LIMIT 1")
                #expect(result.columns == view.columns.map(\.name), "view \(view.name)")
            }
            #expect(Set(Investigator.viewSQL.keys) == InvestigationViews.names)
        }
    }

    @Test func viewsReadTheLiveStoreAndTheGraph() async throws {
        try await seeded { (store: SQLiteStore) async throws in
            let events = try await run(store, "SELECT seq, type, actor, data ->> '$.text' AS text FROM events ORDER BY seq")
            #expect(events.rows.map { $0.map(\.text) } == [["1", "message.sent", "user:u1", "cheap pills"], ["2", "message.sent", "user:u2", "hello"],
                                                           ["3", "message.sent", "user:u3", "win now"]])
            let shared = try await run(store, """
                SELECT m.entity, count(*) AS n FROM mentions m WHERE m.type = 'ip' GROUP BY m.entity ORDER BY n DESC
                """)
            #expect(shared.rows == [[.text("ip:203.0.113.7"), .integer(2)], [.text("ip:198.51.100.1"), .integer(1)]])
            let links = try await run(store, "SELECT b FROM links WHERE a = 'ip:203.0.113.7' ORDER BY b")
            #expect(links.rows == [[.text("user:u1")], [.text("user:u2")]])
            let wrapped = try await run(store, "WITH busy AS (SELECT a, count(*) AS n FROM links GROUP BY a) SELECT count(*) FROM busy WHERE n > 1")
            #expect(wrapped.rows == [[.integer(1)]])
            let counted = try await run(store, "SELECT count(*) FROM events")
            #expect(counted.rows == [[.integer(3)]])
            let each = try await run(store, "SELECT count(*) FROM events, json_each(events.data)")
            #expect(each.rows == [[.integer(3)]])
        }
    }

    @Test(arguments: [
        ("SELECT * FROM event", "a query reads only the investigation views"),
        ("SELECT secret_hash FROM api_token", "a query reads only the investigation views"),
        ("SELECT * FROM main.review_case", "a query reads only the investigation views"),
        ("SELECT sql FROM sqlite_master", "a query reads only the investigation views"),
        ("SELECT * FROM graph.entity", "a query reads only the investigation views"),
        ("SELECT * FROM pragma_table_info('event')", "a query "),
        ("PRAGMA table_info(event)", "a query may not run PRAGMA table_info"),
        ("PRAGMA query_only = 0", "a query may not run PRAGMA query_only"),
        ("ATTACH DATABASE '/tmp/x.sqlite' AS x", "a query may not ATTACH a database"),
        ("DETACH DATABASE graph", "a query may not DETACH a database"),
        ("INSERT INTO event (id) VALUES ('x')", "a query only reads: insert is not allowed"),
        ("UPDATE review_case SET state = 'closed'", "a query only reads: update is not allowed"),
        ("DELETE FROM audit_log", "a query only reads: delete is not allowed"),
        ("DROP VIEW events", "a query only reads: "),
        ("CREATE TEMP TABLE t (x)", "a query only reads: creating, changing or dropping tables, views, indexes or triggers is not allowed"),
        ("CREATE TEMP VIEW mine AS SELECT 1", "a query only reads: creating, changing or dropping tables, views, indexes or triggers is not allowed"),
        ("BEGIN", "a query only reads: transaction is not allowed"),
        ("SAVEPOINT s", "a query only reads: savepoint is not allowed"),
        ("ANALYZE", "a query only reads: "),
        ("WITH events AS (SELECT secret_hash FROM api_token) SELECT * FROM events", "a query reads only the investigation views"),
        ("WITH cases AS (SELECT body FROM event) SELECT * FROM cases", "a query reads only the investigation views"),
        ("SELECT load_extension('/tmp/evil.so')", "a query may not call load_extension()"),
        ("SELECT 1; DELETE FROM audit_log", "give one statement per query"),
        ("SELECT 1; SELECT 2", "give one statement per query"),
        ("SELEC 1", "near \"SELEC\": syntax error"),
        ("SELECT * FROM events WHERE seq = ?", "use named parameters such as :since"),
    ])
    func everythingButReadingTheViewsIsRefused(sql: String, refusal: String) async throws {
        try await seeded { (store: SQLiteStore) async throws in
            let before = try await store.statistics()
            await #expect {
                try await run(store, sql)
            } throws: { error in
                guard let error = error as? QueryError, error.kind == .refused else { return false }
                return error.message.hasPrefix(refusal)
            }
            #expect(try await store.statistics() == before)
            // The connection still answers afterwards.
            #expect(try await run(store, "SELECT count(*) FROM events").rows == [[.integer(3)]])
        }
    }

    @Test func aRunawayQueryStopsAtItsDeadline() async throws {
        try await seeded { (store: SQLiteStore) async throws in
            // Without the deadline this query never ends: the error is the proof it was stopped.
            await #expect(throws: QueryError(.timeout, "the query ran past its time limit of 200 ms and was stopped")) {
                try await run(store, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n", millis: 200)
            }
            #expect(try await run(store, "SELECT count(*) FROM events").rows == [[.integer(3)]])
        }
    }

    @Test func rowsStopAtTheLimitAndParametersBind() async throws {
        try await seeded { (store: SQLiteStore) async throws in
            let limited = try await run(store, "SELECT seq FROM events ORDER BY seq", rows: 2)
            #expect(limited.rows == [[.integer(1)], [.integer(2)]] && limited.truncated)
            #expect(try await run(store, "SELECT seq FROM events", rows: 3).truncated == false)
            let bound = try await run(store, "SELECT actor FROM events WHERE seq >= :from AND type = :type ORDER BY seq",
                                      ["from": .integer(2), "type": .text("message.sent")])
            #expect(bound.rows == [[.text("user:u2")], [.text("user:u3")]])
            #expect(try await store.queryParameters("SELECT :a, :b, :a") == ["a", "b"])
            await #expect(throws: QueryError(.invalid, "parameter :type has no value; give it in parameters")) {
                try await run(store, "SELECT 1 WHERE :type IS NULL")
            }
        }
    }

    @Test func timeHelpers() async throws {
        try await seeded { (store: SQLiteStore) async throws in
            let result = try await run(store, "SELECT iso(received_at), hour(received_at + 1800000), day(received_at), ago('1h') < received_at FROM events LIMIT 1")
            #expect(result.rows.first?.prefix(3).map(\.text) == ["2026-11-23T10:00:00Z", "2026-11-23T10:00Z", "2026-11-23"])
            await #expect(throws: QueryError.self) { try await run(store, "SELECT ago('soon')") }
        }
    }

    @Test func savedQueriesAreKeptWithTheirAudit() async throws {
        try await withStore { (store: SQLiteStore, _: String) async throws in
            let query = SavedQuery(name: "busy-ips", description: "IPs shared by many accounts", sql: "SELECT :n", parameters: ["n"], createdBy: "user:ana",
                                   createdAt: 1, updatedBy: "user:ana", updatedAt: 1)
            let audit = AuditDraft(at: 1, actor: "user:ana", action: "query.save", target: "query:busy-ips", detail: "{}")
            #expect(try await store.saveQuery(query, onlyNew: true, audit: audit))
            var changed = query
            changed.sql = "SELECT :n, :m"
            changed.parameters = ["n", "m"]
            #expect(try await store.saveQuery(changed, onlyNew: true, audit: audit) == false)
            #expect(try await store.savedQuery(named: "busy-ips") == query, "a create that finds the name taken writes nothing")
            #expect(try await store.saveQuery(changed, onlyNew: false, audit: audit) == false)
            #expect(try await store.savedQuery(named: "busy-ips") == changed)
            #expect(try await store.savedQueries().map(\.name) == ["busy-ips"])
            #expect(try await store.deleteSavedQuery(named: "busy-ips", audit: audit))
            #expect(try await store.deleteSavedQuery(named: "busy-ips", audit: audit) == false)
            #expect(try await store.auditEntries(after: 0, limit: 10).map(\.action) == ["query.save", "query.save", "query.save"])
        }
    }
}
