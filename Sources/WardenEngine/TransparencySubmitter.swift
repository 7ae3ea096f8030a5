import AsyncHTTPClient
import Foundation
import NIOCore
public import WardenCore
import WardenReview
public import WardenStore

/// Submits statements of reasons to the EU DSA Transparency Database's API
/// (`POST {endpoint}/api/v1/statements`, up to 100 per call, `Authorization: Bearer <token>`).
///
/// - Each statement is checked against the database's rules first (`TransparencyDatabase.problems`);
///   one that would be refused is recorded as refused, with the reasons, and not sent.
/// - Idempotent by `puid`: what the database created or already held is recorded and never sent
///   again; when a batch is refused because some puids are already there (an earlier run that
///   lost its answer), those are recorded as already present and the rest is sent again at once.
/// - The database takes a batch whole or not at all, so statements it refuses by position are
///   recorded with its reasons and the rest is sent again without them.
/// - 408, 429, 5xx and connection errors are retried with exponential backoff and jitter
///   (`Retry-After` when given), up to `maxAttempts` per batch; then the run stops, and what was not
///   sent stays pending for the next run. A refused token (401) or any other 4xx stops the run.
public struct TransparencySubmitter: Sendable {
    /// Where and how to submit.
    public struct Settings: Sendable {
        /// The database's base address (`https://transparency.dsa.ec.europa.eu`, or the sandbox's).
        public var endpoint: String
        /// The platform's API token (generated in the database's user profile).
        public var token: String
        /// Statements per call (at most 100).
        public var batchSize: Int = TransparencyDatabase.batchLimit
        /// Attempts per batch before the run gives up.
        public var maxAttempts: Int = 6
        /// First retry delay and cap (ms).
        public var baseDelay: Int64 = 1000
        public var maxDelay: Int64 = 60_000
        /// Per-call timeout (ms).
        public var timeout: Int64 = 30_000
        /// Also send statements an earlier run recorded as refused (after the pack or data was fixed).
        public var includeRefused = false

        public init(endpoint: String, token: String) {
            self.endpoint = endpoint
            self.token = token
        }
    }

    /// What a run did.
    public struct Summary: Sendable, Equatable {
        /// Statements considered (pending when the run started, as far as it got).
        public var considered = 0
        /// Created by the database in this run.
        public var created = 0
        /// Already held by the database (an earlier submission's answer was lost).
        public var alreadyPresent = 0
        /// Refused by the check before sending.
        public var refusedLocally = 0
        /// Refused by the database.
        public var refusedByDatabase = 0
        /// Calls made, and of them retried after a transient failure.
        public var calls = 0
        public var retries = 0
        /// Why the run stopped early, if it did (the rest stays pending).
        public var stopped: String?
        /// The statements refused in this run (decision id, why), oldest first.
        public var refusals: [Refusal] = []

        public init() {}
    }

    /// A statement refused, and why.
    public struct Refusal: Sendable, Equatable {
        public var decisionID: Int64
        public var reason: String
    }

    /// A run stopped before it sent everything.
    public struct Stopped: Error, CustomStringConvertible {
        public var summary: Summary
        public var description: String { summary.stopped ?? "stopped" }
    }

    private let store: any StatementStore
    private let settings: Settings
    private let clock: any WallClock
    private let http: HTTPClient

    public init(store: any StatementStore, settings: Settings, clock: any WallClock = SystemWallClock()) {
        self.store = store
        self.settings = settings
        self.clock = clock
        self.http = .shared
    }

    /// Sends every pending statement; `progress` sees the running summary after each batch.
    /// Throws `Stopped` (with the summary so far) when it cannot go on.
    @discardableResult
    public func submit(progress: (Summary) -> Void = { _ in }) async throws -> Summary {
        var summary = Summary()
        let batchSize = max(1, min(settings.batchSize, TransparencyDatabase.batchLimit))
        var after: Int64 = 0
        while true {
            let page = try await store.unsubmittedStatements(after: after, limit: batchSize, refused: settings.includeRefused)
            guard let last = page.last else { break }
            after = last.decisionID
            summary.considered += page.count
            var batch: [(decisionID: Int64, puid: String, body: String)] = []
            var outcomes: [StatementSubmission] = []
            for statement in page {
                let parsed = JSONValue.parse(Array(statement.body.utf8))
                let problems = parsed.map(TransparencyDatabase.problems) ?? [.init("statement", "is not JSON")]
                if problems.isEmpty, case .string(let puid)? = parsed?["puid"] {
                    batch.append((statement.decisionID, puid, statement.body))
                } else {
                    outcomes.append(StatementSubmission(decisionID: statement.decisionID, outcome: .refused,
                                                        detail: "not sent: " + problems.map(\.description).joined(separator: "; ")))
                    summary.refusedLocally += 1
                    summary.refusals.append(Refusal(decisionID: statement.decisionID, reason: outcomes[outcomes.count - 1].detail ?? ""))
                }
            }
            try await store.recordSubmissions(outcomes, now: clock.nowMillis())
            try await send(batch, summary: &summary)
            progress(summary)
        }
        return summary
    }

    private func send(_ initial: [(decisionID: Int64, puid: String, body: String)], summary: inout Summary) async throws {
        var batch = initial
        var attempts = 0
        while !batch.isEmpty {
            let (status, body, retryAfter) = await call(batch.map(\.body))
            summary.calls += 1
            let reply: TransparencyDatabase.Reply = switch status {
            case .some(let status): TransparencyDatabase.reply(status: status, body: body.flatMap { JSONValue.parse($0) }, retryAfterSeconds: retryAfter,
                                                               puids: batch.map(\.puid))
            case nil: .retry(reason: body.map { String(decoding: $0, as: UTF8.self) } ?? "no answer", retryAfter: nil)
            }
            let now = clock.nowMillis()
            switch reply {
            case .created(let uuids):
                try await store.recordSubmissions(batch.map { StatementSubmission(decisionID: $0.decisionID, outcome: .created, uuid: uuids[$0.puid]) }, now: now)
                summary.created += batch.count
                batch = []
            case .alreadyPresent(let puids):
                let present = batch.filter { puids.contains($0.puid) }
                try await store.recordSubmissions(present.map { StatementSubmission(decisionID: $0.decisionID, outcome: .alreadyPresent) }, now: now)
                summary.alreadyPresent += present.count
                batch.removeAll { puids.contains($0.puid) }
            case .refused(let reasons):
                let refused = reasons.keys.sorted().map { (batch[$0], reasons[$0] ?? "") }
                try await store.recordSubmissions(refused.map { StatementSubmission(decisionID: $0.0.decisionID, outcome: .refused, detail: $0.1) }, now: now)
                summary.refusedByDatabase += refused.count
                summary.refusals += refused.map { Refusal(decisionID: $0.0.decisionID, reason: $0.1) }
                let indexes = Set(reasons.keys)
                batch = batch.enumerated().filter { !indexes.contains($0.offset) }.map(\.element)
            case .retry(let reason, let retryAfter):
                attempts += 1
                guard attempts < settings.maxAttempts else {
                    summary.stopped = "gave up after \(attempts) attempts (\(reason)); \(batch.count) statement(s) stay pending for the next run"
                    throw Stopped(summary: summary)
                }
                summary.retries += 1
                let delay = retryAfter ?? OutboxDeliverer.backoff(attempt: attempts, base: settings.baseDelay, cap: settings.maxDelay,
                                                                  jitter: Double.random(in: 0..<1))
                try await Task.sleep(for: .milliseconds(min(delay, settings.maxDelay)))
            case .fatal(let message):
                summary.stopped = message
                throw Stopped(summary: summary)
            }
        }
    }

    /// One call: the status, the body and `Retry-After` (seconds), or no status and the error's text.
    private func call(_ bodies: [String]) async -> (Int?, [UInt8]?, Int64?) {
        var payload = Array(#"{"statements":["#.utf8)
        for (index, body) in bodies.enumerated() {
            if index > 0 { payload.append(UInt8(ascii: ",")) }
            payload.append(contentsOf: body.utf8)
        }
        payload.append(contentsOf: "]}".utf8)
        let base = settings.endpoint.hasSuffix("/") ? String(settings.endpoint.dropLast()) : settings.endpoint
        var request = HTTPClientRequest(url: base + "/api/v1/statements")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(settings.token)")
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: payload))
        do {
            let response = try await http.execute(request, timeout: .milliseconds(settings.timeout))
            let body = try await response.body.collect(upTo: 32 << 20)
            let retryAfter = response.headers.first(name: "Retry-After").flatMap { Int64($0.trimmingCharacters(in: .whitespaces)) }
            return (Int(response.status.code), Array(buffer: body), retryAfter)
        } catch {
            return (nil, Array("\(error)".utf8), nil)
        }
    }
}
