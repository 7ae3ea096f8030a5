import Foundation
public import Logging
import Metrics
public import ServiceLifecycle
import Synchronization
import WardenCore
import WardenReview
public import WardenStore

/// Turns signals and reports into cases: follows the signal table and the log's report events,
/// each with a cursor committed with the cases it changed (merging is idempotent on the signal id
/// or report seq, so a crash between batches never doubles anything).
public struct CaseBuilder: Service {
    private let review: ReviewService
    private let events: any EventStore
    private let logger: Logger

    public init(review: ReviewService, events: any EventStore, logger: Logger) {
        self.review = review
        self.events = events
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    if try await step() == 0 { try await Task.sleep(for: .milliseconds(100)) }
                } catch is CancellationError {
                    return
                } catch {
                    logger.error("case building failed; retrying", metadata: ["error": "\(error)"])
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        }
    }

    /// Merges one batch; returns how many signals and reports it read.
    @discardableResult
    public func step(limit: Int = 500) async throws -> Int {
        let store = review.store
        let policy = review.policy
        let cursors = try await store.caseBuilderCursors()
        let signals = try await store.signals(after: cursors.signals, limit: limit)
        let reports = try await events.events(after: cursors.reports, limit: limit, type: ReservedEventType.report)
        guard !signals.isEmpty || !reports.isEmpty else { return 0 }
        var inputs: [CaseInput] = []
        for signal in signals {
            // Signals about cases (SLA warnings and breaches) are already on their case.
            guard signal.caseID == nil, let subject = signal.subject,
                  policy.configuration.signalOpensCase(severity: signal.severity, requestedQueue: signal.queue, severities: policy.severities)
            else { continue }
            inputs.append(CaseInput(kind: .signal, ref: signal.id, subject: subject, category: signal.category, severity: signal.severity,
                                    rule: signal.rule, requestedQueue: signal.queue, at: signal.occurredAt))
        }
        // Reports count at the pack's second severity level (medium in the example pack); their
        // number and the reporters' trust raise the priority further.
        let reportSeverity = policy.severities.count > 1 ? policy.severities[1] : (policy.severities.first ?? "medium")
        for event in reports {
            guard let body = JSONValue.parse(event.body), case .string(let reason)? = body["data"]?["reason"],
                  case .string(let subjectText)? = body["data"]?["subject"], let subject = EntityRef(parsing: subjectText) else {
                logger.warning("report event without reason or subject skipped", metadata: ["seq": "\(event.seq)"])
                continue
            }
            var reporter: String?
            if case .string(let type)? = body["actor"]?["type"], case .string(let id)? = body["actor"]?["id"] { reporter = "\(type):\(id)" }
            inputs.append(CaseInput(kind: .report, ref: event.seq, subject: subject, category: reason, severity: reportSeverity,
                                    reporter: reporter, at: event.occurredAt))
        }
        try await store.mergeIntoCases(inputs, signalsThrough: signals.last?.id ?? cursors.signals,
                                       reportsThrough: reports.last?.seq ?? cursors.reports, policy: policy, now: review.clock.nowMillis())
        return signals.count + reports.count
    }
}
