import Testing
import WardenCore
@testable import WardenInvestigations

/// The rule the store's authorizer hook applies, row by row: read the views, change nothing.
@Suite struct QueryAuthorizerTests {
    let authorizer = QueryAuthorizer(views: ["events": ["event.seq", "event.body"], "cases": ["review_case.id", "review_case.state"]])
    static let refused = "a query reads only the investigation views (cases, events), not "

    @Test(arguments: [
        (QueryAction.select, nil as String?),
        (.recursive, nil),
        (.read(table: "events", column: "seq", database: "temp", view: nil), nil),
        (.read(table: "events", column: "seq", database: "temp", view: "my_cte"), nil),
        (.read(table: "event", column: "body", database: "main", view: "events"), nil),
        (.read(table: "event", column: "", database: "main", view: nil), nil),
        (.read(table: "event", column: "", database: "main", view: "events"), nil),
        (.read(table: "n", column: "", database: nil, view: nil), nil),
        (.read(table: "json_each", column: "value", database: "main", view: nil), nil),
        (.function("count"), nil),
        (.function("json_extract"), nil),
        (.read(table: "event", column: "body", database: "main", view: nil), refused + "event.body"),
        // A CTE named like a view reads only what that view reads.
        (.read(table: "review_case", column: "state", database: "main", view: "events"), refused + "review_case.state"),
        (.read(table: "event", column: "entities", database: "main", view: "events"), refused + "event.entities"),
        (.read(table: "api_token", column: "secret_hash", database: "main", view: "cases"), refused + "api_token.secret_hash"),
        (.read(table: "api_token", column: "", database: "main", view: nil), refused + "api_token"),
        (.read(table: "api_token", column: "", database: "main", view: "events"), refused + "api_token"),
        (.read(table: "sqlite_master", column: "sql", database: "main", view: nil), refused + "sqlite_master.sql"),
        (.function("load_extension"), "a query may not call load_extension()"),
        (.function("LOAD_EXTENSION"), "a query may not call LOAD_EXTENSION()"),
        (.pragma("table_info"), "a query may not run PRAGMA table_info"),
        (.attach("/tmp/x.db"), "a query may not ATTACH a database"),
        (.detach("graph"), "a query may not DETACH a database"),
        (.other("insert"), "a query only reads: insert is not allowed"),
        (.other("transaction"), "a query only reads: transaction is not allowed"),
    ])
    func verdicts(action: QueryAction, refusal: String?) {
        #expect(authorizer.verdict(action) == (refusal.map(QueryVerdict.deny) ?? .allow))
    }
}

@Suite struct QueryParameterTests {
    @Test func namedParametersAreBoundInOrder() throws {
        let names = try QueryParameters.names([":since", ":queue"])
        #expect(names == ["since", "queue"])
        #expect(try QueryParameters.bind(names, ["queue": .text("spam"), "since": .integer(5)]) == [.integer(5), .text("spam")])
    }

    @Test(arguments: [
        ([":since"], [:], "parameter :since has no value; give it in parameters"),
        ([":since"], ["since": QueryValue.integer(1), "until": .integer(2)], "the query has no parameter :until; its parameters: :since"),
        ([], ["x": QueryValue.null], "the query has no parameters, but x was given"),
    ] as [([String], [String: QueryValue], String)])
    func badBindingsAreRefused(names: [String], given: [String: QueryValue], message: String) {
        #expect(throws: QueryError(.invalid, message)) {
            try QueryParameters.bind(QueryParameters.names(names), given)
        }
    }

    @Test func positionalParametersAreRefused() {
        #expect(throws: QueryError(.refused, "use named parameters such as :since (? has no name)")) { try QueryParameters.names([nil]) }
        #expect(throws: QueryError(.refused, "use named parameters such as :since (?2 has no name)")) { try QueryParameters.names(["?2"]) }
    }

    @Test(arguments: [
        (nil as Int?, nil as Int64?, QueryLimits(rows: 1_000, millis: 10_000) as QueryLimits?, nil as String?),
        (100_000, 60_000, QueryLimits(rows: 100_000, millis: 60_000), nil),
        (0, nil, nil, "limit is 0; give 1 to 100000 rows"),
        (nil, 60_001, nil, "timeout_ms is 60001; give 1 to 60000"),
    ])
    func limits(rows: Int?, millis: Int64?, limits: QueryLimits?, refusal: String?) throws {
        if let refusal {
            #expect(throws: QueryError(.invalid, refusal)) { try QueryLimits.checked(rows: rows, millis: millis) }
        } else {
            #expect(try QueryLimits.checked(rows: rows, millis: millis) == limits)
        }
    }

    @Test(arguments: [
        ("signups-by-hour", nil as String?),
        ("a", nil),
        ("Signups", "a saved query's name has 1 to 64 lower-case letters, digits, - and _, starting with a letter (not \"Signups\")"),
        ("1st", "a saved query's name has 1 to 64 lower-case letters, digits, - and _, starting with a letter (not \"1st\")"),
        ("", "a saved query's name has 1 to 64 lower-case letters, digits, - and _, starting with a letter (not \"\")"),
        (String(repeating: "a", count: 65), "a saved query's name has 1 to 64 lower-case letters, digits, - and _, starting with a letter (not \"\(String(repeating: "a", count: 65))\")"),
    ])
    func savedQueryNames(name: String, refusal: String?) {
        if let refusal {
            #expect(throws: QueryError(.invalid, refusal)) { try SavedQuery.check(name: name) }
        } else {
            #expect(throws: Never.self) { try SavedQuery.check(name: name) }
        }
    }

    @Test func emptyAndOverlongSQLIsRefused() {
        #expect(throws: QueryError(.invalid, "the query is empty: give one SELECT statement")) { try SavedQuery.check(sql: " \n\t") }
        #expect(throws: QueryError(.invalid, "the query has 20001 characters; keep it to 20000")) {
            try SavedQuery.check(sql: String(repeating: "x", count: 20_001))
        }
    }
}

@Suite struct QueryResultTests {
    let result = QueryResult(columns: ["hour", "type", "n", "n"], rows: [
        [.text("2026-11-30T10:00Z"), .text("signup"), .integer(3), .real(1.5)],
        [.text("2026-11-30T11:00Z"), .text("=HYPERLINK(\"x\")"), .integer(4), .null],
        [.text("2026-11-30T10:00Z"), .text("a,b"), .integer(2), .blob([0xde, 0xad])],
    ], truncated: false, elapsedMillis: 1)

    @Test func csvQuotesAndDisarmsFormulas() {
        #expect(result.csv == """
            hour,type,n,n\r
            2026-11-30T10:00Z,signup,3,1.5\r
            2026-11-30T11:00Z,"'=HYPERLINK(""x"")",4,\r
            2026-11-30T10:00Z,"a,b",2,dead\r

            """)
    }

    @Test func ndjsonHasAnObjectPerRowWithUniqueKeys() {
        let lines = result.ndjson.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[0] == #"{"hour":"2026-11-30T10:00Z","type":"signup","n":3,"n_2":1.5}"#)
        #expect(lines[1] == #"{"hour":"2026-11-30T11:00Z","type":"=HYPERLINK(\"x\")","n":4,"n_2":null}"#)
    }

    @Test func maskingTouchesTextOnly() {
        let masked = QueryResult(columns: ["who", "n"], rows: [[.text("jo@example.com"), .integer(1)]], truncated: false, elapsedMillis: 0)
            .masked { _ in "***" }
        #expect(masked.rows == [[.text("***"), .integer(1)]])
    }

    @Test func theChartSumsTheFirstNumberColumnOverTheFirstTimeColumn() throws {
        let chart = try #require(TimeChart.of(result))
        #expect(chart.timeColumn == "hour" && chart.valueColumn == "n")
        let ten = try #require(Timestamp.parseRFC3339("2026-11-30T10:00:00Z"))
        #expect(chart.points.map(\.at) == [ten, ten + 3_600_000])
        #expect(chart.points.map(\.value) == [5, 4])
    }

    @Test func rowsAreCountedWhenNoColumnIsANumberAndMillisecondsAreTimes() throws {
        let millis = QueryResult(columns: ["received_at", "type"], rows: [
            [.integer(1_764_500_000_000), .text("a")], [.integer(1_764_500_000_000), .text("b")], [.integer(1_764_503_600_000), .text("c")],
        ], truncated: false, elapsedMillis: 0)
        let chart = try #require(TimeChart.of(millis))
        #expect(chart.valueColumn == nil && chart.points.map(\.value) == [2, 1])
        #expect(TimeChart.of(QueryResult(columns: ["n"], rows: [[.integer(5)]], truncated: false, elapsedMillis: 0)) == nil)
        #expect(TimeChart.time(.text("2026-11-30")) == Timestamp.parseRFC3339("2026-11-30T00:00:00Z"))
    }
}

@Suite struct InvestigationViewTests {
    @Test func viewsHaveUniqueNamesAndColumns() {
        #expect(InvestigationViews.names.count == InvestigationViews.all.count)
        for view in InvestigationViews.all {
            #expect(Set(view.columns.map(\.name)).count == view.columns.count, "\(view.name)")
            #expect(view.columns.allSatisfy { ["integer", "real", "text", "json"].contains($0.type) }, "\(view.name)")
        }
    }
}

/// How an investigator's SQL is given to PostgreSQL: `:name` becomes `$n` outside strings, quoted
/// names, dollar-quoted bodies and comments, and one statement is all it may be.
@Suite struct PostgresQueryTextTests {
    @Test(arguments: [
        ("SELECT 1", "SELECT 1", [String]()),
        ("SELECT seq FROM events WHERE actor = :actor", "SELECT seq FROM events WHERE actor = $1", ["actor"]),
        ("SELECT :a, :b, :a", "SELECT $1, $2, $1", ["a", "b"]),
        ("SELECT seq::text, ':x', \":y\", $$ :z $$, $tag$ :w $tag$ FROM events WHERE seq > :after;",
         "SELECT seq::text, ':x', \":y\", $$ :z $$, $tag$ :w $tag$ FROM events WHERE seq > $1", ["after"]),
        ("SELECT 'it''s :not', E'\\' :still not' -- :comment\n, :yes", "SELECT 'it''s :not', E'\\' :still not' -- :comment\n, $1", ["yes"]),
        ("SELECT /* :a /* nested :b */ :c */ :d", "SELECT /* :a /* nested :b */ :c */ $1", ["d"]),
        ("  WITH x AS (SELECT :p AS v) SELECT v FROM x ;  -- done\n", "  WITH x AS (SELECT $1 AS v) SELECT v FROM x", ["p"]),
        ("SELECT data ->> '$.text', arr[1:2] FROM events", "SELECT data ->> '$.text', arr[1:2] FROM events", []),
        ("(SELECT 1)", "(SELECT 1)", []),
        ("VALUES (:v)", "VALUES ($1)", ["v"]),
        ("SELECT :état", "SELECT $1", ["état"]),
    ])
    func parametersAreNumberedAndTheRestIsKept(sql: String, body: String, names: [String]) throws {
        let text = try PostgresQueryText.parse(sql)
        #expect(text.body == body)
        #expect(text.names == names)
    }

    @Test(arguments: [
        ("SELECT 1; SELECT 2", QueryError(.refused, "give one statement per query (more follows: \"SELECT 2\")")),
        ("SELECT 1; :x", QueryError(.refused, "give one statement per query (more follows: \":x\")")),
        ("DELETE FROM event", QueryError(.refused, "a query only reads: delete is not allowed")),
        ("set role warden", QueryError(.refused, "a query only reads: set is not allowed")),
        ("SELECT * FROM events WHERE seq = $1", QueryError(.refused, "use named parameters such as :since ($1… has no name)")),
        ("SELECT 'open", QueryError(.refused, "a string ('…') is not closed")),
        ("SELECT \"open", QueryError(.refused, "a quoted name (\"…\") is not closed")),
        ("SELECT $x$ open", QueryError(.refused, "a dollar-quoted string ($x$…) is not closed")),
        ("SELECT /* open", QueryError(.refused, "a /* comment is not closed")),
        (" ; -- nothing\n", QueryError(.invalid, "the query is empty: give one SELECT statement")),
    ])
    func whatIsNotOneQueryIsRefused(sql: String, error: QueryError) {
        #expect(throws: error) { try PostgresQueryText.parse(sql) }
    }
}
