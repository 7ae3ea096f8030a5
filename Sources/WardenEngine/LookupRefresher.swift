public import Logging
public import ServiceLifecycle

/// On a store several nodes share, what one node changed that another holds in memory — hash banks'
/// indexes that detection matches against — is reloaded from the store on every node at an
/// interval, so a bank changed through one node's API reaches detection wherever it runs within
/// that interval. (On SQLite the process that changes a bank updates its own index at once and this
/// does not run.)
public struct LookupRefresher: Service {
    private let banks: HashBankService
    private let interval: Duration
    private let logger: Logger

    public init(banks: HashBankService, interval: Duration = .seconds(30), logger: Logger) {
        self.banks = banks
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: interval)
                    try await banks.load()
                } catch is CancellationError {
                    return
                } catch {
                    logger.warning("reloading hash banks failed; will retry", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}
