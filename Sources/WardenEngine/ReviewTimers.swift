import Foundation
public import Logging
public import Metrics
public import ServiceLifecycle
import Synchronization
public import WardenCore
public import WardenReview
public import WardenStore

/// The review clocks: returns abandoned claims to their queues when their lease lapses, and
/// raises SLA warnings and breaches as they fall due (timeline, audit, webhook, and the
/// `warden_sla_events_total` metric by queue and event).
public struct ReviewTimers: Service {
    private let review: ReviewService
    private let interval: Duration
    private let logger: Logger
    private let metrics: any MetricsFactory

    public init(review: ReviewService, interval: Duration = .seconds(1), logger: Logger, metrics: any MetricsFactory = MetricsSystem.factory) {
        self.review = review
        self.interval = interval
        self.logger = logger
        self.metrics = metrics
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await tick()
                    try await Task.sleep(for: interval)
                } catch is CancellationError {
                    return
                } catch {
                    logger.error("review timers failed; retrying", metadata: ["error": "\(error)"])
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        }
    }

    /// One pass: expire leases, raise due SLA events.
    public func tick() async throws {
        let policy = review.policy
        let now = review.clock.nowMillis()
        let expired = try await review.store.expireLeases(policy: policy, now: now)
        if expired > 0 { logger.info("claims returned to their queues after their lease lapsed", metadata: ["cases": "\(expired)"]) }
        while true {
            let events = try await review.store.raiseSLAEvents(policy: policy, now: now, limit: 500)
            for event in events {
                Counter(label: WardenMetric.slaEvents.rawValue, dimensions: [("queue", event.queue), ("event", event.event.rawValue)], factory: metrics).increment()
                if event.event.isBreach {
                    logger.warning("SLA breached", metadata: ["case": "\(event.caseID)", "queue": "\(event.queue)", "event": "\(event.event.rawValue)"])
                }
            }
            if events.count < 500 { break }
        }
    }
}
