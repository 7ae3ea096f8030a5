import Foundation
import Testing
import WardenCore
import WardenInvestigations
import WardenReview
@testable import WardenStore

/// `warden migrate`'s copy: an SQLite store that has lived a day of review, copied into an empty
/// PostgreSQL database, reads back the same there, and goes on from where it was.
@Suite(.enabled(if: Backend.postgresURL != nil, "needs a PostgreSQL server (WARDEN_TEST_POSTGRES_URL; scripts/test starts one)"))
struct MigrateTests {
    typealias Day = ReviewConformanceTests

    /// Everything a reader sees, without changing anything.
    static func readBack(_ store: any ConformingStore) async throws -> [String] {
        var lines: [String] = []
        func note(_ label: String, _ value: Any) { lines.append("\(label): \(value)") }
        note("events", try await store.events(after: 0, limit: 1_000, type: nil).map { "\($0.seq) \($0.id) \($0.receivedAt)" })
        note("statistics", try await store.statistics().eventCount)
        for id in Int64(1)...4 {
            note("case \(id)", try await store.caseRecord(id: id) as Any)
            note("timeline \(id)", try await store.timeline(caseID: id))
            note("decisions \(id)", try await store.decisions(caseID: id))
        }
        note("reporters", try await store.reporters(caseID: 1))
        note("cases", try await store.cases(CaseQuery(limit: 10)).map(\.id))
        note("outbox", try await store.outbox(state: nil, limit: 100))
        note("statements", try await store.statements(from: 0, to: Int64.max, after: 0, limit: 10))
        note("submission counts", try await store.submissionCounts().sorted { $0.key < $1.key })
        note("cursors", try await store.caseBuilderCursors())
        note("tokens", try await store.tokens().map(\.id))
        note("audit", try await store.auditEntries(after: 0, limit: 1_000).map { "\($0.seq) \($0.action) \($0.target) \($0.hash.hexString)" })
        note("audit head", try await store.auditHead().map { "\($0.seq) \($0.hash.hexString)" } as Any)
        return lines
    }

    @Test func aStoreCopiedIntoPostgreSQLReadsBackTheSameAndGoesOn() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("warden-migrate-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("warden.sqlite").path
        let source = try SQLiteStore(path: path)
        _ = try await source.append((1...12).map { try event("e\($0)", actor: "u\($0 % 3)") }, receivedAt: 1_000)
        try await source.insertToken(APITokenRecord(id: "t1", name: "ops", secretHash: Array(repeating: 7, count: 32), scopes: [.admin], createdAt: 5))
        _ = try await Day.reviewDay(source)
        // A derived table, refreshed: its rows come across and its view is defined there.
        let audit = AuditDraft(at: 1, actor: "user:ana", action: "query.save", target: "query:by-actor", detail: "{}")
        let sql = "SELECT actor, count(*) AS n, avg(seq) AS mean FROM events GROUP BY actor ORDER BY actor"
        _ = try await source.saveQuery(SavedQuery(name: "by-actor", description: "", sql: sql, parameters: [], createdBy: "user:ana", createdAt: 1,
                                                  updatedBy: "user:ana", updatedAt: 1), onlyNew: true, audit: audit)
        var derived = DerivedTable(query: "by-actor", schedule: DerivedSchedule(every: 60_000, mode: .full, cursorColumn: nil), nextAt: 2, scheduledBy: "user:ana")
        #expect(try await source.scheduleDerived(derived, audit: audit))
        let result = try await source.runQuery(sql, parameters: [:], limits: QueryLimits())
        derived.columns = result.columns
        try await source.storeRefresh(derived, rows: result.rows, replace: true, audit: audit)
        let view = "SELECT * FROM derived_by_actor ORDER BY actor"
        let viewed = try await source.runQuery(view, parameters: [:], limits: QueryLimits()).rows
        #expect(viewed.count == 3)
        let before = try await Self.readBack(source)

        let database = try await PostgresTestDatabase.create()
        do {
            let report = try await StoreCopy.sqliteToPostgres(sqlitePath: path, target: database.configuration)
            #expect(report.events == 12 && report.auditEntries > 10)
            #expect(report.tables.first?.name == "event" && report.tables.contains { $0.name == "review_case" && $0.rows == 4 })
            let counts = try await StoreCopy.counts(sqlitePath: path, target: database.configuration, tables: report.tables.map(\.name))
            for count in counts where count.source != count.target {
                Issue.record("\(count.table): \(count.source) rows in SQLite, \(count.target) in PostgreSQL")
            }
            // A second copy into the same database is refused: it holds a store now.
            await #expect(throws: StoreCopy.CopyError.self) { try await StoreCopy.sqliteToPostgres(sqlitePath: path, target: database.configuration) }

            let copy = try await database.open()
            let after = try await Self.readBack(copy)
            #expect(after.count == before.count)
            // Claim tallies are not copied: the target's trigger counts the timeline as it arrives.
            let today = ExposurePolicy.startOfDay(Day.now)
            for reviewer in [Day.ana, Day.bo] {
                let tally = try await source.claimsByCategory(by: reviewer, onDay: today)
                #expect(!tally.isEmpty)
                #expect(try await copy.claimsByCategory(by: reviewer, onDay: today) == tally)
            }
            for (left, right) in zip(before, after) where left != right {
                Issue.record("the copy differs:\n  sqlite:   \(left)\n  postgres: \(right)")
            }
            #expect(try await copy.runQuery(view, parameters: [:], limits: QueryLimits()).rows == viewed)
            // It goes on: the log from its head, cases and identities from their last numbers.
            #expect(try await copy.append([try event("e13")], receivedAt: 2_000) == [.accepted(seq: 13)])
            let merged = try await copy.mergeIntoCases([CaseInput(kind: .signal, ref: 9, subject: EntityRef(type: "user", id: "u9"), category: "spam",
                                                                  severity: "low", rule: "r", at: Day.now)],
                                                       signalsThrough: 9, reportsThrough: 11, policy: Day.policy, now: Day.now + 100)
            #expect(merged == [5])
            let job = try await copy.saveModel(StoredClassifierModel(name: "m", version: 0, kind: "nb", createdAt: 1, trainedOn: "x", examples: 1,
                                                                     labels: ["a"], metrics: "{}", data: [1]))
            #expect(job == 1)
            copy.shutdown()
            try await database.drop()
        } catch {
            try? await database.drop()
            throw error
        }
    }
}
