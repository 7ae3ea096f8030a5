import GRDB
import Synchronization

/// Group commit for small write transactions (claims, decisions, delivery receipts): concurrent
/// callers' work runs in one transaction, one fsync, while each caller still gets its own result
/// only after that transaction committed.
///
/// Each piece of work runs in its own savepoint, in arrival order, so it sees everything before it
/// and a piece that throws rolls back only itself; the others commit. There is no background
/// task: the first caller to arrive while no batch is running leads it, and hands the lead to the
/// oldest waiter when more arrived meanwhile (as intake's group commit does).
final class WriteBatcher: Sendable {
    private struct Job {
        var run: @Sendable (Database) -> Void
        var fail: @Sendable (any Error) -> Void
        var continuation: CheckedContinuation<Bool, Never>
    }

    private struct State {
        var pending: [Job] = []
        var leaderActive = false
    }

    private let state = Mutex(State())
    private let pool: DatabasePool

    init(pool: DatabasePool) {
        self.pool = pool
    }

    /// Runs `work` in a savepoint of the next batch's transaction and returns its result once the
    /// batch committed.
    func write<T: Sendable>(_ work: @escaping @Sendable (Database) throws -> T) async throws -> T {
        let box = ResultBox<T>()
        let lead = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let job = Job(
                run: { db in
                    do {
                        var value: T?
                        try db.inSavepoint {
                            value = try work(db)
                            return .commit
                        }
                        box.set(.success(value!))
                    } catch {
                        box.set(.failure(error))
                    }
                },
                fail: { error in box.set(.failure(error)) },
                continuation: continuation)
            let lead = state.withLock { state -> Bool in
                state.pending.append(job)
                guard !state.leaderActive else { return false }
                state.leaderActive = true
                return true
            }
            if lead { continuation.resume(returning: true) }
        }
        if lead { await leadBatch() }
        guard let outcome = box.get() else { throw StoreError.inconsistent("a batched write finished without a result") }
        return try outcome.get()
    }

    /// Takes every pending job, runs them in one transaction, wakes their callers, passes the lead.
    private func leadBatch() async {
        let jobs = state.withLock { state in
            defer { state.pending.removeAll() }
            return state.pending
        }
        do {
            try await pool.write { db in
                for job in jobs { job.run(db) }
            }
        } catch {
            for job in jobs { job.fail(error) }
        }
        // The leader is the first job; it returns by itself. Wake the rest, then hand over.
        for job in jobs.dropFirst() { job.continuation.resume(returning: false) }
        let next = state.withLock { state -> Job? in
            guard let next = state.pending.first else {
                state.leaderActive = false
                return nil
            }
            return next
        }
        next?.continuation.resume(returning: true)
    }
}

/// A result slot shared between a caller and the batch that fills it.
private final class ResultBox<T: Sendable>: Sendable {
    private let slot = Mutex<Result<T, any Error>?>(nil)

    func set(_ result: Result<T, any Error>) { slot.withLock { $0 = result } }
    func get() -> Result<T, any Error>? { slot.withLock { $0 } }
}
