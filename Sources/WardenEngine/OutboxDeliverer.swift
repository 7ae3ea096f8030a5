import AsyncHTTPClient
import Crypto
import Foundation
import Synchronization
public import Logging
public import Metrics
import NIOCore
public import ServiceLifecycle
public import WardenCore
public import WardenStore

/// Delivers the outbox to the product's webhook: at least once, in order of due time, each
/// delivery signed and carrying its `Idempotency-Key` (the same on every attempt, so the receiver
/// applies each action once). 2xx is delivered; timeouts, connection errors, 408, 429 and 5xx are
/// retried with exponential backoff and jitter until `max_attempts`, then dead-lettered; other
/// 4xx answers are dead-lettered at once (the product refused the payload; retrying cannot help).
/// `warden outbox redrive` or `POST /v1/outbox/redrive` puts dead deliveries back in line.
///
/// When the endpoint is down (ten retryable failures in a row) the deliverer stops hammering it:
/// it sends one probe delivery per interval (1 s, doubling to 30 s) until one succeeds, then
/// resumes at full speed. An outage then costs the store a write every few seconds instead of one
/// per attempt, and the backlog drains as soon as the product is back.
///
/// The same guarantees carry pages and incident updates to the notification channels of
/// `oncall.yaml` (chat webhooks, PagerDuty, other signed webhooks): each delivery names its
/// destination, and each destination has its own settings and its own circuit breaker, so a
/// chat outage never holds up enforcement.
public struct OutboxDeliverer: Service {
    private let store: any OutboxStore
    private let settings: @Sendable () -> WebhookSettings
    private let channels: @Sendable () -> [String: WebhookSettings]
    private let clock: any WallClock
    private let http: HTTPClient
    private let concurrency: Int
    private let logger: Logger
    private let delivered: Counter
    private let failed: Counter
    private let dead: Counter
    private let healths = EndpointHealths()

    public init(store: any OutboxStore, settings: @escaping @Sendable () -> WebhookSettings,
                channels: @escaping @Sendable () -> [String: WebhookSettings] = { [:] }, clock: any WallClock = SystemWallClock(),
                concurrency: Int = 8, logger: Logger, metrics: any MetricsFactory = MetricsSystem.factory) {
        self.store = store
        self.settings = settings
        self.channels = channels
        self.clock = clock
        self.http = .shared
        self.concurrency = concurrency
        self.logger = logger
        delivered = Counter(label: WardenMetric.webhookDeliveries.rawValue, dimensions: [("outcome", "delivered")], factory: metrics)
        failed = Counter(label: WardenMetric.webhookDeliveries.rawValue, dimensions: [("outcome", "retry")], factory: metrics)
        dead = Counter(label: WardenMetric.webhookDeliveries.rawValue, dimensions: [("outcome", "dead")], factory: metrics)
    }

    private func health(_ destination: String) -> EndpointHealth {
        healths.byDestination.withLock { healths in
            if let health = healths[destination] { return health }
            let health = EndpointHealth()
            healths[destination] = health
            return health
        }
    }

    /// Spaces attempts to at most `maxPerSecond`.
    private let pacer = Pacer()

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var warned = false
            while !Task.isCancelled {
                do {
                    let settings = self.settings()
                    var attempted = 0
                    if settings.isConfigured {
                        attempted += try await deliverDue(settings)
                    } else if !warned {
                        logger.warning("enforcement webhooks wait in the outbox: set the webhook url and secret in enforcement.yaml (WARDEN_WEBHOOK_URL, WARDEN_WEBHOOK_SECRET in the example pack)")
                        warned = true
                    }
                    for (name, channel) in channels().sorted(by: { $0.key < $1.key }) where channel.isConfigured {
                        attempted += try await deliverDue(channel, destination: name)
                    }
                    if attempted == 0 { try await Task.sleep(for: .milliseconds(settings.isConfigured ? 100 : 500)) }
                } catch is CancellationError {
                    return
                } catch {
                    logger.error("outbox delivery failed; retrying", metadata: ["error": "\(error)"])
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        }
    }

    /// Attempts every delivery to `destination` due now (up to a batch); returns how many were attempted.
    @discardableResult
    public func deliverDue(_ settings: WebhookSettings, destination: String = "") async throws -> Int {
        guard settings.isConfigured, let url = settings.url else { return 0 }
        let secret = settings.secret
        let health = health(destination)
        let limit: Int
        switch health.admission(now: clock.nowMillis()) {
        case .open: limit = concurrency * 8
        case .probe: limit = 1
        case .wait: return 0
        }
        let due = try await store.dueDeliveries(now: clock.nowMillis(), limit: limit, destination: destination)
        guard !due.isEmpty else { return 0 }
        // Accepted deliveries are recorded together when the round ends: one write, not one each.
        // (A crash in between redelivers them with the same idempotency key, as any retry would.)
        let receipts = Receipts()
        var failure: (any Error)?
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                var iterator = due.makeIterator()
                for _ in 0..<concurrency {
                    guard let item = iterator.next() else { break }
                    group.addTask { try await attempt(item, url: url, secret: secret, settings: settings, health: health, receipts: receipts) }
                }
                while try await group.next() != nil {
                    if let item = iterator.next() {
                        group.addTask { try await attempt(item, url: url, secret: secret, settings: settings, health: health, receipts: receipts) }
                    }
                }
            }
        } catch {
            failure = error
        }
        try await store.markDelivered(receipts.accepted.withLock { $0 }, now: clock.nowMillis())
        if let failure { throw failure }
        return due.count
    }

    private func attempt(_ item: OutboxItem, url: String, secret: String?, settings: WebhookSettings, health: EndpointHealth,
                         receipts: Receipts) async throws {
        await pacer.wait(perSecond: settings.maxPerSecond)
        let body = Array(item.body.utf8)
        let now = clock.nowMillis()
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Idempotency-Key", value: item.idempotencyKey)
        request.headers.add(name: "Warden-Topic", value: item.topic)
        request.headers.add(name: "Warden-Delivery", value: String(item.id))
        request.headers.add(name: "Warden-Attempt", value: String(item.attempts + 1))
        if let secret {
            request.headers.add(name: "Warden-Signature", value: WebhookSignature.header(secret: secret, timestamp: now / 1000, body: body))
        }
        request.body = .bytes(ByteBuffer(bytes: body))
        var failure: String
        var permanent = false
        do {
            let response = try await http.execute(request, timeout: .milliseconds(settings.timeout))
            _ = try? await response.body.collect(upTo: 64 << 10)
            let status = Int(response.status.code)
            if (200..<300).contains(status) {
                health.succeeded()
                receipts.accepted.withLock { $0.append((item.id, status)) }
                delivered.increment()
                return
            }
            failure = "HTTP \(status)"
            permanent = (400..<500).contains(status) && status != 408 && status != 429
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            failure = "\(error)"
        }
        if permanent { health.succeeded() } else { health.failed(now: clock.nowMillis()) }
        let attempts = item.attempts + 1
        if permanent || attempts >= settings.maxAttempts {
            try await store.markFailed(item.id, error: failure + (permanent ? " (refused by the receiver)" : " after \(attempts) attempts"), retryAt: nil,
                                       now: clock.nowMillis())
            dead.increment()
            logger.warning("webhook delivery dead-lettered", metadata: ["delivery": "\(item.id)", "topic": "\(item.topic)", "error": "\(failure)"])
        } else {
            let delay = Self.backoff(attempt: attempts, base: settings.baseDelay, cap: settings.maxDelay, jitter: Double.random(in: 0..<1))
            try await store.markFailed(item.id, error: failure, retryAt: clock.nowMillis() + delay, now: clock.nowMillis())
            failed.increment()
        }
    }

    /// The wait before attempt `attempt + 1`: `base × 2^(attempt-1)`, capped, then scaled into
    /// [½, 1] by `jitter` (0..<1) so many failed deliveries do not retry in lockstep.
    public static func backoff(attempt: Int, base: Int64, cap: Int64, jitter: Double) -> Int64 {
        let exponential = base.multipliedReportingOverflow(by: Int64(1) << min(max(0, attempt - 1), 40))
        let capped = exponential.overflow ? cap : min(cap, exponential.partialValue)
        return Int64(Double(capped) * (0.5 + 0.5 * jitter))
    }
}

/// Whether the webhook endpoint is taking deliveries: a circuit breaker over consecutive
/// retryable failures (timeouts, connection errors, 408, 429, 5xx).
final class EndpointHealth: Sendable {
    enum Admission { case open, probe, wait }

    private struct State {
        var failures = 0
        var probeAt: Int64?
        var interval: Int64 = 1000
    }

    private let state = Mutex(State())
    private let tripAfter: Int

    init(tripAfter: Int = 10) {
        self.tripAfter = tripAfter
    }

    /// What may be sent at `now` (ms): everything, one probe, or nothing yet.
    func admission(now: Int64) -> Admission {
        state.withLock { state in
            guard let probeAt = state.probeAt else { return .open }
            guard now >= probeAt else { return .wait }
            // One probe per interval; the next waits unless this one succeeds.
            state.interval = min(30_000, state.interval * 2)
            state.probeAt = now + state.interval
            return .probe
        }
    }

    func succeeded() {
        state.withLock { $0 = State() }
    }

    func failed(now: Int64) {
        state.withLock { state in
            state.failures += 1
            if state.failures >= tripAfter, state.probeAt == nil { state.probeAt = now + state.interval }
        }
    }
}

/// Each destination's circuit breaker.
final class EndpointHealths: Sendable {
    let byDestination = Mutex<[String: EndpointHealth]>([:])
}

/// Deliveries the receiver accepted in one round, recorded together.
final class Receipts: Sendable {
    let accepted = Mutex<[(id: Int64, status: Int)]>([])
}

/// Hands out evenly spaced start times, at most `perSecond` a second: each caller waits for the
/// next free slot (a burst after a quiet spell gets no credit beyond the present).
final class Pacer: Sendable {
    private let next = Mutex<ContinuousClock.Instant?>(nil)

    func wait(perSecond: Int) async {
        let spacing = Duration.nanoseconds(1_000_000_000 / Int64(max(1, perSecond)))
        let now = ContinuousClock.now
        let slot = next.withLock { next -> ContinuousClock.Instant in
            let slot = max(now, next ?? now)
            next = slot + spacing
            return slot
        }
        if slot > now { try? await Task.sleep(until: slot, clock: .continuous) }
    }
}
