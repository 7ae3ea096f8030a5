import Foundation
import GRDB
import Testing
import WardenCore
import WardenInvestigations
@testable import WardenStore

/// The SQL console's connections: the views say what the catalogue says, queries read them and
/// nothing else, change nothing, stop at their deadline and return at most their rows. On both
/// stores, where the behaviour is the same; each store's own refusals in a table of its own.
@Suite struct InvestigatorTests {
    func seeded(_ backend: Backend = .sqlite, _ body: (any ConformingStore) async throws -> Void) async throws {
        try await backend.withStore { store, _ in
            _ = try await store.append([try event("e1", actor: "u1", ip: "203.0.113.7", text: "cheap pills"),
                                        try event("e2", actor: "u2", ip: "203.0.113.7", text: "hello"),
                                        try event("e3", actor: "u3", ip: "198.51.100.1", text: "win now")], receivedAt: 1_795_428_000_000)
            _ = try await store.indexEntities(limit: 100)
            try await body(store)
        }
    }

    func run(_ store: any ConformingStore, _ sql: String, _ parameters: [String: QueryValue] = [:], rows: Int = 1_000, millis: Int64 = 10_000) async throws -> QueryResult {
        try await store.runQuery(sql, parameters: parameters, limits: QueryLimits(rows: rows, millis: millis))
    }

    /// `sql` is refused with a message starting `refusal`, the store is as it was, and the
    /// connection still answers afterwards.
    func expectRefused(_ store: any ConformingStore, _ sql: String, _ refusal: String,
                       sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let before = try await store.statistics()
        await #expect(sourceLocation: sourceLocation) {
            try await run(store, sql)
        } throws: { error in
            guard let error = error as? QueryError, error.kind == .refused else { return false }
            return error.message.hasPrefix(refusal)
        }
        #expect(try await store.statistics() == before, sourceLocation: sourceLocation)
        #expect(try await run(store, "SELECT count(*) FROM events").rows == [[.integer(3)]], sourceLocation: sourceLocation)
    }

    @Test(arguments: Backend.underTest) func everyViewHasExactlyTheCataloguedColumns(_ backend: Backend) async throws {
        try await seeded(backend) { (store: any ConformingStore) async throws in
            for view in InvestigationViews.all {
                let result = try await run(store, "SELECT * FROM \(view.name) LIMIT 1")
                #expect(result.columns == view.columns.map(\.name), "view \(view.name)")
            }
            #expect(Set(Investigator.viewSQL.keys) == InvestigationViews.names)
            #expect(Set(PostgresInvestigator.viewSQL.keys) == InvestigationViews.names)
        }
    }

    @Test(arguments: Backend.underTest) func viewsReadTheLiveStoreAndTheGraph(_ backend: Backend) async throws {
        try await seeded(backend) { (store: any ConformingStore) async throws in
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
            let each = try await run(store, "SELECT count(*) FROM events, json_each(events.data, '$')")
            #expect(each.rows == [[.integer(3)]])
            let paths = try await run(store, """
                SELECT json_extract(data, '$.text'), entities ->> '$.ip', json_extract(entities, '$."ip"') FROM events WHERE seq = 1
                """)
            #expect(paths.rows == [[.text("cheap pills"), .text("203.0.113.7"), .text("203.0.113.7")]])
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
        try await seeded { (store: any ConformingStore) async throws in try await expectRefused(store, sql, refusal) }
    }

    /// On PostgreSQL the database refuses: the investigators' login may read the views and nothing
    /// else, in a read-only transaction, whatever the query asks of the server.
    @Test(.enabled(if: Backend.postgresURL != nil, "needs a PostgreSQL server (WARDEN_TEST_POSTGRES_URL)"), arguments: [
        ("SELECT * FROM public.event", "a query reads only the investigation views"),
        ("SELECT secret_hash FROM api_token", "a query reads only the investigation views"),
        ("SELECT * FROM public.api_token", "a query reads only the investigation views"),
        ("SELECT password FROM public.investigator_login", "a query reads only the investigation views"),
        ("SELECT * FROM events, public.review_case", "a query reads only the investigation views"),
        ("WITH events AS (SELECT * FROM public.api_token) SELECT * FROM events", "a query reads only the investigation views"),
        ("SELECT query_to_xml('SELECT * FROM public.api_token', true, false, '')", "a query reads only the investigation views"),
        ("SELECT set_config('role', 'warden', false)", "a query reads only the investigation views"),
        ("SELECT pg_read_file('/etc/passwd')", "a query reads only the investigation views"),
        ("SELECT nextval('public.case_timeline_id_seq')", "a query "),
        ("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename <> current_user", "a query "),
        ("WITH gone AS (DELETE FROM public.event RETURNING seq) SELECT * FROM gone", "WITH clause containing a data-modifying statement"),
        ("DELETE FROM audit_log", "a query only reads: delete is not allowed"),
        ("INSERT INTO event (id) VALUES ('x')", "a query only reads: insert is not allowed"),
        ("CREATE TEMP TABLE t (x int)", "a query only reads: create is not allowed"),
        ("SET ROLE warden", "a query only reads: set is not allowed"),
        ("COPY (SELECT 1) TO '/tmp/x'", "a query only reads: copy is not allowed"),
        ("SELECT 1; DELETE FROM audit_log", "give one statement per query"),
        ("SELECT 1; SELECT 2", "give one statement per query"),
        ("SELECT * FROM events WHERE seq = $1", "use named parameters such as :since"),
        ("SELECT 1) AS q; DROP TABLE event; SELECT (1", "give one statement per query"),
    ])
    func everythingButReadingTheViewsIsRefusedOnPostgres(sql: String, refusal: String) async throws {
        try await seeded(.postgres) { (store: any ConformingStore) async throws in try await expectRefused(store, sql, refusal) }
    }

    @Test(.enabled(if: Backend.postgresURL != nil, "needs a PostgreSQL server (WARDEN_TEST_POSTGRES_URL)"))
    func aSessionSettingAQueryLeavesBehindDoesNotOutliveIt() async throws {
        try await seeded(.postgres) { (store: any ConformingStore) async throws in
            // Settings made for the session (not the query) find the next query's own in force.
            _ = try await run(store, "SELECT set_config('search_path', 'public', false), set_config('statement_timeout', '0', false)")
            _ = try await run(store, "SELECT set_config('default_transaction_read_only', 'off', false)")
            for _ in 0..<6 {
                #expect(try await run(store, "SELECT count(*) FROM events").rows == [[.integer(3)]])
                await #expect(throws: QueryError(.timeout, "the query ran past its time limit of 200 ms and was stopped")) {
                    try await run(store, "SELECT pg_sleep(5)", millis: 200)
                }
            }
        }
    }

    /// Warden makes the investigators' login itself when its own login may (`CREATEROLE`); when it
    /// may not, a query says so and what to do, and a login named in the URL is used instead.
    @Test(.enabled(if: Backend.postgresURL != nil, "needs a PostgreSQL server (WARDEN_TEST_POSTGRES_URL)"))
    func withoutTheRightToMakeALoginQueriesSayWhatToDoAndALoginFromTheURLIsUsed() async throws {
        let server = try PostgresConfiguration(url: try #require(Backend.postgresURL))
        let suffix = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(10)
        let owner = "warden_owner_\(suffix)", reader = "warden_reader_\(suffix)", database = "warden_test_owned_\(suffix)"
        try await PostgresStore.administer(server, "CREATE ROLE \(owner) LOGIN PASSWORD 'owner-pw'")
        try await PostgresStore.administer(server, "CREATE ROLE \(reader) LOGIN PASSWORD 'reader-pw'")
        try await PostgresStore.administer(server, "CREATE DATABASE \(database) OWNER \(owner)")
        var configuration = server
        configuration.database = database
        configuration.username = owner
        configuration.password = "owner-pw"
        configuration.maximumConnections = 4
        let store = try await PostgresStore(configuration: configuration)
        do {
            await #expect {
                try await store.runQuery("SELECT 1", parameters: [:], limits: QueryLimits())
            } throws: { error in
                guard let error = error as? QueryError, error.kind == .refused else { return false }
                return error.message.contains("may not create one") && error.message.contains("grant it CREATEROLE")
                    && error.message.contains("investigator_user=")
            }
            configuration.investigator = .init(username: reader, password: "reader-pw")
            let given = try await PostgresStore(configuration: configuration)
            _ = try await given.append([try event("e1")], receivedAt: 5)
            #expect(try await given.runQuery("SELECT count(*) AS n FROM events", parameters: [:], limits: QueryLimits()).rows == [[.integer(1)]])
            await #expect(throws: QueryError.self) {
                try await given.runQuery("SELECT * FROM public.event", parameters: [:], limits: QueryLimits())
            }
            configuration.investigator = .init(username: reader, password: "wrong")
            let wrong = try await PostgresStore(configuration: configuration)
            await #expect {
                try await wrong.runQuery("SELECT 1", parameters: [:], limits: QueryLimits())
            } throws: { error in
                (error as? QueryError)?.message.hasPrefix("the investigators' login \(reader) from the database URL cannot connect") == true
            }
            for opened in [store, given, wrong] { opened.shutdown() }
        } catch {
            store.shutdown()
            throw error
        }
        try await PostgresStore.dropDatabase(database, server: server)
        try await PostgresStore.administer(server, "DROP ROLE \(owner)")
        try await PostgresStore.administer(server, "DROP ROLE \(reader)")
    }

    @Test(arguments: Backend.underTest) func aRunawayQueryStopsAtItsDeadline(_ backend: Backend) async throws {
        try await seeded(backend) { (store: any ConformingStore) async throws in
            // Without the deadline this query never ends: the error is the proof it was stopped.
            await #expect(throws: QueryError(.timeout, "the query ran past its time limit of 200 ms and was stopped")) {
                try await run(store, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n", millis: 200)
            }
            #expect(try await run(store, "SELECT count(*) FROM events").rows == [[.integer(3)]])
        }
    }

    @Test(arguments: Backend.underTest) func rowsStopAtTheLimitAndParametersBind(_ backend: Backend) async throws {
        try await seeded(backend) { (store: any ConformingStore) async throws in
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

    @Test(arguments: Backend.underTest) func timeHelpers(_ backend: Backend) async throws {
        try await seeded(backend) { (store: any ConformingStore) async throws in
            let result = try await run(store, "SELECT iso(received_at), hour(received_at + 1800000), day(received_at), ago('1h') < received_at FROM events LIMIT 1")
            #expect(result.rows.first?.prefix(3).map(\.text) == ["2026-11-23T10:00:00Z", "2026-11-23T10:00Z", "2026-11-23"])
            await #expect(throws: QueryError.self) { try await run(store, "SELECT ago('soon')") }
            // Every store writes times as WardenCore does, milliseconds and times before 1970 too.
            for millis: Int64 in [0, 1, 999, 1_000, 1_795_428_123_456, -1, -1_500, 86_399_999, 951_782_400_000] {
                let row = try await run(store, "SELECT iso(:t), hour(:t), day(:t)", ["t": .integer(millis)]).rows.first
                #expect(row?.first == .text(Timestamp.formatRFC3339(millis)), "iso(\(millis))")
                #expect(row?[2] == .text(String(Timestamp.formatRFC3339(millis).prefix(10))), "day(\(millis))")
                #expect(row?[1] == .text(String(Timestamp.formatRFC3339(millis).prefix(13)) + ":00Z"), "hour(\(millis))")
            }
            let spans = try await run(store, "SELECT abs(ago('1h') - ago('1d') - 82800000) < 1000, abs(ago('30s') - ago('90m') - 5370000) < 1000")
            #expect(spans.rows == [[.integer(1), .integer(1)]])
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
