import ArgumentParser
import Foundation
import WardenCore
import WardenEngine
import WardenStore

/// `warden audit verify`: walks the audit chain and reports the first broken link.
struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the audit log.",
        subcommands: [Verify.self]
    )

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify the audit log's hash chain: finds any edited, deleted or reordered entry and says where.",
            discussion: """
                Each entry's hash covers the previous entry's hash and its own content (SHA-256). The walk \
                recomputes every hash and checks that sequence numbers have no gaps and that the chain ends at \
                the head the store records apart. Exit status 0 when intact, 1 when broken. Safe to run while \
                the server runs (it only reads).
                """
        )
        @OptionGroup var data: DataDirOption
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let opened = try OpenedDataDir(path: data.dataDir, exclusive: false)
            let head = try await opened.store.auditHead()
            var verifier = AuditChain.Verifier(digest: SQLiteStore.auditDigest)
            var progress = ProgressBar(label: "audit entries", total: head.map { Int($0.seq) })
            var failure: AuditChain.Break?
            var after: Int64 = 0
            walk: while true {
                let page = try await opened.store.auditEntries(after: after, limit: 5000)
                for entry in page {
                    do {
                        try verifier.check(entry)
                    } catch {
                        failure = error
                        break walk
                    }
                }
                progress.update(Int(verifier.count))
                guard let last = page.last, page.count == 5000 else { break }
                after = last.seq
            }
            if failure == nil {
                do { try verifier.finish(expectedHead: head) } catch { failure = error }
            }
            progress.finish()
            let headHex = verifier.head.hexString
            if json {
                var object: [String: Any] = ["intact": failure == nil, "entries_checked": verifier.count, "head": headHex]
                if let failure {
                    object["broken_at"] = failure.seq.map { $0 as Any } ?? NSNull()
                    object["reason"] = failure.reason
                }
                printJSON(object)
            } else if let failure {
                print("audit log BROKEN: \(failure)")
                print("entries before it verified: \(verifier.count)")
            } else {
                print("audit log intact: \(verifier.count) entries, head \(headHex)")
            }
            if failure != nil { throw ExitCode(1) }
        }
    }
}

/// `warden export statements-of-reasons`: every statement of reasons in a time range, as NDJSON.
struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export data for regulators and partners.",
        subcommands: [StatementsOfReasons.self]
    )

    struct StatementsOfReasons: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "statements-of-reasons",
            abstract: "Write statements of reasons (EU DSA Transparency Database fields) as NDJSON, the whole range, no cap."
        )
        @OptionGroup var data: DataDirOption
        @Option(help: "From this date or time (2026-11-01 or RFC 3339), inclusive.") var from: String?
        @Option(help: "Up to this date or time, exclusive.") var to: String?
        @Option(name: .shortAndLong, help: "Write to this file instead of standard output.") var output: String?

        func run() async throws {
            func time(_ text: String?, _ fallback: Int64, _ name: String) throws -> Int64 {
                guard let text else { return fallback }
                guard let value = Timestamp.parseRFC3339(text) ?? Timestamp.parseRFC3339(text + "T00:00:00Z") else {
                    throw ValidationError("--\(name) \(text) is not a date (2026-11-01) or an RFC 3339 time")
                }
                return value
            }
            let start = try time(from, 0, "from")
            let end = try time(to, Int64.max, "to")
            guard start < end else { throw ValidationError("--from must be before --to") }
            let opened = try OpenedDataDir(path: data.dataDir, exclusive: false)
            let handle: FileHandle
            if let output {
                guard FileManager.default.createFile(atPath: output, contents: nil), let file = FileHandle(forWritingAtPath: output) else {
                    throw ValidationError("cannot write \(output)")
                }
                handle = file
            } else {
                handle = FileHandle.standardOutput
            }
            try await opened.store.audit(actor: ActorRef(.cli, NSUserName()), action: "export.statements_of_reasons", target: "statements",
                                         detail: "{}", now: SystemWallClock().nowMillis())
            var progress = ProgressBar(label: "statements", total: nil)
            var count = 0
            var after: Int64 = 0
            while true {
                let page = try await opened.store.statements(from: start, to: end, after: after, limit: 5000)
                if page.isEmpty { break }
                var chunk = Data()
                for statement in page {
                    chunk.append(contentsOf: Array(statement.body.utf8))
                    chunk.append(0x0A)
                }
                handle.write(chunk)
                count += page.count
                progress.update(count)
                after = page.last?.decisionID ?? after
                if page.count < 5000 { break }
            }
            progress.finish()
            if output != nil {
                try handle.close()
                FileHandle.standardError.write(Data("wrote \(count) statements of reasons to \(output ?? "")\n".utf8))
            }
        }
    }
}

/// `warden outbox`: see and redrive webhook deliveries.
struct Outbox: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Inspect enforcement webhook deliveries and redrive dead ones.",
        subcommands: [List.self, Redrive.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List deliveries, newest first.")
        @OptionGroup var data: DataDirOption
        @Option(help: "pending, delivered or dead.") var state: String?
        @Option(help: "How many.") var limit = 50
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            var filter: OutboxItem.State?
            if let state {
                guard let parsed = OutboxItem.State(rawValue: state) else { throw ValidationError("--state must be pending, delivered or dead") }
                filter = parsed
            }
            let opened = try OpenedDataDir(path: data.dataDir, exclusive: false)
            let items = try await opened.store.outbox(state: filter, limit: limit)
            if json {
                printJSON(["deliveries": items.map { item -> [String: Any] in
                    ["id": item.id, "topic": item.topic, "idempotency_key": item.idempotencyKey, "state": item.state.rawValue,
                     "attempts": item.attempts, "last_error": item.lastError ?? NSNull()]
                }])
            } else {
                for item in items {
                    print("\(item.id)  \(item.state.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0))  \(item.topic.padding(toLength: 15, withPad: " ", startingAt: 0))  attempts \(item.attempts)  \(item.idempotencyKey)\(item.lastError.map { "  last error: \($0)" } ?? "")")
                }
            }
        }
    }

    struct Redrive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put dead-lettered deliveries back in line (all of them, or those named).",
            discussion: "The running server's deliverer picks them up at once; each keeps its idempotency key, so a receiver that did get an earlier attempt applies it once."
        )
        @OptionGroup var data: DataDirOption
        @Option(name: .customLong("id"), help: "A delivery id (repeatable); all dead ones when omitted.") var ids: [Int64] = []
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let opened = try OpenedDataDir(path: data.dataDir, exclusive: false)
            let count = try await opened.store.redrive(ids: ids.isEmpty ? nil : ids, actor: ActorRef(.cli, NSUserName()), now: SystemWallClock().nowMillis())
            if json { printJSON(["redriven": count]) } else { print("\(count) deliver\(count == 1 ? "y" : "ies") put back in line") }
        }
    }
}
