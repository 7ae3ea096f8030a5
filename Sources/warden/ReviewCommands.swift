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
            let opened = try await OpenedDataDir(data, exclusive: false)
            let total = try await opened.store.auditHead().map { Int($0.seq) }
            var progress = ProgressBar(label: "audit entries", total: total)
            let result = try await AuditVerification.verify(opened.store, digest: SQLiteStore.auditDigest) { progress.update(Int($0)) }
            progress.finish()
            let failure = result.failure
            let headHex = result.head.hexString
            if json {
                var object: [String: Any] = ["intact": failure == nil, "entries_checked": result.checked, "head": headHex]
                if let failure {
                    object["broken_at"] = failure.seq.map { $0 as Any } ?? NSNull()
                    object["reason"] = failure.reason
                }
                printJSON(object)
            } else if let failure {
                print("audit log BROKEN: \(failure)")
                print("entries before it verified: \(result.checked)")
            } else {
                print("audit log intact: \(result.checked) entries, head \(headHex)")
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
            let opened = try await OpenedDataDir(data, exclusive: false)
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

/// `warden submit statements-of-reasons`: sends statements of reasons to the EU DSA Transparency Database.
struct Submit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Submit data to regulators.",
        subcommands: [StatementsOfReasons.self]
    )

    struct StatementsOfReasons: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "statements-of-reasons",
            abstract: "Send every statement of reasons not yet submitted to the EU DSA Transparency Database's API.",
            discussion: """
                Statements go in batches of up to 100 to POST <endpoint>/api/v1/statements with the platform's API token \
                (Authorization: Bearer). Each is checked against the database's rules first; one that would be refused \
                is recorded as refused with the reasons and not sent. What the database created or already holds (same \
                puid) is recorded and never sent again, so running this again after an interruption sends only the rest. \
                408, 429, 5xx and connection errors are retried with backoff (Retry-After when given); after \
                --max-attempts the run stops and the rest stays pending. Exit status 0 when everything pending was \
                sent or refused, 1 when the run stopped early. Safe to run while the server runs.

                Example (sandbox first, as the database's onboarding asks):
                  WARDEN_DSA_TOKEN=... warden submit statements-of-reasons --endpoint https://transparency.dsa.ec.europa.eu
                """
        )
        @OptionGroup var data: DataDirOption
        @Option(help: "The database's base address (its sandbox while onboarding).") var endpoint: String
        @Option(help: "The environment variable that holds the platform's API token.") var tokenEnv = "WARDEN_DSA_TOKEN"
        @Option(help: "Statements per call (1-100).") var batchSize = 100
        @Option(help: "Attempts per batch before the run stops.") var maxAttempts = 6
        @Flag(help: "Also send statements refused before (after fixing the pack or the data).") var includeRefused = false
        @Flag(help: "Print the summary as JSON.") var json = false

        func validate() throws {
            guard (1...100).contains(batchSize) else { throw ValidationError("--batch-size must be 1-100 (the database takes at most 100 per call)") }
            guard maxAttempts >= 1 else { throw ValidationError("--max-attempts must be at least 1") }
            guard let url = URL(string: endpoint), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
                throw ValidationError("--endpoint \(endpoint) is not an http(s) address")
            }
        }

        func run() async throws {
            guard let token = ProcessInfo.processInfo.environment[tokenEnv], !token.isEmpty else {
                throw ValidationError("set \(tokenEnv) to the platform's Transparency Database API token (generated in its user profile)")
            }
            let opened = try await OpenedDataDir(data, exclusive: false)
            var settings = TransparencySubmitter.Settings(endpoint: endpoint, token: token)
            settings.batchSize = batchSize
            settings.maxAttempts = maxAttempts
            settings.includeRefused = includeRefused
            let pending = try await opened.store.submissionCounts()
            let total = (pending["unsubmitted"] ?? 0) + (includeRefused ? pending["refused"] ?? 0 : 0)
            try await opened.store.audit(actor: ActorRef(.cli, NSUserName()), action: "submit.statements_of_reasons", target: "statements",
                                         detail: #"{"endpoint":"\#(endpoint)","pending":\#(total)}"#, now: SystemWallClock().nowMillis())
            var progress = ProgressBar(label: "statements", total: total)
            let summary: TransparencySubmitter.Summary
            var failed = false
            do {
                summary = try await TransparencySubmitter(store: opened.store, settings: settings).submit { progress.update($0.considered) }
            } catch let stopped as TransparencySubmitter.Stopped {
                summary = stopped.summary
                failed = true
            }
            progress.finish()
            let after = try await opened.store.submissionCounts()
            if json {
                var object: [String: Any] = ["considered": summary.considered, "created": summary.created, "already_present": summary.alreadyPresent,
                                             "refused_locally": summary.refusedLocally, "refused_by_database": summary.refusedByDatabase,
                                             "calls": summary.calls, "retries": summary.retries, "pending": after["unsubmitted"] ?? 0]
                object["stopped"] = summary.stopped ?? NSNull()
                object["refusals"] = summary.refusals.map { ["decision_id": $0.decisionID, "reason": $0.reason] as [String: Any] }
                printJSON(object)
            } else {
                print("""
                    considered \(summary.considered): created \(summary.created), already in the database \(summary.alreadyPresent), \
                    refused before sending \(summary.refusedLocally), refused by the database \(summary.refusedByDatabase)
                    \(summary.calls) call(s), \(summary.retries) retried; \(after["unsubmitted"] ?? 0) still pending, \(after["refused"] ?? 0) refused in all
                    """)
                if let stopped = summary.stopped { print("stopped: \(stopped)") }
                for refusal in summary.refusals.prefix(20) { print("refused: decision \(refusal.decisionID): \(refusal.reason)") }
                if summary.refusals.count > 20 { print("… and \(summary.refusals.count - 20) more (--json lists them all)") }
            }
            if failed { throw ExitCode(1) }
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
            let opened = try await OpenedDataDir(data, exclusive: false)
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
            let opened = try await OpenedDataDir(data, exclusive: false)
            let count = try await opened.store.redrive(ids: ids.isEmpty ? nil : ids, actor: ActorRef(.cli, NSUserName()), now: SystemWallClock().nowMillis())
            if json { printJSON(["redriven": count]) } else { print("\(count) deliver\(count == 1 ? "y" : "ies") put back in line") }
        }
    }
}
