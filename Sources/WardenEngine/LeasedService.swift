import Foundation
public import Logging
public import ServiceLifecycle
public import WardenCore
public import WardenStore

/// Runs a piece of background work on one node at a time: the node that holds the lease `name`
/// runs it, renewing the lease every third of its length; the others wait and try again. When
/// the holder stops renewing (it died, or lost the database), the lease expires and the next
/// node to ask takes the work over, starting it afresh from what the store holds (a consumer from
/// its committed cursor, detection from its snapshot and the log after it). A holder that fails to
/// renew stops the work before the lease can expire, so two nodes never run it at once while both
/// can reach the database.
///
/// On the SQLite store every lease is the process's own and the work simply runs.
///
/// Time is read from `clock` (the monotonic clock in production; a test drives its own, so the
/// timing it checks does not depend on how busy the machine is).
public struct LeasedService<C: Clock>: Service where C.Duration == Duration {
    /// The work, and its lease's name.
    public let name: String
    private let work: any Service
    private let store: any LeaseStore
    private let owner: String
    private let millis: Int64
    private let logger: Logger
    private let onChange: @Sendable (Bool) -> Void
    private let clock: C

    /// `work` under the lease `name`, held by `owner` for `millis` at a time, timed by `clock`.
    public init(_ name: String, work: any Service, store: any LeaseStore, owner: String, millis: Int64 = 6_000,
                clock: C, logger: Logger, onChange: @escaping @Sendable (Bool) -> Void = { _ in }) {
        self.name = name
        self.work = work
        self.store = store
        self.owner = owner
        self.millis = millis
        self.clock = clock
        self.logger = logger
        self.onChange = onChange
    }

    private struct LeaseLost: Error {}

    public func run() async throws {
        let renewEvery = Duration.milliseconds(max(millis / 3, 1))
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let acquiredAt = clock.now
                    guard try await store.acquireLease(name, owner: owner, millis: millis) else {
                        try await clock.sleep(for: renewEvery)
                        continue
                    }
                    logger.info("took the lease; running", metadata: ["work": "\(name)", "node": "\(owner)"])
                    onChange(true)
                    defer { onChange(false) }
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask { try await work.run() }
                        group.addTask {
                            // Renew; give the work up before the lease could expire unrenewed. The
                            // lease runs from when the database took the renewal, which is after it
                            // was sent, so this node counts from the sending, on its own clock,
                            // and a renewal that hangs counts as failed once two thirds have passed.
                            var renewedAt = acquiredAt
                            let safe = Duration.milliseconds(millis * 2 / 3)
                            while !Task.isCancelled {
                                try await clock.sleep(for: renewEvery)
                                let sent = clock.now
                                do {
                                    let deadline = renewedAt.advanced(by: safe)
                                    let held = try await withThrowingTaskGroup(of: Bool?.self) { race in
                                        race.addTask { try await store.acquireLease(name, owner: owner, millis: millis) }
                                        race.addTask {
                                            try await clock.sleep(until: deadline, tolerance: nil)
                                            return nil
                                        }
                                        let first = try await race.next() ?? nil
                                        race.cancelAll()
                                        return first
                                    }
                                    guard held == true else { throw LeaseLost() }
                                    renewedAt = sent
                                } catch is LeaseLost {
                                    throw LeaseLost()
                                } catch is CancellationError {
                                    return
                                } catch {
                                    logger.warning("could not renew the lease", metadata: ["work": "\(name)", "error": "\(error)"])
                                    if renewedAt.duration(to: clock.now) > safe { throw LeaseLost() }
                                }
                            }
                        }
                        _ = try await group.next()
                        group.cancelAll()
                    }
                } catch is CancellationError {
                    break
                } catch is LeaseLost {
                    logger.warning("lost the lease; stopped", metadata: ["work": "\(name)", "node": "\(owner)"])
                } catch {
                    logger.warning("lease failed; will retry", metadata: ["work": "\(name)", "error": "\(error)"])
                    try? await clock.sleep(for: renewEvery)
                }
            }
        }
        try? await store.releaseLease(name, owner: owner)
    }
}

extension LeasedService where C == ContinuousClock {
    /// `work` under the lease `name`, held by `owner` for `millis` at a time, timed by the
    /// monotonic clock.
    public init(_ name: String, work: any Service, store: any LeaseStore, owner: String, millis: Int64 = 6_000,
                logger: Logger, onChange: @escaping @Sendable (Bool) -> Void = { _ in }) {
        self.init(name, work: work, store: store, owner: owner, millis: millis, clock: ContinuousClock(), logger: logger, onChange: onChange)
    }

    /// A name for this process among the nodes: host, process and a random part.
    public static func nodeName() -> String {
        "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier):\(UInt32.random(in: 0...UInt32.max))"
    }
}
